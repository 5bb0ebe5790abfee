// Headers the upstream may trust because only roomguard sets them (DESIGN invariant 6): every incoming
// X-Roomguard-* header is removed first, then roomguard adds its own. Values are UTF-8 with every byte
// outside printable ASCII (and % and ,) percent-encoded, so names and groups survive HTTP intact.

export const IDENTITY_HEADER_PREFIX = 'x-roomguard-';

export interface IdentityFacts {
  sub: string;
  email?: string;
  name?: string;
  groups: string[];
  room?: string;
  role?: string;
  assertion: string;
}

/** Printable ASCII without `%` and `,`: already header-safe (most names and addresses). */
const ALREADY_SAFE = /^[\x20-\x24\x26-\x2b\x2d-\x7e]*$/;

export function headerSafe(value: string): string {
  if (ALREADY_SAFE.test(value)) return value;
  return Array.from(value)
    .map((ch) => (/^[\x20-\x7e]$/.test(ch) && ch !== '%' && ch !== ',' ? ch : encodeURIComponent(ch).replace(/[,!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)))
    .join('');
}

/** Headers some upstream stacks trust for the client's address or the original URL: roomguard sets or drops them. */
const PROXY_HEADERS = new Set(['x-original-url', 'x-rewrite-url', 'x-original-uri', 'x-real-ip', 'forwarded', 'remote-user', 'x-remote-user', 'x-forwarded-user', 'x-forwarded-email']);

/**
 * Whether a client might use this request header to impersonate roomguard or a proxy in front of the
 * upstream, so it never reaches the upstream: X-Roomguard-* in any case and also with `_` for `-`
 * (CGI/WSGI map both to the same variable), all X-Forwarded-* (roomguard sets its own), and
 * URL/address/user headers.
 */
export function isSpoofable(name: string): boolean {
  const lower = name.toLowerCase();
  const normal = lower.includes('_') ? lower.replace(/_/g, '-') : lower;
  return normal.startsWith(IDENTITY_HEADER_PREFIX) || normal.startsWith('x-forwarded-') || PROXY_HEADERS.has(normal);
}

/** Removes roomguard's own cookies from a Cookie header so the upstream never sees the session id. */
export function stripOwnCookies(cookieHeader: string | undefined, ownNames: readonly string[]): string | undefined {
  if (!cookieHeader) return undefined;
  const kept = cookieHeader
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '' && !ownNames.includes(part.slice(0, Math.max(0, part.indexOf('=')))));
  return kept.length > 0 ? kept.join('; ') : undefined;
}

export function identityHeaders(facts: IdentityFacts): Record<string, string> {
  const out: Record<string, string> = {
    'x-roomguard-user': headerSafe(facts.sub),
    'x-roomguard-groups': facts.groups.map(headerSafe).join(','),
    'x-roomguard-assertion': facts.assertion,
  };
  if (facts.email) out['x-roomguard-email'] = headerSafe(facts.email);
  if (facts.name) out['x-roomguard-name'] = headerSafe(facts.name);
  if (facts.room) out['x-roomguard-room'] = facts.room;
  if (facts.role) out['x-roomguard-role'] = facts.role;
  return out;
}
