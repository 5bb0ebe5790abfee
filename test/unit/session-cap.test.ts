// A person has at most `maxPerPerson` sessions (issue 15, class 8): a new login ends the oldest beyond it,
// tells every instance through the session bus, and reports what it ended so the gateway can audit it.
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory.js';
import { openSessionBus, type SessionEvent } from '../../src/store/bus.js';
import { Sessions } from '../../src/session/sessions.js';

const dora = { sub: 'dora', iss: 'https://idp.example', emailVerified: true, groups: [] };
const erik = { sub: 'erik', iss: 'https://idp.example', emailVerified: true, groups: [] };
const MIN = 60_000;

async function setup(maxPerPerson?: number) {
  const clock = { t: Date.UTC(2030, 0, 1, 9, 0, 0) };
  const store = new MemoryStore(() => clock.t);
  const bus = await openSessionBus(store, 'test:');
  const events: SessionEvent[] = [];
  bus.subscribe((event) => events.push(event));
  const sessions = new Sessions(store, { idleMs: 30 * MIN, absoluteMs: 12 * 60 * MIN }, () => clock.t, { bus, ...(maxPerPerson !== undefined ? { maxPerPerson } : {}) });
  /** Logs dora in once more, a minute after the last login. */
  const login = async (who = dora) => {
    clock.t += MIN;
    return sessions.create(who);
  };
  return { sessions, login, events, clock };
}

describe('sessions per person', () => {
  it('ends the oldest sessions beyond the limit, keeps the newest, and says which it ended (oldest first)', async () => {
    const { sessions, login } = await setup(3);
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await login());
    for (const s of made.slice(0, 2)) expect(await sessions.load(s.id)).toBeUndefined();
    for (const s of made.slice(2)) expect(await sessions.load(s.id)).toBeDefined();
    expect(made.map((s) => s.ended.map((e) => e.hash))).toEqual([[], [], [], [made[0]!.hash], [made[1]!.hash]]);
    expect((await sessions.listFor('dora')).map((s) => s.hash)).toEqual(made.slice(2).reverse().map((s) => s.hash));
  });

  it('tells every instance through the session bus (their caches and WebSockets go with it)', async () => {
    const { login, events } = await setup(1);
    const first = await login();
    events.length = 0;
    await login();
    expect(events).toContainEqual({ kind: 'ended', hash: first.hash });
  });

  it('counts per person: another person\'s sessions are neither counted nor ended', async () => {
    const { sessions, login } = await setup(2);
    const eriks = [await login(erik), await login(erik)];
    for (let i = 0; i < 4; i++) await login();
    for (const s of eriks) expect(await sessions.load(s.id)).toBeDefined();
    expect(await sessions.listFor('dora')).toHaveLength(2);
  });

  it('orders by login time: a session renewed by a step-up is still as old as its login', async () => {
    const { sessions, login, clock } = await setup(2);
    const oldest = await login();
    const middle = await login();
    clock.t += MIN;
    const stepped = await sessions.rotate((await sessions.load(oldest.id))!, { mfa: { method: 'totp', at: clock.t } });
    const newest = await login();
    expect(newest.ended.map((e) => e.hash)).toEqual([stepped.hash]);
    expect(await sessions.load(middle.id)).toBeDefined();
  });

  it('does not count sessions that already ended by themselves', async () => {
    const { sessions, login, clock } = await setup(2);
    await login();
    clock.t += 31 * MIN; // idle past the timeout
    const a = await login();
    const b = await login();
    expect(b.ended).toEqual([]);
    expect(await sessions.load(a.id)).toBeDefined();
  });

  it('has no limit where none is set (the CLI and tools that never create sessions)', async () => {
    const { sessions, login } = await setup();
    const made = [];
    for (let i = 0; i < 30; i++) made.push(await login());
    expect(made.every((s) => s.ended.length === 0)).toBe(true);
    expect(await sessions.listFor('dora')).toHaveLength(30);
  });
});
