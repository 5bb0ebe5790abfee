// Retention (security requirements I.65, I.72): whole segments older than `audit.retentionDays` are
// deleted, each after an `audit.purge` record naming it, its final hash, seq range and record count has
// been appended to the chain, so verification of what remains still passes. Daily address keys
// (`audit.ip: hmac`) older than 7 days are deleted the same way.
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { dayStart, listInstances, listSegments, segmentDay, utcDay } from './chain.js';
import { deleteIpKey, expiredIpKeyDays } from './ip-keys.js';
import { InstanceLockedError } from './lock.js';
import { readLines } from './tail.js';
import { AuditWriter } from './writer.js';

export interface PurgedSegment {
  instance: string;
  segment: string;
  records: number;
  firstSeq?: number;
  lastSeq?: number;
  finalHash?: string;
}

export interface PurgeResult {
  segments: PurgedSegment[];
  ipKeys: string[];
  /** Instances left alone because another process (a running server) writes them. */
  skipped: Array<{ instance: string; reason: string }>;
}

/** Oldest UTC day that is kept: segments of earlier days are past retention. */
export function retentionCutoff(retentionDays: number, now: number): string {
  return utcDay(dayStart(utcDay(now)) - retentionDays * 86_400_000);
}

async function summarise(file: string): Promise<{ records: number; firstSeq?: number; lastSeq?: number; finalHash?: string }> {
  const { lines } = await readLines(file);
  const records = lines.map((line) => {
    try {
      return JSON.parse(line) as { seq?: unknown; hash?: unknown };
    } catch {
      return undefined;
    }
  }).filter((r): r is { seq: number; hash: string } => typeof r?.seq === 'number' && typeof r.hash === 'string');
  const first = records[0];
  const last = records.at(-1);
  return { records: records.length, ...(first ? { firstSeq: first.seq } : {}), ...(last ? { lastSeq: last.seq, finalHash: last.hash } : {}) };
}

/** Purges the segments of the writer's instance (and the shared address keys), recording each deletion in its chain. */
async function purgeWithWriter(writer: AuditWriter, retentionDays: number, now: number, result: PurgeResult): Promise<void> {
  const cutoff = retentionCutoff(retentionDays, now);
  const today = utcDay(now);
  const segments = await listSegments(writer.instanceDir);
  const newest = segments.at(-1);
  for (const name of segments) {
    const day = segmentDay(name)!;
    // Never today's segment, never the one being written.
    if (day >= cutoff || day >= today || name === newest) continue;
    const file = join(writer.instanceDir, name);
    const summary = await summarise(file);
    if (summary.records > 0) {
      // Record first, delete second: a crash in between leaves a segment to purge again, never a gap.
      await writer.append({
        type: 'audit.purge', outcome: 'success',
        details: {
          segment: name, records: summary.records, firstSeq: summary.firstSeq!, lastSeq: summary.lastSeq!, finalHash: summary.finalHash!,
          reason: 'retention', retentionDays, pid: process.pid,
        },
      });
    }
    await unlink(file);
    await unlink(`${file}.torn`).catch(() => undefined);
    result.segments.push({ instance: writer.instance, segment: name, ...summary });
  }
  const expired = await expiredIpKeyDays(writer.dir, now);
  if (expired.length > 0) {
    await writer.append({ type: 'audit.purge', outcome: 'success', details: { ipKeys: expired.slice(0, 64), reason: 'ip-key-expiry', pid: process.pid } });
    for (const day of expired) await deleteIpKey(writer.dir, day);
    result.ipKeys.push(...expired);
  }
}

export interface PurgeDirTarget {
  dir: string;
  /** Needed to open each instance's chain (its final checkpoint is signed). */
  signingKeyPem: string;
}

/**
 * Deletes segments past retention. With a running writer (the daily purge in `serve`), purges that
 * writer's instance; with a directory (`roomguard audit purge`), opens each instance in turn and skips
 * those another process is writing (their server purges them itself).
 */
export async function purgeAudit(target: AuditWriter | PurgeDirTarget, retentionDays: number, now: number = Date.now()): Promise<PurgeResult> {
  if (!Number.isInteger(retentionDays) || retentionDays < 1) throw new TypeError('retentionDays must be a whole number of at least 1');
  const result: PurgeResult = { segments: [], ipKeys: [], skipped: [] };
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

/** Runs `purgeAudit(writer)` now and then once a day (the timer does not keep the process alive). Returns a stop function. */
export function scheduleDailyPurge(writer: AuditWriter, retentionDays: number, report: { onResult?: (r: PurgeResult) => void; onError?: (err: Error) => void } = {}): () => void {
  const run = () => {
    purgeAudit(writer, retentionDays).then(report.onResult, (err: Error) => report.onError?.(err));
  };
  run();
  const timer = setInterval(run, 86_400_000);
  timer.unref();
  return () => clearInterval(timer);
}

