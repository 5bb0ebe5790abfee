// Data minimisation for audit records (security requirements I.62, I.64, I.71): client addresses are
// truncated to /24 and /48 or replaced by a keyed hash; identities can be replaced by a keyed pseudonym.
import { createHmac, createPrivateKey, hkdfSync } from 'node:crypto';
import { isIP } from 'node:net';

export type IpMode = 'truncate' | 'hmac' | 'full' | 'none';
export type IdentityMode = 'clear' | 'pseudonymous' | 'erasable';

export const PSEUDONYM_INFO = 'roomguard audit pseudonym v1';

/** Parses an IPv6 address (with optional zone and embedded IPv4) into eight 16-bit groups. */
function ipv6Groups(text: string): number[] | undefined {
  const address = text.split('%')[0]!;
  if (isIP(address) !== 6) return undefined;
  let head = address;
  const tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (v4) {
    const parts = v4[1]!.split('.').map(Number);
    tail.push((parts[0]! << 8) | parts[1]!, (parts[2]! << 8) | parts[3]!);
    head = address.slice(0, -v4[1]!.length);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const [left, right] = head.includes('::') ? head.split('::') as [string, string] : [head, undefined];
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const l = parse(left);
  const r = right === undefined ? [] : parse(right);
  const missing = 8 - l.length - r.length - tail.length;
  if (missing < 0 || (right === undefined && missing !== 0)) return undefined;
  return [...l, ...new Array<number>(missing).fill(0), ...r, ...tail];
}

/**
 * The address in one canonical spelling: IPv4 dotted, IPv4-mapped IPv6 as plain IPv4, other IPv6
 * as eight lowercase groups with `::` compression. Undefined when the text is not an IP address.
 */
export function canonicalIp(text: string): { family: 4; octets: number[] } | { family: 6; groups: number[] } | undefined {
  const trimmed = text.trim();
  if (isIP(trimmed) === 4) return { family: 4, octets: trimmed.split('.').map(Number) };
  const groups = ipv6Groups(trimmed.replace(/^\[|\]$/g, ''));
  if (!groups) return undefined;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return { family: 4, octets: [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff] };
  }
  return { family: 6, groups };
}

function formatV6(groups: number[]): string {
  // Compress the longest run of at least two zero groups (RFC 5952).
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

export function formatIp(ip: NonNullable<ReturnType<typeof canonicalIp>>): string {
  return ip.family === 4 ? ip.octets.join('.') : formatV6(ip.groups);
}

/** IPv4 to its /24 network, IPv6 to its /48 (IPv4-mapped IPv6 counts as IPv4); undefined for non-addresses. */
export function truncateIp(text: string): string | undefined {
  const ip = canonicalIp(text);
  if (!ip) return undefined;
  if (ip.family === 4) return `${ip.octets.slice(0, 3).join('.')}.0/24`;
  return `${formatV6([...ip.groups.slice(0, 3), 0, 0, 0, 0, 0])}/48`;
}

/** HMAC-SHA-256 of the canonical address under the day's key, 32 hex digits (128 bits). */
export function hmacIp(text: string, dayKey: Buffer): string | undefined {
  const ip = canonicalIp(text);
  if (!ip) return undefined;
  return createHmac('sha256', dayKey).update(formatIp(ip)).digest('hex').slice(0, 32);
}

/** The client address as the configured mode allows it to be recorded. */
export function recordableIp(text: string, mode: IpMode, dayKey: Buffer | undefined): string | undefined {
  switch (mode) {
    case 'none':
      return undefined;
    case 'truncate':
      return truncateIp(text);
    case 'full': {
      const ip = canonicalIp(text);
      return ip ? formatIp(ip) : undefined;
    }
    case 'hmac':
      if (!dayKey) throw new Error('audit.ip hmac needs the day key');
      return hmacIp(text, dayKey);
  }
}

/** The pseudonym key: HKDF-SHA-256 over the Ed25519 seed of the audit signing key. */
export function pseudonymKey(signingKeyPem: string): Buffer {
  const jwk = createPrivateKey(signingKeyPem).export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.d !== 'string') throw new TypeError('the audit signing key must be an Ed25519 private key');
  return Buffer.from(hkdfSync('sha256', Buffer.from(jwk.d, 'base64url'), Buffer.alloc(0), PSEUDONYM_INFO, 32));
}

/** HMAC-SHA-256(key, iss + "\n" + sub), hex: the same person gets the same pseudonym while the key stays. */
export function pseudonymOf(key: Buffer, iss: string, sub: string): string {
  return createHmac('sha256', key).update(`${iss}\n${sub}`).digest('hex');
}
