// A session may carry shorter lifetimes than the gateway's (a guest's): they bound loading, the store
// TTL and the person's session list, and can never be longer than the gateway's own.
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory.js';
import { Sessions } from '../../src/session/sessions.js';

const member = { sub: 'dora', iss: 'https://idp.example', emailVerified: true, groups: [] };
const guest = { sub: 'guest:abc', iss: 'https://meet.example', emailVerified: false, groups: [] };

function setup() {
  let now = Date.UTC(2026, 10, 27, 9, 0, 0);
  const store = new MemoryStore(() => now);
  const sessions = new Sessions(store, { idleMs: 30 * 60_000, absoluteMs: 12 * 3_600_000 }, () => now);
  return { sessions, advance: (ms: number) => (now += ms) };
}

describe('per-session limits', () => {
  it('ends a session idle past its own limit while ordinary sessions live on', async () => {
    const { sessions, advance } = setup();
    const short = await sessions.create(guest, { limits: { idleMs: 15 * 60_000, absoluteMs: 4 * 3_600_000 } });
    const normal = await sessions.create(member);
    advance(16 * 60_000);
    expect(await sessions.load(short.id)).toBeUndefined();
    expect(await sessions.load(normal.id)).toBeDefined();
  });

  it('ends a session at its own absolute limit however active it is', async () => {
    const { sessions, advance } = setup();
    const short = await sessions.create(guest, { limits: { idleMs: 15 * 60_000, absoluteMs: 60 * 60_000 } });
    for (let minute = 10; minute < 60; minute += 10) {
      advance(10 * 60_000);
      expect(await sessions.load(short.id), `at ${minute} min`).toBeDefined();
    }
    advance(10 * 60_000);
    expect(await sessions.load(short.id)).toBeUndefined();
    expect(await sessions.listFor('guest:abc')).toEqual([]);
  });

  it('never outlives the gateway\'s own limits, whatever it carries', async () => {
    const { sessions, advance } = setup();
    const long = await sessions.create(guest, { limits: { idleMs: 24 * 3_600_000, absoluteMs: 48 * 3_600_000 } });
    advance(31 * 60_000);
    expect(await sessions.load(long.id)).toBeUndefined();
  });
});
