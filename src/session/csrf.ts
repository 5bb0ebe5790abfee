// CSRF tokens of roomguard's own forms: an HMAC of the session's hash under a key derived from
// secrets.encryptionKey, so a token is bound to one session and nothing needs storing; a state-changing
// request must carry it and, where the browser names one, come from roomguard's own origin.
import { createHmac, timingSafeEqual } from 'node:crypto';

export class CsrfTokens {
  readonly #key: Buffer;
  readonly #origin: string;

  constructor(key: Buffer, origin: string) {
    this.#key = key;
    this.#origin = origin;
  }

  token(session: { hash: string }): string {
    return createHmac('sha256', this.#key).update(session.hash).digest('base64url');
  }

  /** The session's token, compared in constant time; and no foreign Origin header. */
  valid(request: { headers: { origin?: string | undefined } }, session: { hash: string }, token: unknown): boolean {
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== this.#origin) return false;
    if (typeof token !== 'string') return false;
    const expected = Buffer.from(this.token(session));
    const given = Buffer.from(token);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}
