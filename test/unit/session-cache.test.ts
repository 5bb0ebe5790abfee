// The local session cache (session.localCache) is safe only because every ending reaches it at once
// through the session bus, and it is not used while the bus cannot report endings.
import { describe, expect, it, vi } from 'vitest';
import { MemoryStore } from '../../src/store/memory.js';
import { openSessionBus } from '../../src/store/bus.js';
import { Sessions, sessionHash } from '../../src/session/sessions.js';
import type { Store } from '../../src/store/store.js';

const identity = { sub: 'dora', iss: 'https://idp.example', emailVerified: true, groups: [] };
const timeouts = { idleMs: 30 * 60_000, absoluteMs: 12 * 3_600_000 };

async function twoInstances(cacheMs = 1000) {
  const store = new MemoryStore();
  const bus1 = await openSessionBus(store, 'events');
  const bus2 = await openSessionBus(store, 'events');
  return {
    store,
    one: new Sessions(store, timeouts, Date.now, { bus: bus1, cacheMs }),
    two: new Sessions(store, timeouts, Date.now, { bus: bus2, cacheMs }),
  };
}

describe('session cache', () => {
  it('answers cached loads from memory within cacheMs, and only those', async () => {
    const { store, one } = await twoInstances();
    const created = await one.create(identity);
    expect(await one.load(created.id)).toBeDefined(); // read once: now cached
    // Removed behind the cache's back (no event): a cached load still answers, a plain load does not.
    await store.delete(`session:${sessionHash(created.id)}`);
    expect((await one.load(created.id, { cached: true }))?.data.identity.sub).toBe('dora');
    expect(await one.load(created.id)).toBeUndefined();
  });

  it('forgets a cached session after cacheMs', async () => {
    // The clock is vitest's: it stands still until the test moves it past cacheMs.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const { store, one } = await twoInstances(30);
      const created = await one.create(identity);
      await one.load(created.id);
      await store.delete(`session:${sessionHash(created.id)}`);
      vi.setSystemTime(Date.now() + 40);
      expect(await one.load(created.id, { cached: true })).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });

  it('drops the cached copy at once when another instance ends the session', async () => {
    const { one, two } = await twoInstances();
    const created = await one.create(identity);
    await one.load(created.id);
    expect(await one.load(created.id, { cached: true })).toBeDefined();
    expect(await two.destroyAllFor('dora')).toBe(1);
    expect(await one.load(created.id, { cached: true })).toBeUndefined();
  });

  it('drops the cached copy when another instance changes the session', async () => {
    const { one, two } = await twoInstances();
    const created = await one.create(identity);
    await one.load(created.id);
    const there = (await two.load(created.id))!;
    await two.update(there, { noticesSeen: ['town-hall:abc'] });
    expect((await one.load(created.id, { cached: true }))?.data.noticesSeen).toEqual(['town-hall:abc']);
  });

  it('reports endings from any instance to onEnded listeners', async () => {
    const { one, two } = await twoInstances();
    const ended: string[] = [];
    one.onEnded((hash) => ended.push(hash));
    const created = await two.create(identity);
    await two.destroyAllFor('dora');
    expect(ended).toEqual([sessionHash(created.id)]);
  });

  it('does not cache what a store read returned while the session was ended', async () => {
    const { store, one, two } = await twoInstances();
    const created = await one.create(identity);
    const hash = sessionHash(created.id);
    // A slow read: the session ends while the read is under way.
    const slow: Store = Object.create(store) as Store;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    slow.get = async (key) => {
      const value = await store.get(key);
      await gate;
      return value;
    };
    const bus = await openSessionBus(store, 'events');
    const reader = new Sessions(slow, timeouts, Date.now, { bus, cacheMs: 1000 });
    const reading = reader.load(created.id);
    await two.destroy({ hash, data: { v: 1, identity, createdAt: 0, lastSeenAt: 0, authTime: 0 } });
    release();
    await reading;
    expect(await reader.load(created.id, { cached: true })).toBeUndefined();
    expect(await one.load(created.id, { cached: true })).toBeUndefined();
  });

  it('caches nothing when the store has no bus to report endings', async () => {
    const store = new MemoryStore();
    // A store the bus cannot see through: no events arrive, so nothing may be cached.
    const opaque: Store = { ...bindAll(store), kind: 'memory' };
    const bus = await openSessionBus(opaque, 'events');
    expect(bus.live).toBe(false);
    const sessions = new Sessions(opaque, timeouts, Date.now, { bus, cacheMs: 1000 });
    const created = await sessions.create(identity);
    await sessions.load(created.id);
    await store.delete(`session:${sessionHash(created.id)}`);
    expect(await sessions.load(created.id, { cached: true })).toBeUndefined();
  });

  it('close() stops listening to the bus (a retired app generation keeps no subscription)', async () => {
    const store = new MemoryStore();
    const bus = await openSessionBus(store, 'events');
    let listeners = 0;
    const counting = { ...bus, live: true, subscribe: (l: Parameters<typeof bus.subscribe>[0]) => (listeners++, ((off) => () => (listeners--, off()))(bus.subscribe(l))), onGap: (l: () => void) => (listeners++, ((off) => () => (listeners--, off()))(bus.onGap(l))) };
    const sessions = new Sessions(store, timeouts, Date.now, { bus: counting, cacheMs: 1000 });
    expect(listeners).toBe(2);
    sessions.close();
    expect(listeners).toBe(0);
  });

  it('with cacheMs 0 every load reads the store', async () => {
    const { store, one } = await twoInstances(0);
    const created = await one.create(identity);
    await one.load(created.id);
    await store.delete(`session:${sessionHash(created.id)}`);
    expect(await one.load(created.id, { cached: true })).toBeUndefined();
  });
});

function bindAll(store: MemoryStore): Store {
  const methods = ['get', 'set', 'take', 'delete', 'replace', 'add', 'increment', 'addMember', 'removeMember', 'members', 'ping', 'close'] as const;
  return Object.fromEntries(methods.map((m) => [m, (store[m] as (...args: unknown[]) => unknown).bind(store)])) as unknown as Store;
}
