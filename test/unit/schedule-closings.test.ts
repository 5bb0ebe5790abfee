// The end of a time-boxed room at the backend (attack report F5): closes judged under the policy in force
// at each check (a reload that closes the room early ends the meeting then), rooms to watch kept in the
// store (an instance that restarted, or never admitted anyone, still ends them), once across instances,
// and a failed end tried again instead of being marked done.
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory.js';
import { ScheduleClosings, type ScheduleClosingsDeps } from '../../src/rooms/closings.js';
import type { ScheduleState } from '../../src/policy/schedule.js';

const T0 = Date.UTC(2026, 11, 10, 9, 0);
const HOUR = 3_600_000;

/** A world with a clock and a schedule the test moves (as a reload would), and what the backend was asked. */
function world() {
  const w = {
    now: T0,
    state: { open: true, closesAt: T0 + 2 * HOUR } as ScheduleState | undefined,
    ends: [] as string[],
    failNext: 0,
    records: [] as Array<Record<string, string | boolean>>,
  };
  const store = new MemoryStore();
  const make = (): ScheduleClosings => {
    const deps: ScheduleClosingsDeps = {
      store,
      now: () => w.now,
      stateOf: () => w.state,
      end: async (room) => {
        if (w.failNext > 0) {
          w.failNext--;
          throw new Error('BBB unreachable');
        }
        w.ends.push(room);
        return 'ended';
      },
      recorded: (_room, details) => w.records.push(details),
    };
    const closings = new ScheduleClosings(deps);
    closings.stop(); // checks are driven by the test
    return closings;
  };
  return { w, store, make };
}

describe('ending a time-boxed room at the backend', () => {
  it('ends the meeting when a reload closes the room before the close seen at admission', async () => {
    const { w, make } = world();
    const a = make();
    a.watch('exam', T0 + 2 * HOUR);
    await a.check();
    expect(w.ends).toEqual([]);
    // A reload shortens the window: the room is closed now, an hour before the close the admission saw.
    w.now = T0 + 10 * 60_000;
    w.state = { open: false };
    await a.check();
    expect(w.ends).toEqual(['exam']);
    await a.check();
    expect(w.ends).toEqual(['exam']);
  });

  it('does not end a room the reload kept open longer', async () => {
    const { w, make } = world();
    const a = make();
    a.watch('exam', T0 + HOUR);
    w.now = T0 + HOUR + 1;
    w.state = { open: true, closesAt: T0 + 3 * HOUR };
    await a.check();
    expect(w.ends).toEqual([]);
  });

  it('is ended by an instance that never admitted anyone to the room (or restarted), once across instances', async () => {
    const { w, make } = world();
    const a = make();
    a.watch('exam', T0 + 2 * HOUR);
    a.stop();
    const b = make();
    const c = make();
    w.now = T0 + 2 * HOUR + 1;
    w.state = { open: false };
    await Promise.all([b.check(), c.check()]);
    expect(w.ends).toEqual(['exam']);
    expect(w.records).toEqual([expect.objectContaining({ by: 'schedule', backendEnd: 'ended', closedAt: new Date(T0 + 2 * HOUR).toISOString() })]);
  });

  it('tries a failed end again once its claim lapses, and marks it done only after it worked', async () => {
    const { w, store, make } = world();
    const a = make();
    a.watch('exam', T0 + 2 * HOUR);
    w.now = T0 + 2 * HOUR + 1;
    w.state = { open: false };
    w.failNext = 1;
    await a.check();
    expect(w.ends).toEqual([]);
    expect(w.records.at(-1)?.backendEnd).toMatch(/^failed: BBB unreachable/);
    // While the claim holds, nobody asks again; once it lapses, the next check does.
    await a.check();
    expect(w.ends).toEqual([]);
    await store.delete(`room:closing:exam:${T0 + 2 * HOUR}`);
    const b = make();
    await b.check();
    expect(w.ends).toEqual(['exam']);
    await store.delete(`room:closing:exam:${T0 + 2 * HOUR}`);
    await a.check();
    await b.check();
    expect(w.ends).toEqual(['exam']);
  });
});
