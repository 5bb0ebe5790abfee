// A request that is still under way when its session ends (logout, revocation, back-channel logout)
// must not bring the session back by writing it again.
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory.js';
import { Sessions } from '../../src/session/sessions.js';

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
