// A Store wrapper that encrypts every value with AES-256-GCM before it reaches the backing store, so a
// Redis dump reveals no e-mail addresses, groups or tokens. The key name is bound in as associated data,
// so a value copied under another key does not decrypt. Values carry a key id for later rotation.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import type { Store } from './store.js';

const VERSION = 'v1';

export class SealedStore implements Store {
  readonly #inner: Store;
  readonly #key: Buffer;
  readonly #keyId: string;
  /** Keys that may still open older values during a rotation, by key id. */
  readonly #previous = new Map<string, Buffer>();

  constructor(inner: Store, masterKey: Buffer, previousKeys: Buffer[] = []) {
    if (masterKey.length !== 32) throw new RangeError('the encryption key must be 32 bytes');
    this.#inner = inner;
    [this.#key, this.#keyId] = deriveKey(masterKey);
    for (const old of previousKeys) {
      const [key, id] = deriveKey(old);
      if (id !== this.#keyId) this.#previous.set(id, key);
    }
  }

  get kind() {
    return this.#inner.kind;
  }

  get inner(): Store {
    return this.#inner;
  }

  seal(key: string, plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(key, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, this.#keyId, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  /** Returns null for values that do not decrypt (other key, tampered, foreign format): treated as absent. */
  open(key: string, sealed: string): string | null {
    const [version, keyId, iv, body, tag] = sealed.split('.');
    const cipherKey = keyId === this.#keyId ? this.#key : keyId ? this.#previous.get(keyId) : undefined;
    if (version !== VERSION || !cipherKey || !iv || body === undefined || !tag) return null;
    try {
      // A full 16-byte tag only: Node would otherwise accept truncated tags and weaken the integrity check.
      const decipher = createDecipheriv('aes-256-gcm', cipherKey, Buffer.from(iv, 'base64url'), { authTagLength: 16 });
      decipher.setAAD(Buffer.from(key, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  }

  async get(key: string): Promise<string | null> {
    const value = await this.#inner.get(key);
    return value === null ? null : this.open(key, value);
  }

  set(key: string, value: string, ttlMs: number): Promise<void> {
    return this.#inner.set(key, this.seal(key, value), ttlMs);
  }

  async take(key: string): Promise<string | null> {
    const value = await this.#inner.take(key);
    return value === null ? null : this.open(key, value);
  }

  delete(key: string): Promise<void> {
    return this.#inner.delete(key);
  }

  async getMany(keys: string[]): Promise<Array<string | null>> {
    const values = await this.#inner.getMany(keys);
    return values.map((value, i) => (value === null ? null : this.open(keys[i]!, value)));
  }

  deleteMany(keys: string[]): Promise<void> {
    return this.#inner.deleteMany(keys);
  }

  replace(key: string, value: string, ttlMs: number): Promise<boolean> {
    return this.#inner.replace(key, this.seal(key, value), ttlMs);
  }

  /** Single-use markers are sealed like everything else. */
  add(key: string, value: string, ttlMs: number): Promise<boolean> {
    return this.#inner.add(key, this.seal(key, value), ttlMs);
  }

  /** Counters are plain numbers (nothing personal in them) and pass through unsealed. */
  increment(key: string, ttlMs: number): Promise<number> {
    return this.#inner.increment(key, ttlMs);
  }

  /** Set members are opaque hashes (session ids hashed) and pass through unsealed. */
  addMember(key: string, member: string, ttlMs: number): Promise<void> {
    return this.#inner.addMember(key, member, ttlMs);
  }

  removeMember(key: string, member: string): Promise<void> {
    return this.#inner.removeMember(key, member);
  }

  members(key: string): Promise<string[]> {
    return this.#inner.members(key);
  }

  ping(): Promise<void> {
    return this.#inner.ping();
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

function deriveKey(masterKey: Buffer): [Buffer, string] {
  if (masterKey.length !== 32) throw new RangeError('the encryption key must be 32 bytes');
  const key = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'roomguard store values v1', 32));
  return [key, createHash('sha256').update(key).digest('hex').slice(0, 8)];
}
