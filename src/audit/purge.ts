// Retention (security requirements I.65, I.72): whole segments older than `audit.retentionDays` are
// deleted, oldest first, each after a signed `audit.purge` record naming it (its seq range, the hash
// before and after it, its last record's time, the retention applied) has been appended to the chain,
// so verification of what remains still passes. A segment is deleted only when its content agrees:
// every record intact and linked, every record's time past retention (not merely the file's name), the
// chain's start before it explained, and the next segment continuing it — so a purge never erases
// evidence of tampering nor deletes recent records someone renamed or moved into an old segment.
// Daily address keys (`audit.ip: hmac`) older than 7 days are deleted the same way.
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { GENESIS, listInstances, listSegments, retentionCutoff, segmentDay, utcDay } from './chain.js';
import { deleteIpKey, expiredIpKeyDays } from './ip-keys.js';
import { InstanceLockedError } from './lock.js';
import type { AuditRecord } from './record.js';
import { readLines } from './tail.js';
import { parseRecordLine } from './verify.js';
import { AuditWriter } from './writer.js';

export interface PurgedSegment {
  instance: string;
  segment: string;
  records: number;
  firstSeq?: number;
  lastSeq?: number;
  finalHash?: string;
}

/** A segment past retention that was kept because its content does not allow a purge. */
export interface RefusedSegment {
  instance: string;
  segment: string;
  /** The file and 1-based line that stopped the purge. */
  file: string;
  line: number;
  reason: string;
}

export interface PurgeResult {
  segments: PurgedSegment[];
  ipKeys: string[];
  /** Instances left alone because another process (a running server) writes them. */
  skipped: Array<{ instance: string; reason: string }>;
  /** Segments kept (with every later one of the instance) because they did not check out; run `audit verify`. */
  refused: RefusedSegment[];
}

/** Where the chain stands after a record: its seq and hash (0 and GENESIS before the first record). */
interface ChainPoint { seq: number; hash: string }

class PurgeRefusal extends Error {
  constructor(readonly file: string, readonly line: number, message: string) {
    super(message);
  }
}

/** What the newest segment purge in the chain states. */
interface LastPurge { segment: string; firstSeq?: number; firstPrev?: string; lastSeq: number; finalHash: string }

/**
 * Where the oldest remaining segment must start: after the segment the newest segment purge names, or at
 * the genesis. Scans from the newest segment back (yesterday's purge is usually in the last one or two).
 */
async function newestSegmentPurge(instanceDir: string, segments: string[]): Promise<LastPurge | undefined> {
  for (let s = segments.length - 1; s >= 0; s--) {
    const { lines } = await readLines(join(instanceDir, segments[s]!));
    for (let i = lines.length - 1; i >= 0; i--) {
      if (!lines[i]!.includes('"type":"audit.purge"')) continue;
      let record: Partial<AuditRecord>;
      try {
        record = JSON.parse(lines[i]!) as Partial<AuditRecord>;
      } catch {
        continue;
      }
      const d = record.details;
      if (typeof d?.segment === 'string' && typeof d.lastSeq === 'number' && typeof d.finalHash === 'string') {
        return {
          segment: d.segment, lastSeq: d.lastSeq, finalHash: d.finalHash,
          ...(typeof d.firstSeq === 'number' ? { firstSeq: d.firstSeq } : {}),
          ...(typeof d.firstPrev === 'string' ? { firstPrev: d.firstPrev } : {}),
        };
      }
    }
  }
  return undefined;
}

/** The first record of the first non-empty segment after `index`, if any. */
async function firstRecordAfter(instanceDir: string, segments: string[], index: number): Promise<{ record: Partial<AuditRecord>; file: string } | undefined> {
  for (let s = index + 1; s < segments.length; s++) {
    const file = join(instanceDir, segments[s]!);
    const { lines } = await readLines(file);
    if (lines.length === 0) continue;
    try {
      return { record: JSON.parse(lines[0]!) as Partial<AuditRecord>, file };
    } catch {
      throw new PurgeRefusal(file, 1, 'the segment after it does not start with a record');
    }
  }
  return undefined;
}

interface SegmentSummary { records: number; firstSeq: number; lastSeq: number; firstPrev: string; finalHash: string; lastTs: string }

/**
 * Checks a segment before it is deleted: every line an intact record of this instance, linked to the one
 * before (the first to `before`; to any hash when that is unknown), every record's time before the cutoff
 * day. Throws PurgeRefusal.
 */
async function checkSegment(file: string, instance: string, before: { seq: number; hash?: string }, cutoff: string): Promise<SegmentSummary | undefined> {
  const { lines, rest } = await readLines(file);
  if (rest.length > 0) throw new PurgeRefusal(file, lines.length + 1, 'bytes after the last newline');
  let at = before;
  let lastTs = '';
  let firstPrev = before.hash ?? '';
  for (let i = 0; i < lines.length; i++) {
    const record = parseRecordLine(lines[i]!, instance);
    if (typeof record === 'string') throw new PurgeRefusal(file, i + 1, record);
    if (i === 0) firstPrev = record.prev;
    if ((at.hash !== undefined && record.prev !== at.hash) || record.seq !== at.seq + 1) {
      throw new PurgeRefusal(file, i + 1, i === 0
        ? `the chain's start is not explained (expected seq ${at.seq + 1} after ${at.hash}, found seq ${record.seq} after ${record.prev})`
        : `not linked to the line before (expected seq ${at.seq + 1} after ${at.hash})`);
    }
    const ts = Date.parse(record.ts);
    if (!Number.isFinite(ts) || utcDay(ts) >= cutoff) throw new PurgeRefusal(file, i + 1, `the record's time ${record.ts} is not past retention (${cutoff} and later is kept)`);
    at = { seq: record.seq, hash: record.hash };
    lastTs = record.ts;
  }
  if (lines.length === 0) return undefined;
  return { records: lines.length, firstSeq: before.seq + 1, lastSeq: at.seq, firstPrev, finalHash: at.hash!, lastTs };
}

/** Purges the segments of the writer's instance (and the shared address keys), recording each deletion in its chain. */
async function purgeWithWriter(writer: AuditWriter, retentionDays: number, now: number, result: PurgeResult): Promise<void> {
  const cutoff = retentionCutoff(retentionDays, now);
  const today = utcDay(now);
  const segments = await listSegments(writer.instanceDir);
  const newest = segments.at(-1);
  // Never today's segment, never the one being written; names sort by day, so the candidates are a prefix.
  const candidates = segments.filter((name) => segmentDay(name)! < cutoff && segmentDay(name)! < today && name !== newest);
  const lastPurge = candidates.length > 0 ? await newestSegmentPurge(writer.instanceDir, segments) : undefined;
  let before: ChainPoint = lastPurge ? { seq: lastPurge.lastSeq, hash: lastPurge.finalHash } : { seq: 0, hash: GENESIS };
  for (let index = 0; index < candidates.length; index++) {
    const name = candidates[index]!;
    const file = join(writer.instanceDir, name);
    let summary: SegmentSummary | undefined;
    try {
      if (index === 0 && lastPurge?.segment === name) {
        // A purge recorded this segment but the process ended before deleting it: delete it now, once
        // it is the segment the record names.
        const left = await checkSegment(file, writer.instance, { seq: (lastPurge.firstSeq ?? 1) - 1, ...(lastPurge.firstPrev !== undefined ? { hash: lastPurge.firstPrev } : {}) }, cutoff);
        if (left && (left.finalHash !== lastPurge.finalHash || left.lastSeq !== lastPurge.lastSeq)) {
          throw new PurgeRefusal(file, left.records, `differs from what its purge record states (seq ${lastPurge.lastSeq}, final hash ${lastPurge.finalHash})`);
        }
        await unlink(file);
        await unlink(`${file}.torn`).catch(() => undefined);
        continue;
      }
      summary = await checkSegment(file, writer.instance, before, cutoff);
      if (summary) {
        const next = await firstRecordAfter(writer.instanceDir, segments, index);
        if (next && (next.record.prev !== summary.finalHash || next.record.seq !== summary.lastSeq + 1)) {
          throw new PurgeRefusal(next.file, 1, `does not continue ${name} (expected seq ${summary.lastSeq + 1} after ${summary.finalHash})`);
        }
      }
    } catch (err) {
      if (!(err instanceof PurgeRefusal)) throw err;
      // Keep this segment and every later one: deleting them would erase the evidence `verify` needs.
      result.refused.push({ instance: writer.instance, segment: name, file: err.file, line: err.line, reason: err.message });
      break;
    }
    if (summary) {
      // Record first, delete second: a crash in between leaves a segment to purge again, never a gap.
      await writer.appendPurge({
        segment: name, records: summary.records, firstSeq: summary.firstSeq, lastSeq: summary.lastSeq,
        firstPrev: summary.firstPrev, finalHash: summary.finalHash, lastTs: summary.lastTs,
        reason: 'retention', retentionDays, pid: process.pid,
      });
      before = { seq: summary.lastSeq, hash: summary.finalHash };
    }
    await unlink(file);
    await unlink(`${file}.torn`).catch(() => undefined);
    result.segments.push({
      instance: writer.instance, segment: name, records: summary?.records ?? 0,
      ...(summary ? { firstSeq: summary.firstSeq, lastSeq: summary.lastSeq, finalHash: summary.finalHash } : {}),
    });
  }
  const expired = await expiredIpKeyDays(writer.dir, now);
  if (expired.length > 0) {
    await writer.appendPurge({ ipKeys: expired.slice(0, 64), reason: 'ip-key-expiry', pid: process.pid });
    for (const day of expired) await deleteIpKey(writer.dir, day);
    result.ipKeys.push(...expired);
  }
}

export interface PurgeDirTarget {
  dir: string;
  /** Needed to open each instance's chain (purge records and checkpoints are signed). */
  signingKeyPem: string;
}

/**
 * Deletes segments past retention. With a running writer (the daily purge in `serve`), purges that
 * writer's instance; with a directory (`roomguard audit purge`), opens each instance in turn and skips
 * those another process is writing (their server purges them itself).
 */
export async function purgeAudit(target: AuditWriter | PurgeDirTarget, retentionDays: number, now: number = Date.now()): Promise<PurgeResult> {
  if (!Number.isInteger(retentionDays) || retentionDays < 1) throw new TypeError('retentionDays must be a whole number of at least 1');
  const result: PurgeResult = { segments: [], ipKeys: [], skipped: [], refused: [] };
  if (target instanceof AuditWriter) {
    await purgeWithWriter(target, retentionDays, now, result);
    return result;
  }
  const instances = await listInstances(target.dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  for (const instance of instances) {
    if ((await listSegments(join(target.dir, instance))).length === 0) continue;
    let writer: AuditWriter;
    try {
      writer = await AuditWriter.open({
        dir: target.dir, instance, signingKeyPem: target.signingKeyPem, ip: 'none', identity: 'clear', names: false,
        checkpointEvery: 1_000_000, checkpointInterval: 86_400_000, now: () => now,
      });
    } catch (err) {
      if ((err as Error).cause instanceof InstanceLockedError) {
        result.skipped.push({ instance, reason: (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : 'locked' });
        continue;
      }
      throw err;
    }
    try {
      await purgeWithWriter(writer, retentionDays, now, result);
    } finally {
      await writer.close();
    }
  }
  return result;
}

export function describeRefusal(r: RefusedSegment): string {
  return `${r.file}:${r.line}: kept ${r.instance}/${r.segment} past retention: ${r.reason} (run roomguard audit verify)`;
}

/** Runs `purgeAudit(writer)` now and then once a day (the timer does not keep the process alive). Returns a stop function. */
export function scheduleDailyPurge(writer: AuditWriter, retentionDays: number, report: { onResult?: (r: PurgeResult) => void; onError?: (err: Error) => void } = {}): () => void {
  const run = () => {
    purgeAudit(writer, retentionDays).then((result) => {
      report.onResult?.(result);
      // A refused segment is a finding, not routine: it goes to the error log as well.
      for (const refused of result.refused) report.onError?.(new Error(describeRefusal(refused)));
    }, (err: Error) => report.onError?.(err));
  };
  run();
  const timer = setInterval(run, 86_400_000);
  timer.unref();
  return () => clearInterval(timer);
}
