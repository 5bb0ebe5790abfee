// Per-person pseudonym keys for `audit.identity: erasable` (crypto-shredding, GDPR Art. 17). Each person
// gets a random key kept in the shared store, never in the log; their records carry HMAC(key, sub).
// Erasure deletes the key: the records stay in the chain (it still verifies) but nobody can tell any more
// which were theirs, and the same person signing in again gets a new key and so a new pseudonym.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { userKey } from '../identity/user-key.js';
import { pseudonymKey, pseudonymOf } from './privacy.js';

/** The part of the store this needs (the store's own interface has more). */
export interface PersonKeyStore {
  get(key: string): Promise<string | null>;
  add(key: string, value: string, ttlMs: number): Promise<boolean>;
  replace(key: string, value: string, ttlMs: number): Promise<boolean>;
  delete(key: string): Promise<void>;
}

const DAY_MS = 86_400_000;

interface StoredKey {
  /** The person's key, base64url (32 random bytes). */
  k: string;
  /** When it was made, and when its lifetime was last renewed (ms since the epoch). */
  createdAt: number;
  renewedAt: number;
}

/**
 * HMAC-SHA-256(person key, sub), hex: the pseudonym of `audit.identity: erasable`. The key is the person's
 * own (found by their sub), so the issuer adds nothing and is left out: a lookup needs only the sub.
 */
export function personPseudonym(key: Buffer, sub: string): string {
  return createHmac('sha256', key).update(sub).digest('hex');
}

/** What a record of one person is written with under `audit.identity: erasable`. */
export interface PersonSeal {
  pseudonym: string;
  /** Encrypts a quasi-identifier (client address, user agent) under the person's key: shredding covers it. */
  seal: (field: string, value: string) => string;
}

const SEALED = 'enc1:';
const CLIENT_INFO = 'roomguard audit client fields v1';

function clientKey(key: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), CLIENT_INFO, 32));
}

/** AES-256-GCM under a key derived from the person's key; the field name is bound as associated data. */
export function sealField(key: Buffer, field: string, value: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', clientKey(key), iv);
  cipher.setAAD(Buffer.from(field));
  const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return `${SEALED}${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
}

/** The clear text of a sealed field, or undefined when it is not sealed under this key. */
export function openField(key: Buffer, field: string, sealed: string): string | undefined {
  if (!sealed.startsWith(SEALED)) return undefined;
  const raw = Buffer.from(sealed.slice(SEALED.length), 'base64url');
  if (raw.length < 28) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', clientKey(key), raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(field));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

export const isSealed = (value: string | undefined): boolean => value !== undefined && value.startsWith(SEALED);

export class PersonKeys {
  readonly #store: PersonKeyStore;
  readonly #ttlMs: number;
  readonly #now: () => number;

  /**
   * `retentionDays`: a key lives that long (plus two days) after its last use, so it goes by itself once
   * the last record it could link has been purged.
   */
  constructor(store: PersonKeyStore, retentionDays: number, now: () => number = Date.now) {
    this.#store = store;
    this.#ttlMs = (retentionDays + 2) * DAY_MS;
    this.#now = now;
  }

  static storeKey(sub: string): string {
    return `audit:person:${userKey(sub)}`;
  }

  async #read(sub: string): Promise<StoredKey | undefined> {
    const raw = await this.#store.get(PersonKeys.storeKey(sub));
    if (raw === null) return undefined;
    const parsed = JSON.parse(raw) as StoredKey;
    return typeof parsed.k === 'string' ? parsed : undefined;
  }

  /** The person's pseudonym for a new record: makes their key when they have none, renews it once a day. */
  async pseudonymFor(sub: string): Promise<string> {
    return (await this.sealFor(sub)).pseudonym;
  }

  /** The pseudonym and the field sealing of a new record of the person (makes or renews the key as `pseudonymFor`). */
  async sealFor(sub: string): Promise<PersonSeal> {
    const name = PersonKeys.storeKey(sub);
    let stored = await this.#read(sub);
    const now = this.#now();
    if (!stored) {
      const fresh: StoredKey = { k: randomBytes(32).toString('base64url'), createdAt: now, renewedAt: now };
      // Two instances making the first key at once: one wins, both use the winner's.
      stored = (await this.#store.add(name, JSON.stringify(fresh), this.#ttlMs)) ? fresh : await this.#read(sub);
      if (!stored) throw new Error('the person key vanished while it was made');
    } else if (now - stored.renewedAt > DAY_MS) {
      // replace, never set: an erasure between the read and this write must not bring the key back.
      await this.#store.replace(name, JSON.stringify({ ...stored, renewedAt: now }), this.#ttlMs);
    }
    const key = Buffer.from(stored.k, 'base64url');
    return { pseudonym: personPseudonym(key, sub), seal: (field, value) => sealField(key, field, value) };
  }

  /** Opens a field sealed under the person's current key (their access export); undefined without a key or for another's field. */
  async open(sub: string, field: string, sealed: string): Promise<string | undefined> {
    const stored = await this.#read(sub);
    return stored ? openField(Buffer.from(stored.k, 'base64url'), field, sealed) : undefined;
  }

  /** When the person's key was last renewed (a record under it is at most a day younger); undefined: no key. */
  async renewedAt(sub: string): Promise<number | undefined> {
    return (await this.#read(sub))?.renewedAt;
  }

  /** The person's current pseudonym, or undefined when they have no key (never made, or erased). Makes nothing. */
  async existingPseudonym(sub: string): Promise<string | undefined> {
    const stored = await this.#read(sub);
    return stored ? personPseudonym(Buffer.from(stored.k, 'base64url'), sub) : undefined;
  }

  /** When the person's key was made (undefined: they have none). */
  async createdAt(sub: string): Promise<number | undefined> {
    return (await this.#read(sub))?.createdAt;
  }

  /** Deletes the person's key (crypto-shredding). */
  async erase(sub: string): Promise<void> {
    await this.#store.delete(PersonKeys.storeKey(sub));
  }
}

/**
 * Every pseudonym a person may go by in the log: the one of `audit.identity: pseudonymous` (under the
 * signing key, for the configured issuer with and without a final slash) and, while they have one, the
 * one under their own key (`erasable`). A log can hold both when the setting changed. Makes no key.
 */
export async function pseudonymsOf(sub: string, how: { issuer: string; signingKeyPem: string; personKeys?: PersonKeys }): Promise<string[]> {
  const key = pseudonymKey(how.signingKeyPem);
  const issuers = [...new Set([how.issuer, how.issuer.replace(/\/$/, '')])];
  const out = issuers.map((iss) => pseudonymOf(key, iss, sub));
  const own = await how.personKeys?.existingPseudonym(sub);
  if (own !== undefined) out.push(own);
  return out;
}
