// Recurrences are expanded near the moment asked about (attack report F1): the work per decision does not
// grow with the age of the rule's DTSTART, the moved expansion finds exactly the occurrences rrule finds
// from the original DTSTART, and the policy check refuses rules that cannot be expanded cheaply.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import rrulePkg from 'rrule';
import { checkRecurrence, expansionWork, occurrencesFrom, scheduleAt, MAX_OCCURRENCES_PER_DECISION, type Schedule } from '../../src/policy/schedule.js';

const { rrulestr } = rrulePkg;
const HOUR = 3_600_000;
const at = (iso: string) => Date.parse(iso);
const schedule = (rule: string): Schedule => ({ timeZone: 'Europe/Berlin', windows: [], recurrence: { rule, duration: HOUR, line: 1 }, opensBefore: 0, closeGrace: 0, line: 1 });

function workFor(rule: string, now: number): number {
  const before = expansionWork.occurrences;
  scheduleAt(schedule(rule), now);
  return expansionWork.occurrences - before;
}

describe('recurrence expansion cost', () => {
  const now = at('2026-12-03T12:00:00Z');

  it('generates the same number of occurrences for a daily rule from 1990 as for one from last month', () => {
    const recent = workFor('DTSTART:20261101T090000\nRRULE:FREQ=DAILY', now);
    const old = workFor('DTSTART:19900101T090000\nRRULE:FREQ=DAILY', now);
    expect(old).toBeLessThanOrEqual(recent + 2);
    // Walking from 1990 would be over 13,000 occurrences.
    expect(old).toBeLessThan(200);
  });

  it('bounds a weekday rule from 2000 and a yearly rule from 1900 the same way', () => {
    expect(workFor('DTSTART:20000103T090000\nRRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR', now)).toBeLessThan(200);
    expect(workFor('DTSTART:19000101T090000\nRRULE:FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24', now)).toBeLessThan(200);
    expect(workFor('DTSTART:20000101T090000\nRRULE:FREQ=MONTHLY;INTERVAL=5;BYDAY=2TU', now)).toBeLessThan(200);
  });

  it('never generates more than the hard cap, even for a rule the check would refuse', () => {
    expect(workFor('DTSTART:20261201T000000\nRRULE:FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23;BYMINUTE=0,10,20,30,40,50;BYSECOND=0,15,30,45', now)).toBeLessThanOrEqual(MAX_OCCURRENCES_PER_DECISION);
  });

  it('finds exactly the occurrences rrule finds from the original DTSTART', () => {
    const days = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];
    const rule = fc.record({
      freq: fc.constantFrom('DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'),
      interval: fc.integer({ min: 1, max: 3 }),
      byday: fc.option(fc.subarray(days, { minLength: 1 }), { nil: undefined }),
      bymonthday: fc.option(fc.constantFrom('1', '15', '-1', '31', '1,10'), { nil: undefined }),
      byhour: fc.option(fc.constantFrom('9', '9,14', '0,23'), { nil: undefined }),
      wkst: fc.constantFrom('MO', 'SU'),
      start: fc.date({ min: new Date('2019-01-01T00:00:00Z'), max: new Date('2026-11-01T00:00:00Z'), noInvalidDate: true }),
      from: fc.date({ min: new Date('2024-01-01T00:00:00Z'), max: new Date('2028-01-01T00:00:00Z'), noInvalidDate: true }),
    });
    fc.assert(
      fc.property(rule, (r) => {
        const parts = [`FREQ=${r.freq}`, `INTERVAL=${r.interval}`, `WKST=${r.wkst}`];
        if (r.byday) parts.push(`BYDAY=${r.byday.join(',')}`);
        if (r.bymonthday) parts.push(`BYMONTHDAY=${r.bymonthday}`);
        if (r.byhour) parts.push(`BYHOUR=${r.byhour}`);
        const dt = r.start.toISOString().replace(/[-:]/g, '').slice(0, 15);
        const text = `DTSTART:${dt}\nRRULE:${parts.join(';')}`;
        if (checkRecurrence(text) !== undefined) return;
        const from = r.from.getTime();
        const mine = occurrencesFrom(text, from, from);
        if (mine.length === 0) return;
        const full = rrulestr(text, { forceset: false, cache: false } as never);
        const reference = full.between(new Date(from), new Date(mine.at(-1)!), true).map((d) => d.getTime());
        expect(mine).toEqual(reference);
      }),
      { numRuns: 60 },
    );
  });
});

describe('recurrences the policy check refuses', () => {
  it('refuses a rule with a meeting every second, though its FREQ is DAILY', () => {
    const seconds = Array.from({ length: 60 }, (_, i) => i).join(',');
    expect(checkRecurrence(`DTSTART:20261201T090000\nRRULE:FREQ=DAILY;BYMINUTE=0,30;BYSECOND=${seconds}`)).toMatch(/meetings a day/);
    expect(checkRecurrence('DTSTART:20261201T090000\nRRULE:FREQ=DAILY;BYHOUR=9,10,11;BYMINUTE=0,30')).toBeUndefined();
  });

  it('refuses a rule that never meets (rrule would walk to the year 9999) and one that meets too rarely', () => {
    expect(checkRecurrence('DTSTART:20261201T090000\nRRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30')).toMatch(/nine years/);
    expect(checkRecurrence('DTSTART:20261201T090000\nRRULE:FREQ=YEARLY;INTERVAL=12')).toMatch(/nine years/);
    expect(checkRecurrence('DTSTART:20261201T090000\nRRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29')).toBeUndefined();
  });

  it('refuses a COUNT longer than the cap and BYEASTER', () => {
    expect(checkRecurrence('DTSTART:20261201T090000\nRRULE:FREQ=DAILY;COUNT=5000')).toMatch(/COUNT/);
    expect(checkRecurrence('DTSTART:20261201T090000\nRRULE:FREQ=DAILY;COUNT=100')).toBeUndefined();
    expect(checkRecurrence('DTSTART:20261201T090000\nRRULE:FREQ=YEARLY;BYEASTER=0')).toMatch(/BYEASTER/);
  });
});
