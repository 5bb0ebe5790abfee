// The store (single-use take, TTL), the sealed store (a store dump reveals no e-mail addresses; values
// are bound to their key) and server-side sessions (DESIGN invariant 5: opaque ≥256-bit id, only its hash
// in the store, idle and absolute timeouts, fresh id on rotation, logout deletes server-side).
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory.js';
import { SealedStore } from '../../src/store/sealed.js';
import { Sessions } from '../../src/session/sessions.js';
import type { Identity } from '../../src/identity/types.js';

const MIN = 60_000;

/** A memory store that records which keys were written and counts lookups. */
class WatchedStore extends MemoryStore {
  readonly written: string[] = [];
  gets = 0;
  override async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.written.push(key);
    return super.set(key, value, ttlMs);
  }
  override async get(key: string): Promise<string | null> {
    this.gets++;
    return super.get(key);
  }
}

const opened: MemoryStore[] = [];
function memory(now: () => number): WatchedStore {
  const store = new WatchedStore(now);
  opened.push(store);
  return store;
}
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

const alice: Identity = { sub: 'alice-sub', iss: 'https://id.example.org', email: 'alice@example.org', emailVerified: true, name: 'Alice Example', groups: ['board', 'staff'] };

describe('MemoryStore', () => {
  it('returns what was set, until the TTL has passed', async () => {
    let t = 1_000_000;
    const store = memory(() => t);
    await store.set('k', 'v', 1000);
    expect(await store.get('k')).toBe('v');
    t += 999;
    expect(await store.get('k')).toBe('v');
    t += 2;
    expect(await store.get('k')).toBeNull();
  });

  it('forgets an expired value even if the clock later reads the same key again', async () => {
    let t = 0;
    const store = memory(() => t);
    await store.set('k', 'v', 1000);
    t = 5000;
    expect(await store.take('k')).toBeNull();
    expect(await store.get('k')).toBeNull();
  });

  it('lets take() read a value exactly once', async () => {
    const store = memory(() => 0);
    await store.set('state', 'pending-login', 60_000);
    expect(await store.take('state')).toBe('pending-login');
    expect(await store.take('state')).toBeNull();
    expect(await store.get('state')).toBeNull();
  });

  it('returns null from take() for a key that was never set', async () => {
    expect(await memory(() => 0).take('nothing')).toBeNull();
  });

  it('deletes a value', async () => {
    const store = memory(() => 0);
    await store.set('k', 'v', 60_000);
    await store.delete('k');
    expect(await store.get('k')).toBeNull();
  });

  it('reads several keys in order (expired ones as absent) and deletes several', async () => {
    let now = 0;
    const store = memory(() => now);
    await store.set('a', '1', 60_000);
    await store.set('b', '2', 10);
    await store.set('c', '3', 60_000);
    now = 20;
    expect(await store.getMany(['c', 'b', 'x', 'a'])).toEqual(['3', null, null, '1']);
    await store.deleteMany(['a', 'c']);
    expect(await store.getMany(['a', 'c'])).toEqual([null, null]);
  });

  it('a set\'s TTL only grows: a shorter member added later never shortens it, a longer one lengthens it', async () => {
    let now = 0;
    const store = memory(() => now);
    await store.addMember('index', 'long', 30 * 86_400_000);
    await store.addMember('index', 'short', 5 * MIN);
    now = 7 * 86_400_000;
    expect((await store.members('index')).sort()).toEqual(['long', 'short']);
    now = 30 * 86_400_000 - 1;
    expect((await store.members('index')).sort()).toEqual(['long', 'short']);
    await store.addMember('index', 'longer', 2 * MIN);
    now += 2 * MIN - 1;
    expect(await store.members('index')).toHaveLength(3);
    now += 1;
    expect(await store.members('index')).toEqual([]);
  });

  it('forgets a set with its last member, and its TTL with it (as Redis does)', async () => {
    let now = 0;
    const store = memory(() => now);
    await store.addMember('index', 'a', 60 * MIN);
    await store.removeMember('index', 'a');
    await store.addMember('index', 'b', MIN);
    now = MIN;
    expect(await store.members('index')).toEqual([]);
  });

  it('keeps keys apart', async () => {
    const store = memory(() => 0);
    await store.set('a', '1', 60_000);
    await store.set('b', '2', 60_000);
    await store.take('a');
    expect(await store.get('b')).toBe('2');
  });
});

describe('SealedStore', () => {
  const key = randomBytes(32);
  const payload = JSON.stringify({ email: 'alice@example.org', groups: ['board'] });

  it('returns the plaintext to its own reader', async () => {
    const sealed = new SealedStore(memory(() => 0), key);
    await sealed.set('session:abc', payload, 60_000);
    expect(await sealed.get('session:abc')).toBe(payload);
  });

  it('stores ciphertext: the inner store holds neither the e-mail nor the JSON', async () => {
    const inner = memory(() => 0);
    const sealed = new SealedStore(inner, key);
    await sealed.set('session:abc', payload, 60_000);
    const raw = await inner.get('session:abc');
    expect(raw).not.toBeNull();
    expect(raw).not.toContain('alice@example.org');
    expect(raw).not.toContain('alice');
    expect(raw).not.toContain(payload);
    expect(raw).not.toContain('"email"');
    expect(raw).not.toContain('board');
    expect(raw).not.toContain(Buffer.from(payload).toString('base64'));
    expect(raw).not.toContain(Buffer.from(payload).toString('base64url'));
  });

  it('seals the same value differently each time (random IV)', async () => {
    const inner = memory(() => 0);
    const sealed = new SealedStore(inner, key);
    await sealed.set('a', payload, 60_000);
    const first = await inner.get('a');
    await sealed.set('a', payload, 60_000);
    expect(await inner.get('a')).not.toBe(first);
  });

  it('opens each value of getMany under its own key; a value copied under another key reads as absent', async () => {
    const inner = memory(() => 0);
    const sealed = new SealedStore(inner, key);
    await sealed.set('lock:a', '1', 60_000);
    await sealed.set('lock:b', '2', 60_000);
    await inner.set('lock:c', (await inner.get('lock:a'))!, 60_000);
    expect(await sealed.getMany(['lock:b', 'lock:a', 'lock:c', 'lock:d'])).toEqual(['2', '1', null, null]);
    await sealed.deleteMany(['lock:a', 'lock:b']);
    expect(await inner.getMany(['lock:a', 'lock:b', 'lock:c'])).toEqual([null, null, expect.any(String)]);
  });

  it('does not decrypt a value copied under another key (returns null)', async () => {
    const inner = memory(() => 0);
    const sealed = new SealedStore(inner, key);
    await sealed.set('session:victim', payload, 60_000);
    await inner.set('session:attacker', (await inner.get('session:victim'))!, 60_000);
    expect(await sealed.get('session:attacker')).toBeNull();
    expect(await sealed.take('session:attacker')).toBeNull();
    // The original still opens.
    expect(await sealed.get('session:victim')).toBe(payload);
  });

  it('does not decrypt with a different key (returns null)', async () => {
    const inner = memory(() => 0);
    await new SealedStore(inner, key).set('k', payload, 60_000);
    expect(await new SealedStore(inner, randomBytes(32)).get('k')).toBeNull();
  });

  it('returns null for tampered ciphertext, IV or tag', async () => {
    const inner = memory(() => 0);
    const sealed = new SealedStore(inner, key);
    await sealed.set('k', payload, 60_000);
    const raw = (await inner.get('k'))!;
    const parts = raw.split('.');
    expect(parts.length).toBeGreaterThanOrEqual(3);
    const flipMiddle = (s: string) => {
      const i = Math.floor(s.length / 2);
      return s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    };
    for (let index = 2; index < parts.length; index++) {
      const tampered = parts.map((p, i) => (i === index ? flipMiddle(p) : p)).join('.');
      await inner.set('k', tampered, 60_000);
      expect(await sealed.get('k'), `part ${index} tampered`).toBeNull();
    }
    await inner.set('k', raw.replace(/\.[^.]*$/, '.'), 60_000); // tag removed
    expect(await sealed.get('k')).toBeNull();
  });

  it('refuses a truncated authentication tag (GCM must insist on the full 16-byte tag)', async () => {
    const inner = memory(() => 0);
    const sealed = new SealedStore(inner, key);
    await sealed.set('k', payload, 60_000);
    const parts = (await inner.get('k'))!.split('.');
    const tag = parts[parts.length - 1]!;
    expect(Buffer.from(tag, 'base64url')).toHaveLength(16);
    // 6 base64url characters = a 4-byte tag, which GCM accepts unless the tag length is pinned.
    for (const chars of [6, 11, 16, 21]) {
      const truncated = [...parts.slice(0, -1), tag.slice(0, chars)].join('.');
      await inner.set('k', truncated, 60_000);
      expect(await sealed.get('k'), `tag cut to ${Buffer.from(tag.slice(0, chars), 'base64url').length} bytes`).toBeNull();
    }
  });

  it('returns null for a plaintext value planted in the inner store', async () => {
    const inner = memory(() => 0);
    await inner.set('k', payload, 60_000);
    expect(await new SealedStore(inner, key).get('k')).toBeNull();
  });

  it('lets take() read a sealed value once', async () => {
    const sealed = new SealedStore(memory(() => 0), key);
    await sealed.set('state', 'x', 60_000);
    expect(await sealed.take('state')).toBe('x');
    expect(await sealed.take('state')).toBeNull();
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => new SealedStore(memory(() => 0), randomBytes(16))).toThrow();
  });
});

describe('Sessions', () => {
  const timeouts = { idleMs: 10 * MIN, absoluteMs: 60 * MIN };

  function setup() {
    const clock = { t: 1_700_000_000_000 };
    const store = memory(() => clock.t);
    const sessions = new Sessions(store, timeouts, () => clock.t);
    return { clock, store, sessions };
  }

  it('gives the browser a 43-character base64url id (256 bits)', async () => {
    const { sessions } = setup();
    const s = await sessions.create(alice);
    expect(s.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(s.id, 'base64url')).toHaveLength(32);
  });

  it('gives every session a different id', async () => {
    const { sessions } = setup();
    const ids = new Set<string>();
    for (let i = 0; i < 50; i++) ids.add((await sessions.create(alice)).id);
    expect(ids.size).toBe(50);
  });

  it('stores the session under session:<sha256 hex of the id>, never under the id itself', async () => {
    const { sessions, store } = setup();
    const s = await sessions.create(alice);
    const hash = createHash('sha256').update(s.id).digest('hex');
    expect(s.hash).toBe(hash);
    expect(store.written).toEqual([`session:${hash}`]);
    expect(store.written.some((k) => k.includes(s.id))).toBe(false);
    expect(await store.get(`session:${hash}`)).not.toBeNull();
    expect(await store.get(`session:${s.id}`)).toBeNull();
    expect(await store.get(s.id)).toBeNull();
  });

  it('does not put the id into the stored value either', async () => {
    const { sessions, store } = setup();
    const s = await sessions.create(alice);
    expect(await store.get(`session:${s.hash}`)).not.toContain(s.id);
  });

  it('loads a live session with its identity', async () => {
    const { sessions, clock } = setup();
    const s = await sessions.create(alice);
    clock.t += MIN;
    const loaded = await sessions.load(s.id);
    expect(loaded?.data.identity).toEqual(alice);
    expect(loaded?.hash).toBe(s.hash);
  });

  it('ends a session left idle for idleTimeout', async () => {
    const { sessions, clock } = setup();
    const s = await sessions.create(alice);
    clock.t += 10 * MIN - 1;
    expect(await sessions.load(s.id)).toBeDefined();
    const again = await sessions.create(alice);
    clock.t += 10 * MIN;
    expect(await sessions.load(again.id)).toBeUndefined();
  });

  it('extends the idle timeout with activity', async () => {
    const { sessions, clock } = setup();
    const s = await sessions.create(alice);
    clock.t += 8 * MIN;
    expect(await sessions.load(s.id)).toBeDefined(); // activity at 8 min
    clock.t += 8 * MIN; // 16 min after login, 8 min idle
    expect(await sessions.load(s.id)).toBeDefined();
  });

  it('ends an untouched session at 16 min (the deny side of the activity test)', async () => {
    const { sessions, clock } = setup();
    const s = await sessions.create(alice);
    clock.t += 16 * MIN;
    expect(await sessions.load(s.id)).toBeUndefined();
  });

  it('ends a session at the absolute timeout even with steady activity', async () => {
    const { sessions, clock } = setup();
    const s = await sessions.create(alice);
    for (let minute = 5; minute < 60; minute += 5) {
      clock.t += 5 * MIN;
      expect(await sessions.load(s.id), `at ${minute} min`).toBeDefined();
    }
    clock.t += 5 * MIN; // 60 min after login, 5 min idle
    expect(await sessions.load(s.id)).toBeUndefined();
  });

  it('stays ended once timed out (a later load does not revive it)', async () => {
    const { sessions, clock } = setup();
    const s = await sessions.create(alice);
    clock.t += 11 * MIN;
    expect(await sessions.load(s.id)).toBeUndefined();
    clock.t -= 5 * MIN; // even if the clock stepped back
    expect(await sessions.load(s.id)).toBeUndefined();
  });

  it('ends a session on destroy', async () => {
    const { sessions } = setup();
    const s = await sessions.create(alice);
    await sessions.destroy(s);
    expect(await sessions.load(s.id)).toBeUndefined();
  });

  it('does not end other sessions on destroy', async () => {
    const { sessions } = setup();
    const a = await sessions.create(alice);
    const b = await sessions.create(alice);
    await sessions.destroy(a);
    expect(await sessions.load(b.id)).toBeDefined();
  });

  it('rotates to a new id; the old id stops working and the new one carries the change', async () => {
    const { sessions, clock } = setup();
    const s = await sessions.create(alice);
    clock.t += MIN;
    const loaded = (await sessions.load(s.id))!;
    const rotated = await sessions.rotate(loaded, { mfa: { method: 'webauthn', at: clock.t } });
    expect(rotated.id).not.toBe(s.id);
    expect(rotated.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await sessions.load(s.id)).toBeUndefined();
    const fresh = await sessions.load(rotated.id);
    expect(fresh?.data.identity).toEqual(alice);
    expect(fresh?.data.mfa).toEqual({ method: 'webauthn', at: clock.t });
  });

  it('keeps the absolute timeout across a rotation (a step-up does not restart the session clock)', async () => {
    const { sessions, clock } = setup();
    const s = await sessions.create(alice);
    for (let i = 0; i < 10; i++) {
      clock.t += 5 * MIN;
      expect(await sessions.load(s.id)).toBeDefined();
    }
    // 50 min after login: step-up rotates the id.
    const rotated = await sessions.rotate((await sessions.load(s.id))!, { mfa: { method: 'totp', at: clock.t } });
    clock.t += 5 * MIN;
    expect(await sessions.load(rotated.id)).toBeDefined(); // 55 min
    clock.t += 4 * MIN;
    expect(await sessions.load(rotated.id)).toBeDefined(); // 59 min
    clock.t += 2 * MIN;
    expect(await sessions.load(rotated.id)).toBeUndefined(); // 61 min after login, only 2 min idle
  });

  it('rejects malformed ids without a store lookup', async () => {
    const { sessions, store } = setup();
    const before = store.gets;
    const malformed = [
      undefined,
      '',
      'short',
      'a'.repeat(42),
      'a'.repeat(44),
      'a'.repeat(42) + '+',
      'a'.repeat(42) + '/',
      'a'.repeat(42) + '=',
      'a'.repeat(42) + '.',
      ' ' + 'a'.repeat(42),
      'a'.repeat(10_000),
    ];
    for (const id of malformed) expect(await sessions.load(id), String(id)).toBeUndefined();
    expect(store.gets).toBe(before);
  });

  it('looks up a well-formed but unknown id once and finds nothing', async () => {
    const { sessions, store } = setup();
    const before = store.gets;
    expect(await sessions.load(randomBytes(32).toString('base64url'))).toBeUndefined();
    expect(store.gets).toBe(before + 1);
  });

  it('keeps the e-mail address out of the backing store when sessions sit on a SealedStore', async () => {
    const clock = { t: 0 };
    const inner = memory(() => clock.t);
    const sessions = new Sessions(new SealedStore(inner, randomBytes(32)), timeouts, () => clock.t);
    const s = await sessions.create(alice);
    const raw = await inner.get(`session:${s.hash}`);
    expect(raw).not.toBeNull();
    expect(raw).not.toContain('alice@example.org');
    expect(raw).not.toContain('Alice Example');
    expect((await sessions.load(s.id))?.data.identity.email).toBe('alice@example.org');
  });
});
