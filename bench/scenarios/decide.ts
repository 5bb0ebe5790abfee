// Scenario 6: the cost of one decide() with 10, 1,000 and 10,000 policy files, against itself with 10
// files. Logarithmic growth would make 1,000 files cost at most 3× and 10,000 at most 4× (log n / log 10).
// Also times the room lookup alone: the linear scan policyFor() vs. the room index (src/policy/rooms.ts).
import { performance } from 'node:perf_hooks';
import { parsePolicyText } from '../../src/policy/parse.js';
import { decide, policyFor } from '../../src/policy/decide.js';
import { roomIndexOf } from '../../src/policy/rooms.js';
import type { Policy, PolicySet, Subject } from '../../src/policy/types.js';
import { ratioRow, type Row } from '../report.js';
import { median } from '../stats.js';
import type { Scenario, Settings } from './scenario.js';

const SIZES = [10, 1_000, 10_000] as const;

/** `count` files shaped like real ones: an exact room, a glob, allow and deny rules. */
function policySet(count: number): PolicySet {
  const policies: Policy[] = [];
  for (let i = 0; i < count; i++) {
    const text = `rooms: [team-${i}, "dept-${i}-*"]\nallow:\n  - groups: [g${i}]\n  - domains: [example.org]\ndeny:\n  - groups: [blocked]\nmoderators:\n  - groups: [chair-${i}]\n`;
    const { policy, problems } = parsePolicyText(`p${i}.yaml`, text);
    if (!policy) throw new Error(`bench policy ${i} does not parse: ${JSON.stringify(problems)}`);
    policies.push(policy);
  }
  return { policies, version: String(count) };
}

/** Rooms asked about: exact names, glob matches and unknown rooms spread over the whole set. */
function roomsFor(count: number): string[] {
  const rooms: string[] = [];
  for (let k = 0; k < 64; k++) {
    const i = Math.floor((k * 7919) % count);
    rooms.push(k % 3 === 0 ? `team-${i}` : k % 3 === 1 ? `dept-${i}-weekly` : `nobody-${k}`);
  }
  return rooms;
}

/** Nanoseconds per call, the median of `reps` timings of at least `ms` each. */
function nsPerCall(rooms: string[], call: (room: string) => unknown, settings: Settings): number {
  let sink = 0;
  // Warm up (the JIT) for as long as one timing, so the first size measured is not the coldest.
  const warm = performance.now();
  for (let i = 0; performance.now() - warm < settings.decideMs; i++) sink += call(rooms[i % rooms.length]!) ? 1 : 0;
  const runs: number[] = [];
  for (let rep = 0; rep < settings.reps; rep++) {
    let calls = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < settings.decideMs) {
      for (const room of rooms) sink += call(room) ? 1 : 0;
      calls += rooms.length;
      elapsed = performance.now() - start;
    }
    runs.push((elapsed * 1e6) / calls);
  }
  if (sink < 0) console.log(sink);
  return median(runs);
}

export const decideScenario: Scenario = {
  name: 'decide',
  async run(_env, settings) {
    const subject: Subject = { identity: { sub: 'u', iss: 'i', email: 'u@example.org', emailVerified: true, groups: ['g5', 'staff'] } };
    const now = Date.now();
    const timings = SIZES.map((size) => {
      const set = policySet(size);
      const rooms = roomsFor(size);
      roomIndexOf(set);
      return {
        size,
        decide: nsPerCall(rooms, (room) => decide(subject, room, set, now), settings),
        scan: nsPerCall(rooms, (room) => policyFor(room, set), settings),
        index: nsPerCall(rooms, (room) => roomIndexOf(set).match(room), settings),
      };
    });
    const [small, ...larger] = timings;
    const rows: Row[] = [];
    for (const t of larger) {
      const logGrowth = Math.log(t.size) / Math.log(small!.size);
      const files = `${t.size.toLocaleString('en-US')} vs ${small!.size} files`;
      rows.push(ratioRow({ scenario: 'decide() cost per decision', metric: files, unit: 'ns', baseline: small!.decide, roomguard: t.decide, goal: `≤ ${logGrowth.toFixed(1)}× (log growth)` }, undefined, logGrowth));
      rows.push(ratioRow({ scenario: 'room lookup: room index', metric: files, unit: 'ns', baseline: small!.index, roomguard: t.index, goal: `≤ ${logGrowth.toFixed(1)}× (log growth)` }, undefined, logGrowth));
    }
    const largest = timings[timings.length - 1]!;
    rows.push(ratioRow({ scenario: 'room lookup: room index vs linear scan', metric: `${largest.size.toLocaleString('en-US')} files`, unit: 'ns', baseline: largest.scan, roomguard: largest.index, goal: 'report' }));
    return rows;
  },
};
