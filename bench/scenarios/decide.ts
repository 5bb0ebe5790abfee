// Scenario 6: the cost of one decide() with 10, 1,000 and 10,000 policy files, against itself with 10
// files. Logarithmic growth would make 1,000 files cost at most 3× and 10,000 at most 4× (log n / log 10).
// Also times the room lookup alone: the room index (src/policy/rooms.ts, what policyFor() uses) vs. the
// plain scan of every pattern of every file that it replaced (kept here as the reference).
import { performance } from 'node:perf_hooks';
import { parsePolicyText } from '../../src/policy/parse.js';
import { decide } from '../../src/policy/decide.js';
import { patternMatches, roomIndexOf, specificity, type RoomMatch } from '../../src/policy/rooms.js';
import type { Policy, PolicySet, Subject } from '../../src/policy/types.js';
import { ratioRow, type Row } from '../report.js';
import { median } from '../stats.js';
import type { Scenario, Settings } from './scenario.js';

const SIZES = [10, 1_000, 10_000] as const;

/** `count` files shaped like real ones (an exact room, a glob, allow and deny rules), all parsed alike. */
function policySet(count: number): PolicySet {
  const text = `rooms: [team-0, "dept-0-*"]\nallow:\n  - groups: [g0]\n  - domains: [example.org]\ndeny:\n  - groups: [blocked]\nmoderators:\n  - groups: [chair-0]\n`;
  const { policy: template, problems } = parsePolicyText('p0.yaml', text);
  if (!template) throw new Error(`bench policy does not parse: ${JSON.stringify(problems)}`);
  // Parsing 10,000 YAML files would take longer than the measurement; only names and groups differ.
  const policies: Policy[] = Array.from({ length: count }, (_, i) => ({
    ...template, file: `p${i}.yaml`, sha256: `${i}`, rooms: [`team-${i}`, `dept-${i}-*`],
    allow: [{ ...template.allow[0]!, groups: [`g${i}`] }, template.allow[1]!], moderators: [{ ...template.moderators[0]!, groups: [`chair-${i}`] }],
  }));
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

/** Nanoseconds per call over one slice of about `ms` milliseconds, reading the clock every `batch` calls. */
function slice(rooms: string[], call: (room: string) => unknown, ms: number, batch: number): number {
  let sink = 0;
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < batch; i++, calls++) sink += call(rooms[calls % rooms.length]!) ? 1 : 0;
    elapsed = performance.now() - start;
  }
  if (sink < 0) console.log(sink);
  return (elapsed * 1e6) / calls;
}

/** Calls per clock reading: about 0.1 ms of work, so slow cases still stop on time and fast ones are not skewed by the clock. */
const batchFor = (ns: number) => Math.max(1, Math.round(100_000 / ns));

/** The lookup before the index: every pattern of every file, the first most specific wins, later equals tie. */
function scan(room: string, set: PolicySet): RoomMatch {
  let best: { policy: Policy; pattern: string; rank: number } | undefined;
  let ties: Policy[] = [];
  for (const policy of set.policies) {
    let own: { pattern: string; rank: number } | undefined;
    for (const pattern of policy.rooms) {
      if (patternMatches(pattern, room) && (!own || specificity(pattern) > own.rank)) own = { pattern, rank: specificity(pattern) };
    }
    if (!own) continue;
    if (!best || own.rank > best.rank) {
      best = { policy, ...own };
      ties = [];
    } else if (own.rank === best.rank) ties.push(policy);
  }
  return best ? { policy: best.policy, pattern: best.pattern, ties } : { ties };
}

type Measured = 'decide' | 'scan' | 'index';

export const decideScenario: Scenario = {
  name: 'decide',
  async run(_env, settings: Settings) {
    const subject: Subject = { identity: { sub: 'u', iss: 'i', email: 'u@example.org', emailVerified: true, groups: ['g5', 'staff'] } };
    const now = Date.now();
    const cases = SIZES.map((size) => {
      const set = policySet(size);
      roomIndexOf(set);
      const calls: Record<Measured, (room: string) => unknown> = {
        decide: (room) => decide(subject, room, set, now),
        scan: (room) => scan(room, set),
        index: (room) => roomIndexOf(set).match(room),
      };
      return { size, rooms: roomsFor(size), calls, runs: { decide: [] as number[], scan: [] as number[], index: [] as number[] } };
    });
    const kinds: Measured[] = ['decide', 'scan', 'index'];
    // Warm the JIT on every case, then time short slices round-robin over sizes, so a burst of load on
    // the shared machine lands on all sizes alike instead of on whichever was being timed.
    const batches = cases.map((c) => Object.fromEntries(kinds.map((kind) => [kind, batchFor(slice(c.rooms, c.calls[kind], settings.decideMs, 1))])) as Record<Measured, number>);
    const slices = settings.reps * 3;
    for (let rep = 0; rep < slices; rep++) {
      cases.forEach((c, i) => {
        for (const kind of kinds) c.runs[kind].push(slice(c.rooms, c.calls[kind], settings.decideMs / 3, batches[i]![kind]));
      });
    }
    const timings = cases.map((c) => ({ size: c.size, decide: median(c.runs.decide), scan: median(c.runs.scan), index: median(c.runs.index) }));
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
