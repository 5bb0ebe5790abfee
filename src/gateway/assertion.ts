// The signed identity assertion the upstream receives as X-Roomguard-Assertion: a short-lived ES256 JWT
// over the same facts as the plain identity headers, verifiable with the keys at /_roomguard/jwks.json.
import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { SignJWT, exportJWK, calculateJwkThumbprint, type JWK } from 'jose';

export const ASSERTION_TTL_S = 60;
/**
 * A signed assertion is handed out again for the same facts while this much of its lifetime remains at
 * most used (ES256 signing was a tenth of a proxied request's CPU). Its `jti` therefore names the
 * statement, not the request: upstreams must not treat it as a one-time token.
 */
export const ASSERTION_REUSE_S = 20;
const CACHED_ASSERTIONS = 10_000;

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
  readonly #recent = new Map<string, { token: Promise<string>; iat: number }>();

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
    const iat = Math.floor(now / 1000);
    const key = JSON.stringify([claims.sub, claims.iss, claims.email, claims.name, claims.groups, claims.room, claims.role]);
    const cached = this.#recent.get(key);
    if (cached && iat >= cached.iat && iat - cached.iat < ASSERTION_REUSE_S) return cached.token;
    const token = this.#signNew(claims, iat);
    this.#recent.delete(key);
    this.#recent.set(key, { token, iat });
    token.catch(() => this.#recent.delete(key));
    if (this.#recent.size > CACHED_ASSERTIONS) this.#recent.delete(this.#recent.keys().next().value!);
    return token;
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
