// What each identity provider organisations run puts where in its ID token and userinfo, and how its group
// values become the names policies use (`oidc.profile`). Facts about the IdPs, written down once; the
// claim mapping (claims.ts) applies them, and `oidc.claims.*` set by the admin always win over them.
// docs/idp/<profile>.md explains, per IdP, the client settings these defaults assume.

import { IDP_PROFILES } from '../config/schema.js';

export { IDP_PROFILES };
export type IdpProfile = (typeof IDP_PROFILES)[number];

/** Where one IdP keeps the attributes roomguard reads. Paths are tried in order (email, name) or all read (groups). */
export interface ProfileShape {
  email: readonly string[];
  name: readonly string[];
  groups: readonly string[];
  /** Whether its userinfo endpoint adds anything roomguard reads (AD FS: only `sub`). */
  userinfo: boolean;
  /** One group value as this IdP sends it, as a policy names it. */
  normaliseGroup(value: string): string;
}

const asSent = (value: string): string => value;
/** Keycloak's group-membership mapper sends full paths by default: `/staff`, `/org/staff` are `staff`, `org/staff`. */
const withoutLeadingSlash = (value: string): string => (value.startsWith('/') && value.length > 1 ? value.slice(1) : value);

export const PROFILES: Readonly<Record<IdpProfile, ProfileShape>> = {
  generic: { email: ['email'], name: ['name'], groups: ['groups'], userinfo: true, normaliseGroup: asSent },
  // Group Membership mapper (claim `groups`, "Full group path" on by default); realm roles are not groups.
  keycloak: { email: ['email'], name: ['name', 'preferred_username'], groups: ['groups'], userinfo: true, normaliseGroup: withoutLeadingSlash },
  // `groups` holds group object ids (mapped to names by `oidc.groupNames`); app roles arrive in `roles`.
  // No `email_verified`: Entra's `email` is not a verified address, so e-mail rules never match it.
  entra: { email: ['email'], name: ['name', 'preferred_username'], groups: ['groups', 'roles'], userinfo: true, normaliseGroup: asSent },
  // The default `profile` scope mapping sends group names in `groups`; `email_verified` is false unless a custom mapping says otherwise.
  authentik: { email: ['email'], name: ['name', 'preferred_username'], groups: ['groups'], userinfo: true, normaliseGroup: asSent },
  // Nextcloud's OpenID Connect Provider app: `groups` scope (group ids, or display names by its setting), `roles` the same list.
  nextcloud: { email: ['email'], name: ['name', 'preferred_username'], groups: ['groups', 'roles'], userinfo: true, normaliseGroup: asSent },
  // UCS ships Keycloak (realm `ucs`) with the directory's users and groups: Keycloak's shapes, `uid` as the login name.
  ucs: { email: ['email'], name: ['name', 'uid', 'preferred_username'], groups: ['groups'], userinfo: true, normaliseGroup: withoutLeadingSlash },
  // AD FS issues claims by its transform rules into the ID token (scope `allatclaims`); its userinfo answers only `sub`.
  // Group claim type http://schemas.xmlsoap.org/claims/Group arrives as `group`, roles as `role` (a string when there is one).
  adfs: { email: ['email', 'upn'], name: ['name', 'unique_name', 'upn'], groups: ['group', 'role'], userinfo: false, normaliseGroup: asSent },
};

/** The paths an admin set (`oidc.claims.*`); unset ones come from the profile. */
export interface ClaimOverrides {
  email?: string | undefined;
  name?: string | undefined;
  groups?: string | undefined;
}

/** How to read claims for one deployment: the profile's paths with the admin's overrides, and the group name table. */
export interface ClaimMapping {
  email: readonly string[];
  name: readonly string[];
  groups: readonly string[];
  normaliseGroup(value: string): string;
  /** Group values (after normalisation) renamed for policies: Entra object ids → names. */
  groupNames: ReadonlyMap<string, string>;
  /** `oidc.trustEmail`: every address the IdP sends counts as verified, from any claim. */
  trustEmail?: boolean;
}

export function claimMapping(profile: IdpProfile, overrides: ClaimOverrides = {}, groupNames: ReadonlyMap<string, string> = new Map(), trustEmail = false): ClaimMapping {
  const shape = PROFILES[profile];
  return {
    email: overrides.email !== undefined ? [overrides.email] : shape.email,
    name: overrides.name !== undefined ? [overrides.name] : shape.name,
    groups: overrides.groups !== undefined ? [overrides.groups] : shape.groups,
    normaliseGroup: shape.normaliseGroup,
    groupNames,
    trustEmail,
  };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A group value as the name table keys it: GUIDs (Entra object ids) in lower case, anything else as it is. */
export function groupKey(value: string): string {
  const trimmed = value.trim();
  const bare = trimmed.startsWith('{') && trimmed.endsWith('}') ? trimmed.slice(1, -1) : trimmed;
  return GUID.test(bare) ? bare.toLowerCase() : value;
}

/** `oidc.groupNames` entries (`<value>=<name>`) as a table; the config check has already refused malformed ones. */
export function groupNameTable(entries: readonly string[]): Map<string, string> {
  const table = new Map<string, string>();
  for (const entry of entries) {
    const at = entry.indexOf('=');
    if (at > 0 && at < entry.length - 1) table.set(groupKey(entry.slice(0, at).trim()), entry.slice(at + 1).trim());
  }
  return table;
}

/** A validated `oidc.profile` value. */
export function profileNamed(name: string): IdpProfile {
  if (!(IDP_PROFILES as readonly string[]).includes(name)) throw new TypeError(`unknown IdP profile ${name}`);
  return name as IdpProfile;
}
