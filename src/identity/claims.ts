// Maps ID-token / userinfo claims to an Identity using the configured claim paths (e.g. realm_access.roles).
import type { Identity } from '../identity/types.js';

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

export function identityFromClaims(claims: Record<string, unknown>, paths: ClaimPaths): Identity {
  const sub = claims.sub;
  const iss = claims.iss;
  if (typeof sub !== 'string' || sub === '' || typeof iss !== 'string') throw new TypeError('ID token lacks sub or iss');
  const email = claimAt(claims, paths.email);
  const name = claimAt(claims, paths.name);
  const rawGroups = claimAt(claims, paths.groups);
  const groups = (Array.isArray(rawGroups) ? rawGroups : typeof rawGroups === 'string' ? [rawGroups] : [])
    .filter((g): g is string => typeof g === 'string' && g !== '' && g.length <= 256)
    .slice(0, MAX_GROUPS);
  const identity: Identity = {
    sub,
    iss,
    // An address the IdP marks unverified must not satisfy e-mail or domain rules.
    // Only an address the IdP says it verified (true, or "true" from IdPs that send strings) may satisfy
    // e-mail and domain rules; a missing claim counts as unverified.
    emailVerified: typeof email === 'string' && (claims.email_verified === true || claims.email_verified === 'true'),
    groups: [...new Set(groups)],
  };
  if (typeof email === 'string' && email.includes('@') && email.length <= 320) identity.email = email.toLowerCase();
  else identity.emailVerified = false;
  if (typeof name === 'string' && name !== '') identity.name = name.slice(0, 200);
  return identity;
}
