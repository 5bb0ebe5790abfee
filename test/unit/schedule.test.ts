// Time-boxed rooms (issue 20 §2): the `schedule:` field read with file:line for every problem, the room's
// state at a moment (windows, one recurrence rule, opensBefore, closeGrace, clock changes), and decide()
// ruling on it — allow inside with the close, RG_ROOM_NOT_OPEN outside with the next opening.
import { describe, expect, it } from 'vitest';
import { decide, roomOpenAt } from '../../src/policy/decide.js';
import { parsePolicyText } from '../../src/policy/parse.js';
import { parseInterval, scheduleAt, wallToInstant, type Schedule } from '../../src/policy/schedule.js';
import { explainText } from '../../src/policy/explain.js';
import { formatProblem, type Problem } from '../../src/config/yaml-source.js';
import type { Policy, PolicySet } from '../../src/policy/types.js';
import type { Identity } from '../../src/identity/types.js';

const FILE = 'policies/exam.yaml';
const yaml = (...lines: string[]) => lines.join('\n') + '\n';
const MIN = 60_000;
const HOUR = 60 * MIN;
const at = (iso: string) => Date.parse(iso);

function policy(...lines: string[]): Policy {
  const { policy: parsed, problems } = parsePolicyText(FILE, yaml(...lines));
  if (!parsed) throw new Error(problems.map(formatProblem).join('\n'));
  return parsed;
}

function problemsOf(...lines: string[]): Problem[] {
  const result = parsePolicyText(FILE, yaml(...lines));
  expect(result.policy).toBeUndefined();
  return result.problems;
}

const person = (sub: string, groups: string[]): Identity => ({ sub, iss: 'https://id.example.org', emailVerified: true, groups, email: `${sub}@example.org` });
const examiner = person('erika', ['exam-board']);
const stranger = person('sven', []);

const EXAM = [
  'rooms: [exam]',
  'allow:',
  '  - groups: [exam-board]',
  'schedule:',
  '  timeZone: Europe/Berlin',
  '  windows: ["2026-12-10T09:00/11:00"]',
  '  opensBefore: 15m',
  '  closeGrace: 5m',
];
const setOf = (p: Policy): PolicySet => ({ policies: [p], version: 'test' });

describe('reading schedule: in a policy file', () => {
  it('reads windows in the schedule\'s zone, with opensBefore and closeGrace', () => {
    const schedule = policy(...EXAM).schedule!;
    expect(schedule.timeZone).toBe('Europe/Berlin');
    // 09:00 in Berlin in December is 08:00 UTC.
    expect(schedule.windows).toEqual([{ start: at('2026-12-10T08:00:00Z'), end: at('2026-12-10T10:00:00Z'), line: 6 }]);
    expect(schedule.opensBefore).toBe(15 * MIN);
    expect(schedule.closeGrace).toBe(5 * MIN);
  });

  it('refuses an unknown time zone, a broken window and a window that ends before it starts, each with its line and field', () => {
    const problems = problemsOf(
      'rooms: [exam]', 'allow:', '  - anyone: true', 'schedule:',
      '  timeZone: Europe/Atlantis',
      '  windows:',
      '    - "2026-12-10T09:00/11:00"',
      '    - "2026-12-10 09:00/11:00"',
      '    - "2026-12-10T11:00/09:00"',
      '    - "2026-02-30T09:00/PT1H"',
      '  opensBefore: soon',
    );
    const at = (line: number, field: string) => problems.find((p) => p.line === line && p.field === field);
    expect(at(5, 'schedule.timeZone')?.message).toMatch(/Europe\/Atlantis.*not a time zone/);
    expect(at(8, 'schedule.windows[1]')?.message).toMatch(/not a date and time/);
    expect(at(9, 'schedule.windows[2]')?.message).toMatch(/ends before it starts/);
    expect(at(10, 'schedule.windows[3]')).toBeDefined();
    expect(at(11, 'schedule.opensBefore')?.message).toMatch(/duration/);
    expect(at(7, 'schedule.windows[0]')).toBeUndefined();
  });

  it('refuses a recurrence without DTSTART, with a zone of its own, too frequent, or without a duration', () => {
    const base = ['rooms: [exam]', 'allow:', '  - anyone: true', 'schedule:', '  timeZone: Europe/Berlin'];
    expect(problemsOf(...base, '  rrule: "RRULE:FREQ=WEEKLY"', '  duration: 1h')).toContainEqual(expect.objectContaining({ line: 6, field: 'schedule.rrule', message: expect.stringMatching(/DTSTART/) }));
    expect(problemsOf(...base, '  rrule: "DTSTART;TZID=America/New_York:20261201T090000\\nRRULE:FREQ=WEEKLY"', '  duration: 1h')).toContainEqual(expect.objectContaining({ line: 6, field: 'schedule.rrule', message: expect.stringMatching(/timeZone/) }));
    expect(problemsOf(...base, '  rrule: "DTSTART:20261201T090000\\nRRULE:FREQ=MINUTELY"', '  duration: 1h')).toContainEqual(expect.objectContaining({ line: 6, field: 'schedule.rrule', message: expect.stringMatching(/FREQ must be/) }));
    expect(problemsOf(...base, '  rrule: "DTSTART:20261201T090000\\nRRULE:FREQ=WEEKLY;BYDAY=XX"', '  duration: 1h')).toContainEqual(expect.objectContaining({ line: 6, field: 'schedule.rrule' }));
    expect(problemsOf(...base, '  rrule: "DTSTART:20261201T090000\\nRRULE:FREQ=WEEKLY"')).toContainEqual(expect.objectContaining({ line: 5, field: 'schedule.duration' }));
    expect(problemsOf(...base)).toContainEqual(expect.objectContaining({ line: 5, field: 'schedule', message: expect.stringMatching(/would never open/) }));
    expect(problemsOf('rooms: [exam]', 'allow:', '  - anyone: true', 'schedule:', '  windows: ["2026-12-10T09:00/11:00"]')).toContainEqual(expect.objectContaining({ field: 'schedule.timeZone', message: expect.stringMatching(/required/) }));
    expect(problemsOf(...base, '  windows: ["2026-12-10T09:00/11:00"]', '  when: always')).toContainEqual(expect.objectContaining({ line: 7, field: 'schedule.when' }));
  });

  it('reads the three forms of a window end: a time of day, a date and time, a duration; and offsets', () => {
    const start = at('2026-12-10T08:00:00Z');
    expect(parseInterval('2026-12-10T09:00/11:00', 'Europe/Berlin')).toEqual({ start, end: start + 2 * HOUR });
    expect(parseInterval('2026-12-10T09:00/2026-12-11T09:00', 'Europe/Berlin')).toEqual({ start, end: start + 24 * HOUR });
    expect(parseInterval('2026-12-10T09:00/PT1H30M', 'Europe/Berlin')).toEqual({ start, end: start + 90 * MIN });
    expect(parseInterval('2026-12-10T09:00Z/11:00', 'Europe/Berlin')).toEqual({ start: at('2026-12-10T09:00:00Z'), end: at('2026-12-10T11:00:00Z') });
    expect(parseInterval('2026-12-10T09:00+05:30/10:00', 'Europe/Berlin')).toEqual({ start: at('2026-12-10T03:30:00Z'), end: at('2026-12-10T04:30:00Z') });
    expect(typeof parseInterval('2026-12-10T09:00', 'Europe/Berlin')).toBe('string');
    expect(typeof parseInterval('2026-12-10T09:00/P', 'Europe/Berlin')).toBe('string');
  });

  it('refuses an offset no zone has: minutes past 59, beyond +14:00 or -14:00', () => {
    for (const bad of ['2026-12-10T09:00+14:99/10:00', '2026-12-10T09:00+01:60/10:00', '2026-12-10T09:00+15:00/10:00', '2026-12-10T09:00-23:00/10:00', '2026-12-10T09:00+14:30/10:00']) {
      expect(parseInterval(bad, 'Europe/Berlin'), bad).toMatch(/not a date and time/);
    }
    expect(parseInterval('2026-12-10T09:00+14:00/10:00', 'Europe/Berlin')).toEqual({ start: at('2026-12-09T19:00:00Z'), end: at('2026-12-09T20:00:00Z') });
    expect(parseInterval('2026-12-10T09:00-12:00/10:00', 'Europe/Berlin')).toEqual({ start: at('2026-12-10T21:00:00Z'), end: at('2026-12-10T22:00:00Z') });
  });
});

describe('when a time-boxed room is open', () => {
  const schedule = policy(...EXAM).schedule!;

  it('opens opensBefore ahead of the window and closes closeGrace after it', () => {
    expect(scheduleAt(schedule, at('2026-12-10T07:44:59Z'))).toEqual({ open: false, opensAt: at('2026-12-10T07:45:00Z') });
    expect(scheduleAt(schedule, at('2026-12-10T07:45:00Z'))).toEqual({ open: true, closesAt: at('2026-12-10T10:05:00Z') });
    expect(scheduleAt(schedule, at('2026-12-10T10:04:59Z'))).toEqual({ open: true, closesAt: at('2026-12-10T10:05:00Z') });
    // After the last window there is no next opening.
    expect(scheduleAt(schedule, at('2026-12-10T10:05:00Z'))).toEqual({ open: false });
  });

  it('follows a weekly recurrence in wall time across the change to summer time', () => {
    const weekly: Schedule = { timeZone: 'Europe/Berlin', windows: [], recurrence: { rule: 'DTSTART:20260317T090000\nRRULE:FREQ=WEEKLY;COUNT=3', duration: HOUR, line: 1 }, opensBefore: 0, closeGrace: 0, line: 1 };
    // 17 March is winter time (09:00 = 08:00Z); 24 March too; 31 March is summer time (09:00 = 07:00Z).
    expect(scheduleAt(weekly, at('2026-03-17T08:30:00Z'))).toEqual({ open: true, closesAt: at('2026-03-17T09:00:00Z') });
    expect(scheduleAt(weekly, at('2026-03-25T12:00:00Z'))).toEqual({ open: false, opensAt: at('2026-03-31T07:00:00Z') });
    expect(scheduleAt(weekly, at('2026-03-31T07:59:59Z')).open).toBe(true);
    // COUNT=3: nothing after the third meeting.
    expect(scheduleAt(weekly, at('2026-03-31T08:00:00Z'))).toEqual({ open: false });
  });

  it('keeps a room open across back-to-back windows, closing at the end of the run', () => {
    const joined = policy('rooms: [exam]', 'allow:', '  - anyone: true', 'schedule:', '  timeZone: UTC', '  windows: ["2026-12-10T09:00/10:00", "2026-12-10T10:00/11:00", "2026-12-10T13:00/14:00"]').schedule!;
    expect(scheduleAt(joined, at('2026-12-10T09:30:00Z'))).toEqual({ open: true, closesAt: at('2026-12-10T11:00:00Z') });
    expect(scheduleAt(joined, at('2026-12-10T11:30:00Z'))).toEqual({ open: false, opensAt: at('2026-12-10T13:00:00Z') });
  });

  it('reads a time skipped or repeated by a clock change the way a calendar does', () => {
    // 02:30 does not exist on 29 March 2026 in Berlin: it counts from after the jump (03:30 CEST).
    expect(wallToInstant(Date.UTC(2026, 2, 29, 2, 30), 'Europe/Berlin')).toBe(at('2026-03-29T01:30:00Z'));
    // 02:30 happens twice on 25 October 2026: the first one (CEST).
    expect(wallToInstant(Date.UTC(2026, 9, 25, 2, 30), 'Europe/Berlin')).toBe(at('2026-10-25T00:30:00Z'));
  });
});

describe('decide() on a time-boxed room', () => {
  const set = setOf(policy(...EXAM));

  it('allows an examiner inside the window and says when the room closes', () => {
    const d = decide({ identity: examiner }, 'exam', set, at('2026-12-10T09:00:00Z'));
    expect(d).toMatchObject({ outcome: 'allow', reasons: [], schedule: { open: true, closesAt: at('2026-12-10T10:05:00Z'), timeZone: 'Europe/Berlin' } });
    expect(explainText(d)).toMatch(/schedule: +open; closes at 2026-12-10T10:05:00.000Z \(10 Dec 2026, 11:05 Europe\/Berlin\)/);
  });

  it('refuses the same examiner before the window with RG_ROOM_NOT_OPEN and the next opening', () => {
    const d = decide({ identity: examiner }, 'exam', set, at('2026-12-10T07:00:00Z'));
    expect(d).toMatchObject({ outcome: 'deny', reasons: ['RG_ROOM_NOT_OPEN'], schedule: { open: false, opensAt: at('2026-12-10T07:45:00Z') } });
    expect(explainText(d)).toMatch(/opens at 2026-12-10T07:45:00.000Z/);
    expect(decide({ identity: examiner }, 'exam', set, at('2026-12-10T10:05:00Z'))).toMatchObject({ outcome: 'deny', reasons: ['RG_ROOM_NOT_OPEN'] });
  });

  it('tells someone the room does not admit nothing about its times', () => {
    const d = decide({ identity: stranger }, 'exam', set, at('2026-12-10T07:00:00Z'));
    expect(d).toMatchObject({ outcome: 'deny', reasons: ['RG_POLICY_NOT_ALLOWED'] });
    expect(d.schedule).toBeUndefined();
  });

  it('asks for no second factor while the room is closed, and for one once it is open', () => {
    const high = setOf(policy(...EXAM, 'risk: high'));
    expect(decide({ identity: examiner }, 'exam', high, at('2026-12-10T07:00:00Z')).reasons).toEqual(['RG_ROOM_NOT_OPEN']);
    expect(decide({ identity: examiner }, 'exam', high, at('2026-12-10T09:00:00Z')).reasons).toEqual(['RG_MFA_REQUIRED']);
  });

  it('holds guests to the schedule too', () => {
    const guests = setOf(policy(...EXAM, 'guests: { invites: true }'));
    const guest: Identity = { sub: 'guest:1', iss: 'x', emailVerified: false, groups: [], guest: { room: 'exam', invitation: 'i', expiresAt: at('2026-12-11T00:00:00Z') } };
    expect(decide({ identity: guest }, 'exam', guests, at('2026-12-10T09:00:00Z')).outcome).toBe('allow');
    expect(decide({ identity: guest }, 'exam', guests, at('2026-12-10T11:00:00Z')).reasons).toEqual(['RG_ROOM_NOT_OPEN']);
  });

  it('roomOpenAt answers for admissions given earlier: open rooms and rooms without a schedule pass', () => {
    const both: PolicySet = { policies: [policy(...EXAM), { ...policy('rooms: [lobby]', 'allow:', '  - anyone: true'), file: 'policies/lobby.yaml' }], version: 't' };
    expect(roomOpenAt('exam', both, at('2026-12-10T09:00:00Z'))).toBe(true);
    expect(roomOpenAt('exam', both, at('2026-12-10T10:05:00Z'))).toBe(false);
    expect(roomOpenAt('lobby', both, at('2026-12-10T10:05:00Z'))).toBe(true);
  });
});
