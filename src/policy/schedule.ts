// When a time-boxed room is open: its `schedule:` (a time zone, fixed windows, one recurrence rule through
// the `rrule` library, opensBefore, closeGrace) read into instants, and judged at a given moment. Pure:
// the moment is an argument, recurrences are expanded in the schedule's wall time and converted with Intl.
import rrulePkg from 'rrule';
import type { RRule as RRuleType } from 'rrule';

const { rrulestr, RRule } = rrulePkg;

/** One fixed window: instants (ms), start inclusive, end exclusive, before opensBefore and closeGrace. */
export interface ScheduleWindow {
  start: number;
  end: number;
  line: number;
}

export interface Schedule {
  /** IANA zone the windows without an offset and the recurrence are written in. */
  timeZone: string;
  windows: ScheduleWindow[];
  /** The recurrence (DTSTART in wall time of timeZone, then RRULE) and how long each meeting lasts (ms). */
  recurrence?: { rule: string; duration: number; line: number };
  /** The room opens this long before each window starts (ms). */
  opensBefore: number;
  /** Admitted people may stay this long after a window ends; then their connections are closed (ms). */
  closeGrace: number;
  line: number;
}

/** The room's state at one moment: open until `closesAt`, or closed until `opensAt` (absent: never again). */
export type ScheduleState = { open: true; closesAt: number } | { open: false; opensAt?: number };

interface Span {
  from: number;
  until: number;
}

/** How many recurrences are looked at past `now` (enough to join back-to-back meetings and find the next). */
const LOOKAHEAD_OCCURRENCES = 64;
/** Wall time and instants differ by at most this (UTC-12 … UTC+14), so a search widened by it misses nothing. */
const ZONE_MARGIN_MS = 15 * 3_600_000;

export function scheduleAt(schedule: Schedule, now: number): ScheduleState {
  const spans = spansNear(schedule, now);
  let closesAt: number | undefined;
  for (const s of spans) if (s.from <= now && now < s.until) closesAt = Math.max(closesAt ?? 0, s.until);
  if (closesAt === undefined) {
    const next = spans.filter((s) => s.from > now).reduce<number | undefined>((min, s) => (min === undefined || s.from < min ? s.from : min), undefined);
    return next === undefined ? { open: false } : { open: false, opensAt: next };
  }
  // Back-to-back or overlapping windows keep the room open: the close is the end of the joined run.
  for (let grown = true; grown; ) {
    grown = false;
    for (const s of spans) {
      if (s.from <= closesAt && s.until > closesAt) {
        closesAt = s.until;
        grown = true;
      }
    }
  }
  return { open: true, closesAt };
}

/** The fixed windows and the recurrences that could touch `now` or follow it, widened by opensBefore and closeGrace. */
function spansNear(schedule: Schedule, now: number): Span[] {
  const widen = (start: number, end: number): Span => ({ from: start - schedule.opensBefore, until: end + schedule.closeGrace });
  const spans = schedule.windows.map((w) => widen(w.start, w.end));
  const recurrence = schedule.recurrence;
  if (!recurrence) return spans;
  const rule = ruleOf(recurrence.rule);
  // Occurrences are floating wall times (their UTC fields are the zone's clock): search in wall time.
  let cursor = new Date(now - recurrence.duration - schedule.closeGrace - ZONE_MARGIN_MS);
  let after = 0;
  for (let n = 0; n < 10_000 && after < LOOKAHEAD_OCCURRENCES; n++) {
    const next = rule.after(cursor, false);
    if (!next) break;
    cursor = next;
    const start = wallToInstant(next.getTime(), schedule.timeZone);
    const span = widen(start, start + recurrence.duration);
    spans.push(span);
    if (span.from > now) after++;
  }
  return spans;
}

const ruleCache = new Map<string, RRuleType>();

function ruleOf(text: string): RRuleType {
  let rule = ruleCache.get(text);
  if (!rule) {
    rule = rrulestr(text, { forceset: false }) as RRuleType;
    if (ruleCache.size > 1000) ruleCache.clear();
    ruleCache.set(text, rule);
  }
  return rule;
}

const offsetFormats = new Map<string, Intl.DateTimeFormat>();

/** The zone's offset from UTC at an instant (ms): its wall clock minus UTC. */
export function zoneOffset(instant: number, timeZone: string): number {
  let format = offsetFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    offsetFormats.set(timeZone, format);
  }
  const parts: Record<string, number> = {};
  for (const p of format.formatToParts(new Date(instant))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return wall - (instant - (((instant % 1000) + 1000) % 1000));
}

/**
 * The instant a wall-clock time (given as ms whose UTC fields are the wall clock) names in a zone. A
 * time skipped by a clock change counts from after the change; a repeated one is its first occurrence.
 */
export function wallToInstant(wall: number, timeZone: string): number {
  // The zone's offsets half a day either side cover any clock change near this time.
  const before = wall - zoneOffset(wall - 43_200_000, timeZone);
  const after = wall - zoneOffset(wall + 43_200_000, timeZone);
  const shows = (instant: number) => instant + zoneOffset(instant, timeZone) === wall;
  const valid = [before, after].filter(shows);
  if (valid.length > 0) return Math.min(...valid);
  // In a gap the clock jumped over this time: the offset from before the jump puts it just after the change.
  return before;
}

/** Whether `timeZone` is an IANA zone Node knows. */
export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:\d{2})?$/;
const TIME_ONLY = /^(\d{2}):(\d{2})(?::(\d{2}))?$/;
const DURATION = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

/** A wall time (ms with the wall clock in its UTC fields) from its fields, or undefined if they name no real date. */
function wallOf(y: number, mo: number, d: number, h: number, mi: number, s: number): number | undefined {
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(wall);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return undefined;
  return wall;
}

/** An ISO 8601 date-time: with Z or an offset it is that instant; without, a wall time in `timeZone`. */
export function parseDateTime(text: string, timeZone: string): number | undefined {
  const m = DATE_TIME.exec(text);
  if (!m) return undefined;
  const wall = wallOf(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
  if (wall === undefined) return undefined;
  const zone = m[7];
  if (zone === undefined) return wallToInstant(wall, timeZone);
  if (zone === 'Z') return wall;
  const sign = zone.startsWith('-') ? -1 : 1;
  const [hh, mm] = zone.slice(1).split(':').map(Number);
  return wall - sign * (hh! * 3_600_000 + mm! * 60_000);
}

/**
 * An ISO 8601 interval as admins write windows: `start/end`, where end is a whole date-time, a time of
 * day on the start's date (`2026-12-10T09:00/11:00`), or a duration (`2026-12-10T09:00/PT2H`).
 */
export function parseInterval(text: string, timeZone: string): { start: number; end: number } | string {
  const [startText, endText, extra] = text.split('/');
  if (startText === undefined || endText === undefined || extra !== undefined) return 'must be an interval START/END, e.g. "2026-12-10T09:00/11:00"';
  const start = parseDateTime(startText, timeZone);
  if (start === undefined) return `"${startText}" is not a date and time (YYYY-MM-DDTHH:MM, optionally with Z or an offset)`;
  let end: number | undefined;
  const time = TIME_ONLY.exec(endText);
  const duration = DURATION.exec(endText);
  if (time) {
    const m = DATE_TIME.exec(startText)!;
    const wall = wallOf(Number(m[1]), Number(m[2]), Number(m[3]), Number(time[1]), Number(time[2]), Number(time[3] ?? 0));
    if (wall !== undefined) end = m[7] === undefined ? wallToInstant(wall, timeZone) : parseDateTime(`${m[1]}-${m[2]}-${m[3]}T${endText}${m[7]}`, timeZone);
  } else if (duration && endText !== 'P' && !endText.endsWith('T')) {
    const [, d, h, mi, s] = duration.map((v) => Number(v ?? 0));
    end = start + d! * 86_400_000 + h! * 3_600_000 + mi! * 60_000 + s! * 1000;
  } else end = parseDateTime(endText, timeZone);
  if (end === undefined) return `"${endText}" is not an end (a date and time, a time of day such as 11:00, or a duration such as PT2H)`;
  if (end <= start) return 'the window ends before it starts';
  return { start, end };
}

/** Frequencies a room's recurrence may have: meetings, not a clock tick. */
const ROOM_FREQUENCIES = new Set([RRule.DAILY, RRule.WEEKLY, RRule.MONTHLY, RRule.YEARLY]);

/** Checks a recurrence as written in a policy: DTSTART in wall time (no Z, no TZID), one RRULE, a meeting's frequency. */
export function checkRecurrence(text: string): string | undefined {
  const lines = text.trim().split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const dtstart = lines.find((l) => l.toUpperCase().startsWith('DTSTART'));
  if (!dtstart) return 'needs a DTSTART line with the first meeting in the schedule\'s time zone, e.g. "DTSTART:20261201T090000" then "RRULE:FREQ=WEEKLY;BYDAY=TU"';
  if (!/^DTSTART:\d{8}T\d{6}$/i.test(dtstart)) return `"${dtstart}" must be DTSTART:YYYYMMDDTHHMMSS in the schedule's time zone (no Z, no TZID: write the zone in schedule.timeZone)`;
  const rules = lines.filter((l) => l.toUpperCase().startsWith('RRULE'));
  if (rules.length !== 1 || lines.length !== 2) return 'must be exactly one DTSTART line and one RRULE line';
  let rule: RRuleType;
  try {
    rule = rrulestr(lines.join('\n'), { forceset: false }) as RRuleType;
  } catch (err) {
    return `is not a recurrence rule: ${(err as Error).message}`;
  }
  if (!ROOM_FREQUENCIES.has(rule.options.freq)) return 'FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY';
  if (rule.options.tzid) return 'write the time zone in schedule.timeZone, not in the rule';
  return undefined;
}
