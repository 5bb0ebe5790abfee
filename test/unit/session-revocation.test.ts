// A request that is still under way when its session ends (logout, revocation, back-channel logout)
// must not bring the session back by writing it again.
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory.js';
import { Sessions } from '../../src/session/sessions.js';
import type { Store } from '../../src/store/store.js';

const identity = { sub: 'mallory', iss: 'https://idp.example', emailVerified: false, groups: [] };

function setup() {
  let now = Date.UTC(2026, 10, 26, 10, 0, 0);
  const store = new MemoryStore(() => now);
  const sessions = new Sessions(store, { idleMs: 30 * 60_000, absoluteMs: 12 * 3_600_000 }, () => now);
  return { sessions, advance: (ms: number) => (now += ms) };
}

describe('ended sessions stay ended', () => {
  it('update() of a session revoked meanwhile fails and writes nothing', async () => {
    const { sessions } = setup();
    const created = await sessions.create(identity);
    const loaded = (await sessions.load(created.id))!;
    expect(await sessions.destroyAllFor('mallory')).toBe(1);
    await expect(sessions.update(loaded, { noticesSeen: ['x'] })).rejects.toMatchObject({ code: 'RG_LOGIN_REQUIRED' });
    expect(await sessions.load(created.id)).toBeUndefined();
    expect(await sessions.listFor('mallory')).toEqual([]);
  });

  it('rotate() of a session ended meanwhile gives no new session', async () => {
    const { sessions } = setup();
    const created = await sessions.create(identity);
    const loaded = (await sessions.load(created.id))!;
    await sessions.destroy(loaded);
    await expect(sessions.rotate(loaded, { mfa: { method: 'totp', at: 0 } })).rejects.toMatchObject({ code: 'RG_LOGIN_REQUIRED' });
    expect(await sessions.listFor('mallory')).toEqual([]);
  });

  it('the idle-time touch does not recreate an ended session', async () => {
    const { sessions, advance } = setup();
    const created = await sessions.create(identity);
    advance(60_000);
    const raced = sessions.load(created.id);
    await sessions.destroyAllFor('mallory');
    await raced;
    expect(await sessions.load(created.id)).toBeUndefined();
  });

  it('destroy() says whether this call ended the session: of callers racing to end one, exactly one counts it', async () => {
    const { sessions } = setup();
    const created = await sessions.create(identity);
    const results = await Promise.all([sessions.destroy(created), sessions.destroy(created), sessions.destroy(created)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await sessions.destroy(created)).toBe(false);
    expect(await sessions.load(created.id)).toBeUndefined();
  });
});

/**
 * The store of `setup()`, with `before` run (once, awaited) just ahead of the first operation that
 * `matches`: a revocation placed at an exact step of a login or step-up under way.
 */
function interceptOnce(inner: Store, matches: (operation: string, key: string) => boolean, before: () => Promise<unknown>): Store {
  let done = false;
  return new Proxy(inner, {
    get(target, name: keyof Store) {
      const value = target[name];
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        if (!done && typeof args[0] === 'string' && matches(String(name), args[0])) {
          done = true;
          await before();
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

describe('a revocation that runs while a session is being made', () => {
  const timeouts = { idleMs: 30 * 60_000, absoluteMs: 12 * 3_600_000 };
  const raced = (store: MemoryStore, matches: (operation: string, key: string) => boolean, revoke: (sessions: Sessions) => Promise<unknown>) => {
    const plain = new Sessions(store, timeouts);
    return new Sessions(interceptOnce(store, matches, () => revoke(plain)), timeouts);
  };

  it('a login whose session is indexed after the person\'s sessions were revoked ends itself (RG_LOGIN_REQUIRED)', async () => {
    const store = new MemoryStore();
    const sessions = raced(store, (op, key) => op === 'addMember' && key.startsWith('sessions:user:'), (s) => s.destroyAllFor('mallory'));
    await expect(sessions.create(identity)).rejects.toMatchObject({ code: 'RG_LOGIN_REQUIRED' });
    expect(await new Sessions(store, timeouts).listFor('mallory')).toEqual([]);
    // The deny side: a login that begins after the revocation is a new login and stays.
    const later = await new Sessions(store, timeouts).create(identity);
    expect(await new Sessions(store, timeouts).load(later.id)).toBeDefined();
  });

  it('a step-up that took its old session just before a revocation read the index gives no session', async () => {
    const store = new MemoryStore();
    const old = await new Sessions(store, timeouts).create(identity);
    // The new session is written after the old one was taken: the revocation runs in between.
    const sessions = raced(store, (op, key) => op === 'set' && key.startsWith('session:'), (s) => s.destroyAllFor('mallory'));
    await expect(sessions.rotate(old, { mfa: { method: 'totp', at: 0 } })).rejects.toMatchObject({ code: 'RG_LOGIN_REQUIRED' });
    expect(await new Sessions(store, timeouts).listFor('mallory')).toEqual([]);
  });

  it('the session a revocation keeps (the person\'s own, on the account page) still steps up afterwards', async () => {
    const store = new MemoryStore();
    const plain = new Sessions(store, timeouts);
    const own = await plain.create(identity);
    const other = await plain.create(identity);
    expect(await plain.destroyAllFor('mallory', own.hash)).toBe(1);
    expect(await plain.load(other.id)).toBeUndefined();
    const rotated = await plain.rotate((await plain.load(own.id))!, { mfa: { method: 'totp', at: 0 } });
    expect(await plain.load(rotated.id)).toBeDefined();
  });

  it('a back-channel logout of an IdP session (sid) ends a login with that sid made meanwhile, and any later one', async () => {
    const store = new MemoryStore();
    const sessions = raced(store, (op, key) => op === 'addMember' && key.startsWith('sessions:sid:'), (s) => s.destroyBySid('idp-session-1'));
    await expect(sessions.create(identity, { sid: 'idp-session-1' })).rejects.toMatchObject({ code: 'RG_LOGIN_REQUIRED' });
    const plain = new Sessions(store, timeouts);
    expect(await plain.listFor('mallory')).toEqual([]);
    await expect(plain.create(identity, { sid: 'idp-session-1' })).rejects.toMatchObject({ code: 'RG_LOGIN_REQUIRED' });
    // The deny side: another IdP session of the same person is untouched.
    const fresh = await plain.create(identity, { sid: 'idp-session-2' });
    expect(await plain.load(fresh.id)).toBeDefined();
  });
});
