// `roomguard audit query` and the reviewer page's data: records of every instance, filtered by room,
// person, type, outcome and time, as JSON Lines, CSV (RFC 4180, spreadsheet formulas neutralised) or a
// plain table for the terminal.
import { join } from 'node:path';
import { parseDuration } from '../config/duration.js';
import { listInstances, listSegments, segmentDay, utcDay } from './chain.js';
import { AUDIT_OUTCOMES, AUDIT_RECORD_TYPES, type AuditOutcome, type AuditRecord, type AuditRecordType } from './record.js';
import { readLines } from './tail.js';

export interface QueryFilters {
  /** Canonical room name (also matches `details.room` of second-factor events). */
  room?: string;
  /** `sub`, e-mail address (any case) or pseudonym. */
  user?: string;
  /**
   * Pseudonyms the person named by `user` goes by in records (keyed hashes only the caller can work out:
   * with `audit.identity` pseudonymous or erasable, see `pseudonymsOf`), so a reviewer can name a sub.
   */
  userPseudonyms?: readonly string[];
  /**
   * The data-subject match of `privacy export|erase`: clear records whose `sub` is exactly this sub and
   * whose `iss` is one of `issuers`, and records under one of `pseudonyms` (the ones the caller worked out
   * for that sub). Never the raw input as a pseudonym or an e-mail address: that is `user`, for reviewers.
   */
  subject?: { sub: string; issuers: readonly string[]; pseudonyms: readonly string[] };
  type?: AuditRecordType;
  outcome?: AuditOutcome;
  /** Milliseconds since the epoch, inclusive. */
  since?: number;
  /** Milliseconds since the epoch, exclusive. */
  until?: number;
}

export function matchesFilters(record: AuditRecord, filters: QueryFilters): boolean {
  if (filters.type !== undefined && record.type !== filters.type) return false;
  if (filters.outcome !== undefined && record.outcome !== filters.outcome) return false;
  if (filters.room !== undefined) {
    const room = filters.room.toLowerCase();
    if (record.room !== room && record.details?.room !== room) return false;
  }
  if (filters.user !== undefined) {
    const a = record.actor;
    if (!a) return false;
    const u = filters.user;
    const hit = 'pseudonym' in a ? a.pseudonym === u.toLowerCase() || (filters.userPseudonyms?.includes(a.pseudonym) ?? false) : a.sub === u || (a.email !== undefined && a.email.toLowerCase() === u.toLowerCase());
    if (!hit) return false;
  }
  if (filters.subject !== undefined) {
    const a = record.actor;
    if (!a) return false;
    const s = filters.subject;
    if (!('pseudonym' in a ? s.pseudonyms.includes(a.pseudonym) : a.sub === s.sub && s.issuers.includes(a.iss))) return false;
  }
  const ts = Date.parse(record.ts);
  if (filters.since !== undefined && ts < filters.since) return false;
  if (filters.until !== undefined && ts >= filters.until) return false;
  return true;
}

function compareRecords(a: AuditRecord, b: AuditRecord): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1;
  if (a.instance !== b.instance) return a.instance < b.instance ? -1 : 1;
  return a.seq - b.seq;
}

/**
 * Matching records of every instance, oldest first. With `limit`, only the newest `limit` of them.
 * Lines that are not records are skipped here; `verify` is the place that reports them.
 */
export async function queryAudit(dir: string, filters: QueryFilters = {}, options: { limit?: number } = {}): Promise<AuditRecord[]> {
  const sinceDay = filters.since !== undefined ? utcDay(filters.since) : undefined;
  const out: AuditRecord[] = [];
  let instances: string[];
  try {
    instances = await listInstances(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  for (const instance of instances) {
    for (const segment of await listSegments(join(dir, instance))) {
      // A segment holds records of its day (or earlier, if the clock went back), never of later days.
      if (sinceDay !== undefined && segmentDay(segment)! < sinceDay) continue;
      const { lines } = await readLines(join(dir, instance, segment));
      for (const line of lines) {
        let record: AuditRecord;
        try {
          record = JSON.parse(line) as AuditRecord;
        } catch {
          continue;
        }
        if (typeof record !== 'object' || record === null || typeof record.ts !== 'string') continue;
        if (matchesFilters(record, filters)) out.push(record);
      }
    }
  }
  out.sort(compareRecords);
  return options.limit !== undefined && out.length > options.limit ? out.slice(out.length - options.limit) : out;
}

/** `2024-05-01T10:00:00Z`, `2024-05-01` (UTC midnight) or a duration back from now (`7d`, `12h`). */
export function parseTimeFilter(text: string, now: number): number | undefined {
  const trimmed = text.trim();
  const duration = parseDuration(trimmed);
  if (duration !== undefined) return now - duration;
  if (/^\d{4}-\d{2}-\d{2}$/.test(trimmed)) {
    const ms = Date.parse(`${trimmed}T00:00:00Z`);
    return Number.isNaN(ms) ? undefined : ms;
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(trimmed)) return undefined;
  const ms = Date.parse(trimmed);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The filters of an untrusted form or query string (the reviewer page), with every problem named. */
export function parseQueryFilters(input: Record<string, unknown>, now: number): { filters: QueryFilters; problems: string[] } {
  const filters: QueryFilters = {};
  const problems: string[] = [];
  const text = (key: string): string | undefined => {
    const value = input[key];
    if (typeof value !== 'string') return undefined;
    const trimmed = value.trim();
    return trimmed === '' ? undefined : trimmed.slice(0, 320);
  };
  const room = text('room');
  if (room !== undefined) filters.room = room;
  const user = text('user');
  if (user !== undefined) filters.user = user;
  const type = text('type');
  if (type !== undefined) {
    if ((AUDIT_RECORD_TYPES as readonly string[]).includes(type)) filters.type = type as AuditRecordType;
    else problems.push('type');
  }
  const outcome = text('outcome');
  if (outcome !== undefined) {
    if ((AUDIT_OUTCOMES as readonly string[]).includes(outcome)) filters.outcome = outcome as AuditOutcome;
    else problems.push('outcome');
  }
  for (const key of ['since', 'until'] as const) {
    const value = text(key);
    if (value === undefined) continue;
    const ms = parseTimeFilter(value, now);
    if (ms === undefined) problems.push(key);
    else filters[key] = ms;
  }
  return { filters, problems };
}

export function formatJsonLines(records: readonly AuditRecord[]): string {
  return records.map((r) => `${JSON.stringify(r)}\n`).join('');
}

/** One CSV cell: formula-looking text gets a leading `'`, then RFC 4180 quoting where needed. */
export function csvCell(value: string | number | undefined): string {
  if (value === undefined) return '';
  let text = String(value);
  // A spreadsheet would run a cell starting with = + - @ (or tab / CR) as a formula.
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const CSV_COLUMNS = [
  'ts', 'instance', 'seq', 'type', 'outcome', 'sub', 'iss', 'email', 'pseudonym', 'name', 'room', 'role',
  'policy_file', 'policy_sha256', 'policy_rule', 'auth_methods', 'mfa_age_seconds', 'client_ip', 'user_agent',
  'session', 'reason', 'request_id', 'details', 'id', 'hash',
] as const;

function csvRow(r: AuditRecord): Array<string | number | undefined> {
  const a = r.actor;
  const clear = a && 'sub' in a ? a : undefined;
  return [
    r.ts, r.instance, r.seq, r.type, r.outcome, clear?.sub, clear?.iss, clear?.email, a && 'pseudonym' in a ? a.pseudonym : undefined, clear?.name,
    r.room, r.role, r.policy?.file, r.policy?.sha256, r.policy?.rule, r.auth?.methods.join(' '), r.auth?.mfaAgeSeconds,
    r.client?.ip, r.client?.userAgent, r.session, r.reason, r.requestId, r.details ? JSON.stringify(r.details) : undefined, r.id, r.hash,
  ];
}

/** RFC 4180 CSV with a header row and CRLF line ends. */
export function formatCsv(records: readonly AuditRecord[]): string {
  return [CSV_COLUMNS.join(','), ...records.map((r) => csvRow(r).map(csvCell).join(','))].map((line) => `${line}\r\n`).join('');
}

/** Control characters become visible escapes, so a record cannot rewrite the terminal. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function personOf(record: AuditRecord): string {
  const a = record.actor;
  if (!a) return '';
  if ('pseudonym' in a) return `~${a.pseudonym.slice(0, 16)}`;
  return a.email ?? a.sub;
}

/** A plain table for a terminal: time, instance:seq, type, outcome, person, room, reason. */
export function formatTable(records: readonly AuditRecord[]): string {
  const header = ['TIME (UTC)', 'INSTANCE:SEQ', 'TYPE', 'OUTCOME', 'PERSON', 'ROOM', 'REASON'];
  const rows = records.map((r) => [r.ts.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), `${r.instance}:${r.seq}`, r.type, r.outcome, personOf(r), r.room ?? (typeof r.details?.room === 'string' ? r.details.room : ''), r.reason ?? ''].map((c) => printable(c).slice(0, 60)));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line), `${records.length} record${records.length === 1 ? '' : 's'}`].join('\n') + '\n';
}
