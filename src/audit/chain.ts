// The hash chain of the audit log: canonical JSON, record hashes, and where segments live.
// One chain per instance, one JSON Lines segment per UTC day: `<dir>/<instance>/<YYYY-MM-DD>.jsonl`;
// a new day's segment continues the previous one's seq and hash. No I/O except listing folders.
import { hash as digest } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuditRecord } from './record.js';

/** `prev` of the first record of a chain. */
export const GENESIS = '0'.repeat(64);

/** A value canonical JSON can encode (RFC 8785 for these types: strings, finite numbers, booleans, null, arrays, objects). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue | undefined };

/**
 * Deterministic JSON: object keys sorted by UTF-16 code units, no whitespace, ECMAScript number and string
 * serialisation (what RFC 8785 prescribes for these types). Properties whose value is undefined are left out.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonical JSON cannot encode a non-finite number');
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item === undefined ? null : item)).join(',')}]`;
      return `{${canonicalMembers(value).map(([, member]) => member).join(',')}}`;
    }
    default:
      throw new TypeError(`canonical JSON cannot encode a ${typeof value}`);
  }
}

const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** An object's members as canonical JSON (`"key":value`), in canonical order, each with its key. */
function canonicalMembers(value: object): Array<[string, string]> {
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) throw new TypeError('canonical JSON encodes only plain objects');
  return Object.keys(value)
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .sort(byCodeUnits)
    .map((key) => [key, `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`]);
}

export function sha256Hex(data: string | Buffer): string {
  // The one-shot digest (Node ≥ 20.12): a quarter of createHash()'s cost, once or twice per record.
  return digest('sha256', data, 'hex');
}

/** `sha256_hex(prev + "\n" + canonicalJSON(record without hash))`. */
export function recordHash(body: Omit<AuditRecord, 'hash'>): string {
  return sha256Hex(`${body.prev}\n${canonicalJson(body)}`);
}

/** Adds the hash to a record body whose `prev` is set. */
export function sealRecord(body: Omit<AuditRecord, 'hash'>): AuditRecord {
  return { ...body, hash: recordHash(body) };
}

/** The line a record is stored as: its canonical JSON and a newline. */
export function recordLine(record: AuditRecord): string {
  return `${canonicalJson(record)}\n`;
}

/**
 * sealRecord and recordLine from one canonical encoding of the body: the record's line is the body's
 * members with the hash member put in its sorted place (what the writer does for every record).
 */
export function sealRecordLine(body: Omit<AuditRecord, 'hash'>): { record: AuditRecord; line: string } {
  if ((body as Partial<AuditRecord>).hash !== undefined) throw new TypeError('a record body has no hash yet');
  const members = canonicalMembers(body);
  const hash = sha256Hex(`${body.prev}\n{${members.map(([, member]) => member).join(',')}}`);
  const at = members.findIndex(([key]) => byCodeUnits(key, 'hash') > 0);
  members.splice(at === -1 ? members.length : at, 0, ['hash', `"hash":${JSON.stringify(hash)}`]);
  return { record: { ...body, hash }, line: `{${members.map(([, member]) => member).join(',')}}\n` };
}

/** UTC day of a time, `YYYY-MM-DD`. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * How far ahead of a clock a record's time may be and still count as written (a host clock stepped back a
 * little after the record). The writer does not continue a chain whose newest record is dated later than
 * that, and `verify` reports such records: nobody can have written them yet.
 */
export const CLOCK_TOLERANCE_MS = 5 * 60_000;

/** Start of a UTC day in milliseconds. */
export function dayStart(day: string): number {
  return Date.parse(`${day}T00:00:00.000Z`);
}

/** Oldest UTC day that is kept under a retention of `retentionDays` at time `now`: earlier days are past it. */
export function retentionCutoff(retentionDays: number, now: number): string {
  return utcDay(dayStart(utcDay(now)) - retentionDays * 86_400_000);
}

export const SEGMENT_PATTERN = /^(\d{4}-\d{2}-\d{2})\.jsonl$/;
export const CHECKPOINT_FILE = 'checkpoints.jsonl';
/** Folder of the daily HMAC keys for client addresses; never an instance. */
export const KEYS_DIR = 'keys';
export const INSTANCE_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

export function isValidInstance(name: string): boolean {
  return INSTANCE_PATTERN.test(name) && name !== '.' && name !== '..' && name !== KEYS_DIR;
}

export function segmentName(day: string): string {
  return `${day}.jsonl`;
}

export function segmentDay(fileName: string): string | undefined {
  return SEGMENT_PATTERN.exec(fileName)?.[1];
}

/** Segment file names of one instance folder, oldest first. */
export async function listSegments(instanceDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(instanceDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names.filter((n) => SEGMENT_PATTERN.test(n)).sort();
}

/** Instance folders of an audit directory (every folder holding segments or a checkpoint file), sorted. */
export async function listInstances(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const out: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || !isValidInstance(entry.name)) continue;
    const files = await readdir(join(dir, entry.name));
    if (files.some((f) => SEGMENT_PATTERN.test(f) || f === CHECKPOINT_FILE)) out.push(entry.name);
  }
  return out.sort();
}
