// In-memory Store for the demo and for tests of logic that does not cross Redis. Single process only.
import type { Store } from './store.js';

export class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  readonly #entries = new Map<string, { value: string; expiresAt: number }>();
  readonly #sweeper: NodeJS.Timeout;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
    this.#sweeper = setInterval(() => this.#sweep(), 60_000);
    this.#sweeper.unref();
  }

  #live(key: string): string | null {
    const entry = this.#entries.get(key);
    if (!entry) return null;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return null;
    }
    return entry.value;
  }

  #sweep(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key);
  }

  async get(key: string): Promise<string | null> {
    return this.#live(key);
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    if (!(ttlMs > 0)) throw new RangeError(`ttl must be positive, got ${ttlMs}`);
    this.#entries.set(key, { value, expiresAt: this.#now() + ttlMs });
  }

  async take(key: string): Promise<string | null> {
    const value = this.#live(key);
    this.#entries.delete(key);
    return value;
  }

  /** Deletes a value or a set under the key, like Redis DEL (which does not care about the key's type). */
  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
    this.#sets.delete(key);
  }

  async getMany(keys: string[]): Promise<Array<string | null>> {
    return keys.map((key) => this.#live(key));
  }

  async deleteMany(keys: string[]): Promise<void> {
    for (const key of keys) {
      this.#entries.delete(key);
      this.#sets.delete(key);
    }
  }

  async replace(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.#live(key) === null) return false;
    await this.set(key, value, ttlMs);
    return true;
  }

  async add(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.#live(key) !== null) return false;
    await this.set(key, value, ttlMs);
    return true;
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    const current = this.#live(key);
    const entry = this.#entries.get(key);
    const next = (current === null ? 0 : Number(current) || 0) + 1;
    if (current === null || !entry) await this.set(key, String(next), ttlMs);
    else entry.value = String(next);
    return next;
  }

  readonly #sets = new Map<string, { members: Set<string>; expiresAt: number }>();

  #liveSet(key: string) {
    const entry = this.#sets.get(key);
    if (entry && entry.expiresAt <= this.#now()) {
      this.#sets.delete(key);
      return undefined;
    }
    return entry;
  }

  async addMember(key: string, member: string, ttlMs: number): Promise<void> {
    if (!(ttlMs > 0)) throw new RangeError(`ttl must be positive, got ${ttlMs}`);
    const entry = this.#liveSet(key) ?? { members: new Set<string>(), expiresAt: 0 };
    entry.members.add(member);
    // Only ever later, as in Redis: a short-lived member must not cut the set short under a long-lived one.
    entry.expiresAt = Math.max(entry.expiresAt, this.#now() + ttlMs);
    this.#sets.set(key, entry);
  }

  async removeMember(key: string, member: string): Promise<void> {
    const entry = this.#liveSet(key);
    entry?.members.delete(member);
    // Redis deletes a set with its last member (and its TTL with it); so does this store.
    if (entry?.members.size === 0) this.#sets.delete(key);
  }

  async members(key: string): Promise<string[]> {
    return [...(this.#liveSet(key)?.members ?? [])];
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#entries.clear();
  }
}
