// Maps ID-token / userinfo claims to an Identity using the configured claim paths (e.g. realm_access.roles)
// and the IdP profile's group normalisation (profiles.ts).
import type { Identity } from '../identity/types.js';
import { claimMapping, groupKey, type ClaimMapping } from './profiles.js';

export interface ClaimPaths {
  email: string;
  name: string;
  groups: string;
}

export function claimAt(claims: Record<string, unknown>, path: string): unknown {
  // A literal key containing dots (e.g. "https://example.org/groups") wins over a nested path.
  if (path in claims) return claims[path];
  let current: unknown = claims;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

const MAX_GROUPS = 1000;

/** Plain paths (one each) read as the generic profile does. */
function mappingOf(paths: ClaimPaths | ClaimMapping): ClaimMapping {
  if (typeof paths.email !== 'string') return paths as ClaimMapping;
  const plain = paths as ClaimPaths;
  return claimMapping('generic', plain);
}

function firstString(claims: Record<string, unknown>, paths: readonly string[]): string | undefined {
  return firstStringAt(claims, paths)?.value;
}

/** The first non-empty string under `paths`, and the path it came from. */
function firstStringAt(claims: Record<string, unknown>, paths: readonly string[]): { path: string; value: string } | undefined {
  for (const path of paths) {
    const value = claimAt(claims, path);
    if (typeof value === 'string' && value !== '') return { path, value: wellFormed(value) };
  }
  return undefined;
}

/**
 * Whether the address counts as verified: `email_verified` speaks only of the `email` claim (true, or
 * "true" from IdPs that send strings); an address from another claim (AD FS `upn`, an `oidc.claims.email`
 * override) only under `oidc.trustEmail`. A missing `email_verified` counts as unverified.
 */
function emailIsVerified(claims: Record<string, unknown>, from: string, mapping: ClaimMapping): boolean {
  const said = from === 'email' ? claims.email_verified : undefined;
  // Under oidc.trustEmail an IdP's explicit "not verified" for its `email` claim still holds.
  if (mapping.trustEmail === true) return said !== false && said !== 'false';
  return said === true || said === 'true';
}

/** One group as the IdP sent it and as policies see it. */
export interface GroupReading {
  sent: string;
  group: string;
}

/** Every group value under the mapping's paths (an array, or one string), normalised and renamed; duplicates once. */
export function readGroups(claims: Record<string, unknown>, paths: ClaimPaths | ClaimMapping): GroupReading[] {
  return readGroupList(claims, paths).groups;
}

/**
 * The groups and whether the list is the whole membership. It is not when a value was dropped (too long,
 * past MAX_GROUPS) or the IdP says it left groups out (Entra's overage: `_claim_names.groups` or
 * `hasgroups` instead of the list). Deny rules naming groups then match (fail closed, decide.ts).
 */
export function readGroupList(claims: Record<string, unknown>, paths: ClaimPaths | ClaimMapping): { groups: GroupReading[]; incomplete: boolean } {
  const mapping = mappingOf(paths);
  const out: GroupReading[] = [];
  const seen = new Set<string>();
  let incomplete = groupsOverage(claims);
  for (const path of mapping.groups) {
    const raw = claimAt(claims, path);
    for (const value of Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : []) {
      if (typeof value !== 'string' || value === '') continue;
      const sent = wellFormed(value);
      if ([...sent].length > 256) { incomplete = true; continue; }
      const normal = mapping.normaliseGroup(sent);
      const group = lookupGroupName(mapping.groupNames, normal) ?? normal;
      if (seen.has(group)) continue;
      if (out.length >= MAX_GROUPS) { incomplete = true; continue; }
      seen.add(group);
      out.push({ sent, group });
    }
  }
  return { groups: out, incomplete };
}

/** Entra's group overage: too many groups for the token, so it names a source instead of the list. */
function groupsOverage(claims: Record<string, unknown>): boolean {
  const names = claims._claim_names;
  if (names !== null && typeof names === 'object' && !Array.isArray(names) && Object.hasOwn(names, 'groups')) return true;
  return claims.hasgroups === true || claims.hasgroups === 'true';
}

function lookupGroupName(table: ReadonlyMap<string, string>, value: string): string | undefined {
  return table.get(value) ?? table.get(groupKey(value));
}

/** The string with each lone UTF-16 surrogate replaced by U+FFFD (String.prototype.toWellFormed, Node 20+). */
export function wellFormed(value: string): string {
  return (value as unknown as { toWellFormed(): string }).toWellFormed();
}

/** A claim's text as roomguard keeps it: lone surrogates replaced (U+FFFD), at most `max` code points. */
export function cleanText(value: string, max: number): string {
  const clean = wellFormed(value);
  return clean.length <= max ? clean : Array.from(clean).slice(0, max).join('');
}

/**
 * The userinfo answer merged under the ID token's claims: the ID token wins, also over a userinfo key that
 * spells one of its paths with dots (`"realm_access.roles"` against the token's nested `realm_access`,
 * which claimAt would otherwise read first), and `email_verified` speaks of the ID token's `email` when
 * the token carries one.
 */
export function mergeClaims(userinfo: Record<string, unknown>, idToken: Record<string, unknown>): Record<string, unknown> {
  const kept = Object.entries(userinfo).filter(([key]) => {
    if (Object.hasOwn(idToken, key)) return false;
    if (key === 'email_verified' && Object.hasOwn(idToken, 'email')) return false;
    return !(key.includes('.') && Object.hasOwn(idToken, key.slice(0, key.indexOf('.'))));
  });
  return Object.fromEntries([...kept, ...Object.entries(idToken)]);
}

export function identityFromClaims(claims: Record<string, unknown>, paths: ClaimPaths | ClaimMapping): Identity {
  const mapping = mappingOf(paths);
  const sub = claims.sub;
  const iss = claims.iss;
  if (typeof sub !== 'string' || sub === '' || typeof iss !== 'string') throw new TypeError('ID token lacks sub or iss');
  const found = firstStringAt(claims, mapping.email);
  const email = found?.value;
  const name = firstString(claims, mapping.name);
  const groups = readGroupList(claims, mapping);
  const identity: Identity = {
    sub,
    iss,
    // Only a verified address may satisfy e-mail and domain rules or reach the upstream.
    emailVerified: found !== undefined && emailIsVerified(claims, found.path, mapping),
    groups: groups.groups.map((g) => g.group),
    ...(groups.incomplete ? { groupsIncomplete: true as const } : {}),
  };
  if (typeof email === 'string' && email.includes('@') && email.length <= 320) identity.email = email.toLowerCase();
  else identity.emailVerified = false;
  if (typeof name === 'string' && name !== '') identity.name = cleanText(name, 200);
  return identity;
}
