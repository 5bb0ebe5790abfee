// Moves a real Redis forward in time for the keys under one prefix: every key's remaining lifetime is
// shortened by `ms`, and a key whose lifetime would end meanwhile is deleted, exactly as Redis would have
// expired it. So a test can see what a store holds days later without waiting for it.
import type { Redis } from 'ioredis';

export async function advanceRedis(redis: Redis, prefix: string, ms: number): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    for (const key of keys) {
      const left = await redis.pttl(key);
      if (left < 0) continue; // no TTL (-1) or gone (-2): time does not end it
      if (left <= ms) await redis.del(key);
      else await redis.pexpire(key, left - ms);
    }
  } while (cursor !== '0');
}
