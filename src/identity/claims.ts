// Maps ID-token / userinfo claims to an Identity using the configured claim paths (e.g. realm_access.roles)
// and the IdP profile's group normalisation (profiles.ts).
import type { Identity } from '../identity/types.js';
import { claimMapping, type ClaimMapping } from './profiles.js';

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
  for (const path of paths) {
    const value = claimAt(claims, path);
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

/** One group as the IdP sent it and as policies see it. */
export interface GroupReading {
  sent: string;
  group: string;
}

/** Every group value under the mapping's paths (an array, or one string), normalised and renamed; duplicates once. */
export function readGroups(claims: Record<string, unknown>, paths: ClaimPaths | ClaimMapping): GroupReading[] {
  const mapping = mappingOf(paths);
  const out: GroupReading[] = [];
  const seen = new Set<string>();
  for (const path of mapping.groups) {
    const raw = claimAt(claims, path);
    for (const sent of Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : []) {
      if (typeof sent !== 'string' || sent === '' || sent.length > 256) continue;
      const normal = mapping.normaliseGroup(sent);
      const group = mapping.groupNames.get(normal) ?? normal;
      if (seen.has(group) || out.length >= MAX_GROUPS) continue;
      seen.add(group);
      out.push({ sent, group });
    }
  }
  return out;
}

export function identityFromClaims(claims: Record<string, unknown>, paths: ClaimPaths | ClaimMapping): Identity {
  const mapping = mappingOf(paths);
  const sub = claims.sub;
  const iss = claims.iss;
  if (typeof sub !== 'string' || sub === '' || typeof iss !== 'string') throw new TypeError('ID token lacks sub or iss');
  const email = firstString(claims, mapping.email);
  const name = firstString(claims, mapping.name);
  const identity: Identity = {
    sub,
    iss,
    // An address the IdP marks unverified must not satisfy e-mail or domain rules.
    // Only an address the IdP says it verified (true, or "true" from IdPs that send strings) may satisfy
    // e-mail and domain rules; a missing claim counts as unverified.
    emailVerified: typeof email === 'string' && (claims.email_verified === true || claims.email_verified === 'true'),
    groups: readGroups(claims, mapping).map((g) => g.group),
  };
  if (typeof email === 'string' && email.includes('@') && email.length <= 320) identity.email = email.toLowerCase();
  else identity.emailVerified = false;
  if (typeof name === 'string' && name !== '') identity.name = name.slice(0, 200);
  return identity;
}
