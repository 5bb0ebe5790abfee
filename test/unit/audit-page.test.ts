// The reviewer page's chart and rows: buckets that fit the range (minutes, hours, days, on the reader's
// clock), one row per join with its WebSockets counted, and a records table a keyboard can scroll.
import { describe, expect, it } from 'vitest';
import { foldWebSockets, joinsOverTime, renderAuditPage } from '../../src/ui/audit-page.js';
import type { AuditRecord } from '../../src/audit/record.js';

let seq = 0;
function entry(ts: string, extra: Partial<AuditRecord> = {}): AuditRecord {
  seq++;
  return { v: 1, id: `r${seq}`, ts, seq, instance: 'gw', type: 'room.decision', outcome: 'allow', room: 'board', session: 'aaaa', prev: '', hash: '', ...extra } as AuditRecord;
}
const socket = (ts: string, extra: Partial<AuditRecord> = {}) => entry(ts, { details: { websocket: true }, ...extra });
const status = { ok: true, checkedAt: '2026-03-01T10:00:00.000Z', records: 0, problems: 0, signatures: 'checked' as const };

describe('joinsOverTime', () => {
  it('draws an hour as minutes, not as one or two hour bars', () => {
    const chart = joinsOverTime([entry('2026-03-01T10:10:00Z'), entry('2026-03-01T10:40:00Z', { outcome: 'deny' })], { since: Date.parse('2026-03-01T10:00:00Z'), until: Date.parse('2026-03-01T11:00:00Z') });
    expect([chart.unit, chart.count, chart.buckets.length]).toEqual(['minute', 5, 12]);
    expect(chart.buckets[2]).toMatchObject({ allowed: 1, denied: 0 });
    expect(chart.buckets[8]).toMatchObject({ allowed: 0, denied: 1 });
  });

  it('takes hours for days and days for months, at most 48 bars', () => {
    const week = joinsOverTime([entry('2026-03-02T10:00:00Z')], { since: Date.parse('2026-03-01T00:00:00Z'), until: Date.parse('2026-03-08T00:00:00Z') });
    expect([week.unit, week.count]).toEqual(['hour', 6]);
    const quarter = joinsOverTime([entry('2026-03-02T10:00:00Z')], { since: Date.parse('2026-01-01T00:00:00Z'), until: Date.parse('2026-04-01T00:00:00Z') });
    expect([quarter.unit, quarter.count]).toEqual(['day', 7]);
    for (const chart of [week, quarter]) expect(chart.buckets.length).toBeLessThanOrEqual(48);
  });

  it('aligns day buckets to the reader\'s midnight, not UTC\'s', () => {
    const chart = joinsOverTime([entry('2026-03-01T23:30:00Z')], { since: Date.parse('2026-02-20T00:00:00Z'), until: Date.parse('2026-03-05T00:00:00Z') }, 'Europe/Berlin');
    // 23:30 UTC is 00:30 in Berlin on 2 March: counted on that day.
    const hit = chart.buckets.find((b) => b.allowed === 1)!;
    expect(hit.start).toBe(Date.parse('2026-03-01T23:00:00Z'));
  });

  it('counts a join once however many WebSockets it opened', () => {
    const chart = joinsOverTime([entry('2026-03-01T10:00:00Z'), socket('2026-03-01T10:00:02Z'), socket('2026-03-01T10:01:00Z')]);
    expect(chart.buckets.reduce((n, b) => n + b.allowed, 0)).toBe(1);
  });
});

describe('foldWebSockets', () => {
  it('folds a session\'s WebSockets into its page load of the same room, within ten minutes', () => {
    const rows = foldWebSockets([
      entry('2026-03-01T10:00:00Z'), socket('2026-03-01T10:00:01Z'), socket('2026-03-01T10:05:00Z'),
      socket('2026-03-01T10:00:03Z', { session: 'bbbb' }), // another session: its own row
      socket('2026-03-01T10:00:04Z', { room: 'staff' }), // another room: its own row
      socket('2026-03-01T10:30:00Z'), // long after: its own row
    ]);
    expect(rows.map((r) => [r.record.session, r.record.room, r.sockets])).toEqual([
      ['aaaa', 'board', 2], ['bbbb', 'board', 0], ['aaaa', 'staff', 0], ['aaaa', 'board', 0],
    ]);
  });

  it('never folds a denial or a socket into a denial', () => {
    const rows = foldWebSockets([entry('2026-03-01T10:00:00Z', { outcome: 'deny' }), socket('2026-03-01T10:00:01Z'), entry('2026-03-01T10:00:02Z', { outcome: 'deny', details: { websocket: true } })]);
    expect(rows).toHaveLength(3);
  });
});

describe('the records table', () => {
  it('shows one row per join with the count of its WebSockets, in a region a keyboard can scroll', () => {
    const page = renderAuditPage({ lang: 'en', records: [entry('2026-03-01T10:00:00Z'), socket('2026-03-01T10:00:01Z'), socket('2026-03-01T10:00:02Z')], filters: {}, chainStatus: status, timeZone: 'UTC' });
    expect(page.match(/<tr>\n<td data-label="Time"><time/g)).toHaveLength(1);
    expect(page).toContain('<small>+ 2 WebSocket connections</small>');
    expect(page).toContain('<div class="table-wrap" tabindex="0" role="region" aria-labelledby="records-h">');
    const de = renderAuditPage({ lang: 'de', records: [entry('2026-03-01T10:00:00Z')], filters: {}, chainStatus: status, timeZone: 'UTC', range: { since: Date.parse('2026-03-01T10:00:00Z'), until: Date.parse('2026-03-01T11:00:00Z') } });
    expect(de).toContain('(je 5 Minuten)');
  });

  it('names a refused reviewer page as its own event, not as a room entry', () => {
    const page = renderAuditPage({ lang: 'en', records: [entry('2026-03-01T10:00:00Z', { type: 'review.refused', outcome: 'deny', room: undefined, reason: 'RG_AUDIT_FORBIDDEN', details: { page: 'audit' } })], filters: {}, chainStatus: status });
    expect(page).toContain('reviewer page refused<br><small><code>review.refused</code>');
    expect(page).not.toContain('<td>room entry<br>');
  });
});
