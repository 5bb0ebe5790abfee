// A started login (PKCE verifier, nonce, state, where to return) lives in the browser that started it,
// sealed, until the callback: so a login start — which anyone may send, as often as they like, without
// a session — writes nothing to the shared store, and no number of them can fill it. The cookie holds
// the few newest pending logins of that browser (several tabs may sign in at once), as a JWE (`dir`,
// A256GCM; jose) under a key derived from secrets.encryptionKey: the browser can neither read the
// verifier nor change or forge an entry. Being a cookie of that browser is what binds a login to it
// (login CSRF): a callback link sent to someone else finds no pending login there.
import { hkdfSync } from 'node:crypto';
import { CompactEncrypt, compactDecrypt } from 'jose';

export interface PendingLogin {
  state: string;
  codeVerifier: string;
  nonce: string;
  returnTo: string;
  /** OIDC max_age sent with this login, in seconds (fresh login for enrolment). */
  maxAge?: number;
  /** When this pending login expires (ms since the epoch; oidc.loginTimeout after its start). */
  expiresAt: number;
}

/** Pending logins one browser keeps at most (the newest; older ones fail at their callback). */
export const MAX_PENDING_LOGINS = 5;
/**
 * The sealed value stays below this many characters: browsers keep a cookie of at most 4096 bytes with
 * its name and attributes. One login with the longest returnTo (2048) fits on its own.
 */
export const MAX_SEALED_LENGTH = 3700;

const TYPE = 'roomguard-pending-logins+jwe';
const KEY_INFO = 'roomguard pending logins v1';

/** The stored form: short field names, so more pending logins fit into one cookie. */
interface Sealed {
  s: string;
  v: string;
  n: string;
  r: string;
  m?: number;
  e: number;
}

export class PendingLoginSeal {
  readonly #key: Uint8Array;
  /** Keys that still open cookies sealed before a rotation of secrets.encryptionKey. */
  readonly #previous: Uint8Array[];
  readonly #now: () => number;

  constructor(encryptionKey: Buffer, previousKeys: Buffer[] = [], now: () => number = Date.now) {
    this.#key = derive(encryptionKey);
    this.#previous = previousKeys.map(derive);
    this.#now = now;
  }

  /**
   * Seals `logins` (newest first) for the cookie: those expired are left out, then the oldest until at
   * most MAX_PENDING_LOGINS remain and the value fits MAX_SEALED_LENGTH. The newest is always kept.
   */
  async seal(logins: PendingLogin[]): Promise<string> {
    const now = this.#now();
    let kept = logins.filter((login) => login.expiresAt > now).slice(0, MAX_PENDING_LOGINS);
    for (;;) {
      const sealed = await this.#encrypt(kept);
      if (sealed.length <= MAX_SEALED_LENGTH || kept.length <= 1) return sealed;
      kept = kept.slice(0, -1);
    }
  }

  /** The live pending logins in a cookie value; none for an absent, expired, tampered or foreign one. */
  async open(value: string | undefined): Promise<PendingLogin[]> {
    if (!value || value.length > MAX_SEALED_LENGTH) return [];
    for (const key of [this.#key, ...this.#previous]) {
      const logins = await this.#decrypt(value, key);
      if (logins) {
        const now = this.#now();
        return logins.filter((login) => login.expiresAt > now);
      }
    }
    return [];
  }

  async #encrypt(logins: PendingLogin[]): Promise<string> {
    const body: Sealed[] = logins.map((l) => ({ s: l.state, v: l.codeVerifier, n: l.nonce, r: l.returnTo, ...(l.maxAge !== undefined ? { m: l.maxAge } : {}), e: l.expiresAt }));
    return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(body)))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', typ: TYPE })
      .encrypt(this.#key);
  }

  async #decrypt(value: string, key: Uint8Array): Promise<PendingLogin[] | undefined> {
    let plaintext: Uint8Array;
    try {
      const opened = await compactDecrypt(value, key, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
      if (opened.protectedHeader.typ !== TYPE) return undefined;
      plaintext = opened.plaintext;
    } catch {
      return undefined;
    }
    return parseSealed(new TextDecoder().decode(plaintext));
  }
}

/** The logins of a decrypted cookie; undefined when its shape is not ours (never trusted half-way). */
function parseSealed(text: string): PendingLogin[] | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(body)) return undefined;
  const logins: PendingLogin[] = [];
  for (const entry of body as Array<Partial<Sealed>>) {
    if (typeof entry !== 'object' || entry === null) return undefined;
    const { s, v, n, r, m, e } = entry;
    if (typeof s !== 'string' || typeof v !== 'string' || typeof n !== 'string' || typeof r !== 'string' || typeof e !== 'number' || (m !== undefined && typeof m !== 'number')) return undefined;
    logins.push({ state: s, codeVerifier: v, nonce: n, returnTo: r, ...(m !== undefined ? { maxAge: m } : {}), expiresAt: e });
  }
  return logins;
}

function derive(key: Buffer): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', key, Buffer.alloc(0), KEY_INFO, 32));
}
