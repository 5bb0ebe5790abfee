// BigBlueButton API calls as bbb-web checks them (docs/bbb.md): checksum =
// hex(H(callName + queryString + secret)) over the exact query bytes sent, H chosen by the checksum's
// length (SHA-1/256/384/512). We build the query once, sign those bytes, and never re-encode after.
import { createHash } from 'node:crypto';

export type ChecksumAlgorithm = 'sha1' | 'sha256' | 'sha384' | 'sha512';
export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ['sha1', 'sha256', 'sha384', 'sha512'];

export function bbbChecksum(call: string, query: string, secret: string, algorithm: ChecksumAlgorithm): string {
  return createHash(algorithm).update(call + query + secret).digest('hex');
}

/**
 * Percent-encodes like encodeURIComponent, plus the characters it leaves alone that BBB's servlet decodes
 * differently. Cannot throw: a lone surrogate (which encodeURIComponent refuses) becomes U+FFFD first.
 */
export function encode(value: string): string {
  return encodeURIComponent((value as unknown as { toWellFormed(): string }).toWellFormed()).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The query string for `call` with its checksum appended: these exact bytes go on the wire. */
export function signedQuery(call: string, params: ReadonlyArray<readonly [string, string]>, secret: string, algorithm: ChecksumAlgorithm): string {
  const query = params.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&');
  return `${query}&checksum=${bbbChecksum(call, query, secret, algorithm)}`;
}
