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

  constructor(inner: Store, masterKey: Buffer) {
    if (masterKey.length !== 32) throw new RangeError('the encryption key must be 32 bytes');
    this.#inner = inner;
    this.#key = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'roomguard store values v1', 32));
    this.#keyId = createHash('sha256').update(this.#key).digest('hex').slice(0, 8);
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
    if (version !== VERSION || keyId !== this.#keyId || !iv || body === undefined || !tag) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'));
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

  ping(): Promise<void> {
    return this.#inner.ping();
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
