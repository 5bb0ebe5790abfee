// Redis Store through ioredis. Commands fail fast (one retry, 2 s timeout) while Redis is away, so a
// participant gets a 503 page instead of a hanging request; ioredis reconnects on its own.
import { Redis } from 'ioredis';
import { RoomguardError } from '../errors.js';
import type { Store } from './store.js';

const INCREMENT_WITH_TTL = "local v = redis.call('INCR', KEYS[1]) if v == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return v";

export interface RedisStoreOptions {
  url: string;
  password?: string;
  keyPrefix: string;
  commandTimeoutMs?: number;
}

export class RedisStore implements Store {
  readonly kind = 'redis' as const;
  readonly client: Redis;

  constructor(options: RedisStoreOptions) {
    this.client = new Redis(options.url, {
      keyPrefix: options.keyPrefix,
      ...(options.password ? { password: options.password } : {}),
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      commandTimeout: options.commandTimeoutMs ?? 2000,
      connectTimeout: 5000,
      enableOfflineQueue: true,
      retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
    });
    // Connection errors are reported per command (as RG_STORE_UNAVAILABLE) and by /readyz; do not crash.
    this.client.on('error', () => undefined);
  }

  /** Connects once at start-up; rejects with RG_STORE_UNAVAILABLE if Redis does not answer. */
  async connect(): Promise<void> {
    await this.#run(async () => {
      if (this.client.status === 'wait') await this.client.connect();
      await this.client.ping();
    });
  }

  async #run<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      throw new RoomguardError('RG_STORE_UNAVAILABLE', (err as Error).message, { cause: err });
    }
  }

  get(key: string): Promise<string | null> {
    return this.#run(() => this.client.get(key));
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    if (!(ttlMs > 0)) throw new RangeError(`ttl must be positive, got ${ttlMs}`);
    await this.#run(() => this.client.set(key, value, 'PX', Math.ceil(ttlMs)));
  }

  take(key: string): Promise<string | null> {
    return this.#run(() => this.client.getdel(key));
  }

  async delete(key: string): Promise<void> {
    await this.#run(() => this.client.del(key));
  }

  async replace(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (!(ttlMs > 0)) throw new RangeError(`ttl must be positive, got ${ttlMs}`);
    return (await this.#run(() => this.client.set(key, value, 'PX', Math.ceil(ttlMs), 'XX'))) === 'OK';
  }

  async add(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (!(ttlMs > 0)) throw new RangeError(`ttl must be positive, got ${ttlMs}`);
    return (await this.#run(() => this.client.set(key, value, 'PX', Math.ceil(ttlMs), 'NX'))) === 'OK';
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    if (!(ttlMs > 0)) throw new RangeError(`ttl must be positive, got ${ttlMs}`);
    // One script so a counter can never be left without its TTL (PEXPIRE … NX would need Redis 7).
    const value = await this.#run(() => this.client.eval(INCREMENT_WITH_TTL, 1, key, String(Math.ceil(ttlMs))));
    return Number(value);
  }

  async addMember(key: string, member: string, ttlMs: number): Promise<void> {
    if (!(ttlMs > 0)) throw new RangeError(`ttl must be positive, got ${ttlMs}`);
    await this.#run(() => this.client.multi().sadd(key, member).pexpire(key, Math.ceil(ttlMs)).exec());
  }

  async removeMember(key: string, member: string): Promise<void> {
    await this.#run(() => this.client.srem(key, member));
  }

  members(key: string): Promise<string[]> {
    return this.#run(() => this.client.smembers(key));
  }

  async ping(): Promise<void> {
    await this.#run(() => this.client.ping());
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}
