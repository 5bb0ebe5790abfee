// The Redis store against a real redis-server: semantics, key prefix, TTLs, and what participants see
// while Redis is away (503 page, /readyz red) and after it returns (service resumes without restart).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Redis } from 'ioredis';
import { RedisStore } from '../../src/store/redis.js';
import type { DemoIdp } from '../../src/demo/idp.js';
import { startRedis as startPrivateRedis, type PrivateRedis } from '../helpers/redis-servers.js';
import { startRig, type Rig } from '../helpers/rig.js';

describe('RedisStore', () => {
  const url = inject('redisUrl');
  const prefix = `rgstore:${process.pid}:`;
  let store: RedisStore;
  let raw: Redis;

  beforeAll(async () => {
    store = new RedisStore({ url, keyPrefix: prefix });
    await store.connect();
    raw = new Redis(url);
  });
  afterAll(async () => {
    await store.close();
    raw.disconnect();
  });

  it('stores under the key prefix with a TTL on every key', async () => {
    await store.set('a', 'one', 60_000);
    expect(await store.get('a')).toBe('one');
    expect(await raw.get(`${prefix}a`)).toBe('one');
    const ttl = await raw.pttl(`${prefix}a`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('take() hands a value out exactly once, even to concurrent callers', async () => {
    await store.set('once', 'v', 60_000);
    const results = await Promise.all([store.take('once'), store.take('once'), store.take('once')]);
    expect(results.filter((r) => r === 'v')).toHaveLength(1);
    expect(await store.get('once')).toBeNull();
  });

  it('expires values after their TTL and deletes on request', async () => {
    await store.set('short', 'v', 50);
    await expect.poll(() => store.get('short')).toBeNull();
    await store.set('gone', 'v', 60_000);
    await store.delete('gone');
    expect(await store.get('gone')).toBeNull();
  });

  it('reads and deletes several keys in one command each (MGET, DEL), under the key prefix and in order', async () => {
    // Its own server: the command counts of the shared one move with every other test file running.
    const own = await startPrivateRedis('mget');
    const counted = new RedisStore({ url: own.url, keyPrefix: prefix });
    const ownRaw = new Redis(own.url);
    try {
      await counted.connect();
      await counted.set('many:a', 'A', 60_000);
      await counted.set('many:c', 'C', 60_000);
      await ownRaw.set('many:a', 'not ours'); // without the prefix: must not be read
      const calls = async () => Object.fromEntries((await ownRaw.info('commandstats')).split('\r\n').filter((l) => /^cmdstat_(mget|get|del):/.test(l)).map((l) => [l.slice(8, l.indexOf(':')), Number(/calls=(\d+)/.exec(l)![1])]));
      const before = await calls();
      expect(await counted.getMany(['many:c', 'many:b', 'many:a'])).toEqual(['C', null, 'A']);
      await counted.deleteMany(['many:a', 'many:b', 'many:c']);
      const after = await calls();
      expect((after.mget ?? 0) - (before.mget ?? 0)).toBe(1);
      expect((after.get ?? 0) - (before.get ?? 0)).toBe(0);
      expect((after.del ?? 0) - (before.del ?? 0)).toBe(1);
      expect(await ownRaw.exists(`${prefix}many:a`, `${prefix}many:c`)).toBe(0);
      expect(await ownRaw.get('many:a')).toBe('not ours');
      expect(await counted.getMany([])).toEqual([]);
      await counted.deleteMany([]);
    } finally {
      await counted.close();
      ownRaw.disconnect();
      await own.stop();
    }
  });

  it('refuses a non-positive TTL instead of storing forever', async () => {
    await expect(store.set('x', 'v', 0)).rejects.toThrow(RangeError);
  });

  it('a set\'s TTL only grows: a shorter member added later never shortens it, a longer one lengthens it', async () => {
    const key = 'index:grow';
    await store.addMember(key, 'long', 30 * 86_400_000);
    await store.addMember(key, 'short', 5 * 60_000);
    const afterShort = await raw.pttl(`${prefix}${key}`);
    expect(afterShort).toBeGreaterThan(29 * 86_400_000);
    await store.addMember(key, 'longer', 60 * 86_400_000);
    expect(await raw.pttl(`${prefix}${key}`)).toBeGreaterThan(59 * 86_400_000);
    expect((await store.members(key)).sort()).toEqual(['long', 'longer', 'short']);
    await store.delete(key);
  });

  it('gives a new set its TTL, and a set that has none gets one (PEXPIRE … GT alone would leave both without)', async () => {
    await store.addMember('index:new', 'm', 60_000);
    const fresh = await raw.pttl(`${prefix}index:new`);
    expect(fresh).toBeGreaterThan(0);
    expect(fresh).toBeLessThanOrEqual(60_000);
    await raw.sadd(`${prefix}index:forever`, 'old');
    expect(await raw.pttl(`${prefix}index:forever`)).toBe(-1);
    await store.addMember('index:forever', 'm', 60_000);
    const given = await raw.pttl(`${prefix}index:forever`);
    expect(given).toBeGreaterThan(0);
    expect(given).toBeLessThanOrEqual(60_000);
    await store.deleteMany(['index:new', 'index:forever']);
  });

  it('keeps the longest TTL when members with different lifetimes are added at once', async () => {
    const key = 'index:race';
    const ttls = Array.from({ length: 40 }, (_, i) => (i === 17 ? 3_600_000 : 1000 + i));
    await Promise.all(ttls.map((ttl, i) => store.addMember(key, `m${i}`, ttl)));
    expect(await raw.pttl(`${prefix}${key}`)).toBeGreaterThan(3_500_000);
    expect(await store.members(key)).toHaveLength(40);
    await store.delete(key);
  });
});

describe('gateway while Redis is away', () => {
  let redis: PrivateRedis;
  let rig: Rig;
  let idp: DemoIdp;
  let origin: string;

  /** Redis back on its port, empty (no persistence). */
  const startRedis = () => redis.restart();
  /** SIGKILL, as a crash would. */
  const stopRedis = () => redis.kill();

  beforeAll(async () => {
    redis = await startPrivateRedis('outage');
    rig = await startRig({ store: redis.url });
    ({ idp, origin } = rig);
  });
  afterAll(async () => {
    await rig?.close();
    await redis?.stop();
  });

  it('answers 503 pages and a red /readyz while Redis is down, and recovers when it returns', async () => {
    expect((await fetch(`${origin}/readyz`)).status).toBe(200);
    await stopRedis();

    // A login start needs no store (the pending login waits sealed in the browser): off to the IdP. The
    // callback, which creates the session, is where the store is needed.
    const login = await fetch(`${origin}/_roomguard/login?returnTo=%2Frooms%2Ftown-hall`, { redirect: 'manual' });
    expect(login.status).toBe(302);
    expect(new URL(login.headers.get('location')!).origin).toBe(new URL(idp.issuer).origin);
    const room = await fetch(`${origin}/rooms/town-hall`, { headers: { cookie: `roomguard_session=${'B'.repeat(43)}` }, redirect: 'manual' });
    expect(room.status).toBe(503);
    const ready = await fetch(`${origin}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ checks: { store: { ok: false, detail: 'RG_STORE_UNAVAILABLE' } } });
    expect((await fetch(`${origin}/healthz`)).status).toBe(200);

    await startRedis();
    await expect.poll(async () => (await fetch(`${origin}/readyz`)).status, { timeout: 10_000, interval: 200 }).toBe(200);
    const again = await fetch(`${origin}/_roomguard/login?returnTo=%2Frooms%2Ftown-hall`, { redirect: 'manual' });
    expect(again.status).toBe(302);
  });
});
