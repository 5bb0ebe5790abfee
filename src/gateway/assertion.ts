// The signed identity assertion the upstream receives as X-Roomguard-Assertion: a short-lived ES256 JWT
// over the same facts as the plain identity headers, verifiable with the keys at /_roomguard/jwks.json.
import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { SignJWT, exportJWK, calculateJwkThumbprint, type JWK } from 'jose';

export const ASSERTION_TTL_S = 60;
/**
 * A signed assertion is handed out again for the same facts while this much of its lifetime remains at
 * most used (ES256 signing was a tenth of a proxied request's CPU). Its `jti` therefore names the
 * statement, not the request: upstreams must not treat it as a one-time token.
 */
export const ASSERTION_REUSE_S = 20;
const CACHED_ASSERTIONS = 10_000;

/** Whether an assertion signed at second `iat` may still be handed out at `now` (ms). */
export function isFresh(iat: number, now: number): boolean {
  const second = Math.floor(now / 1000);
  return second >= iat && second - iat < ASSERTION_REUSE_S;
}

export interface AssertionClaims {
  sub: string;
  iss: string;
  email?: string;
  name?: string;
  groups: string[];
  room?: string;
  role?: string;
}

export class AssertionSigner {
  readonly #key: KeyObject;
  readonly issuer: string;
  readonly audience: string;
  #kid = '';
  #jwks: { keys: JWK[] } = { keys: [] };
  readonly #recent = new LRUCache<string, { token: Promise<string>; iat: number }>({ max: CACHED_ASSERTIONS });

  private constructor(key: KeyObject, issuer: string, audience: string) {
    this.#key = key;
    this.issuer = issuer;
    this.audience = audience;
  }

  static async create(pem: string, issuer: string, audience: string): Promise<AssertionSigner> {
    const signer = new AssertionSigner(createPrivateKey(pem), issuer, audience);
    const jwk = await exportJWK(createPublicKey(signer.#key));
    signer.#kid = await calculateJwkThumbprint(jwk);
    signer.#jwks = { keys: [{ ...jwk, kid: signer.#kid, alg: 'ES256', use: 'sig' }] };
    return signer;
  }

  get jwks(): { keys: JWK[] } {
    return this.#jwks;
  }

  /** An assertion of these facts, signed now or in the last ASSERTION_REUSE_S seconds. */
  sign(claims: AssertionClaims, now = Date.now()): Promise<string> {
    return this.signed(claims, now).token;
  }

  /** Like sign(), with the second it was signed at (`iat`): a copy may be kept until `isFresh(iat)` says no. */
  signed(claims: AssertionClaims, now = Date.now()): { token: Promise<string>; iat: number } {
    const iat = Math.floor(now / 1000);
    const key = JSON.stringify([claims.sub, claims.iss, claims.email, claims.name, claims.groups, claims.room, claims.role]);
    const cached = this.#recent.get(key);
    if (cached && isFresh(cached.iat, now)) return cached;
    const entry = { token: this.#signNew(claims, iat), iat };
    this.#recent.set(key, entry);
    entry.token.catch(() => {
      if (this.#recent.peek(key) === entry) this.#recent.delete(key);
    });
    return entry;
  }

  #signNew(claims: AssertionClaims, iat: number): Promise<string> {
    const { sub, iss, ...rest } = claims;
    return new SignJWT({ ...rest, idp: iss })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: this.#kid })
      .setIssuer(this.issuer)
      .setAudience(this.audience)
      .setSubject(sub)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ASSERTION_TTL_S)
      .setJti(randomBytes(12).toString('base64url'))
      .sign(this.#key);
  }
}
