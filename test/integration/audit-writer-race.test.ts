// The audit writer's commits against each other and against the lock, with the order of their file-system
// steps fixed by the test (test/helpers/fs-gates.ts): races that a busy machine produces now and then are
// replayed here every time. Real files, real lock; only the timing is the test's.
import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

vi.mock('node:fs/promises', async (importOriginal) => {
  const { fsGates: gates } = await import('../helpers/fs-gates.js');
  return gates.wrap(await importOriginal<typeof import('node:fs/promises')>());
});

import { fsGates } from '../helpers/fs-gates.js';
import { LOCK_FILE } from '../../src/audit/lock.js';
import type { AuditEvent, AuditRecord } from '../../src/audit/record.js';
import { verifyAuditDir } from '../../src/audit/verify.js';
import { AuditWriter } from '../../src/audit/writer.js';

const signingKeyPem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const opened: AuditWriter[] = [];

async function openWriter(dir: string): Promise<AuditWriter> {
  const writer = await AuditWriter.open({
    dir, instance: 'gw-1', signingKeyPem, ip: 'truncate', identity: 'clear', names: false,
    // No timer of the writer may fire while the test orders its steps (fsGates.settled tracks files only).
    checkpointEvery: 1000, checkpointInterval: 3_600_000, retryInterval: 3_600_000,
  });
  opened.push(writer);
  return writer;
}

function join_(n: number): AuditEvent {
  return { type: 'room.decision', outcome: 'allow', room: 'board', actor: { sub: `user-${n}`, iss: 'https://id.example.org' }, requestId: `req-${n}` };
}

function segmentOf(writer: AuditWriter): string {
  return join(writer.instanceDir, `${new Date().toISOString().slice(0, 10)}.jsonl`);
}

type Outcome = { record: AuditRecord; error?: undefined } | { record?: undefined; error: Error & { code?: string } };

function outcome(append: Promise<AuditRecord>): Promise<Outcome> {
  return append.then((record) => ({ record }), (error: unknown) => ({ error: error as Error & { code?: string } }));
}

/** The instance folder pulled away and a file in its place: every step inside it fails (ENOTDIR). */
function pullAway(writer: AuditWriter): () => void {
  renameSync(writer.instanceDir, `${writer.instanceDir}.away`);
  writeFileSync(writer.instanceDir, 'not a directory');
  return () => {
    rmSync(writer.instanceDir);
    renameSync(`${writer.instanceDir}.away`, writer.instanceDir);
  };
}

const OTHER_WRITERS_LINE = '{"seq":2,"note":"written by the process that took the chain over"}\n';

/** Another process takes the chain over: the lock file at the path is no longer this writer's. */
function takeOver(writer: AuditWriter): string {
  const lockFile = join(writer.instanceDir, LOCK_FILE);
  renameSync(lockFile, `${lockFile}.taken-over`);
  writeFileSync(lockFile, '{"pid":1,"host":"elsewhere"}\n');
  return lockFile;
}

afterEach(async () => {
  fsGates.reset();
  for (const writer of opened.splice(0)) await writer.close().catch(() => undefined);
});

describe('AuditWriter commit races (file-system steps ordered by the test)', () => {
  it('a failed commit ends only after its segment reopening has, so that reopening never closes the segment the next commit writes to', async () => {
    // The reported flake: the lock check failed first, the commit was refused while its reopening of the
    // segment was still under way; the folder came back, the next commit opened the segment and was about
    // to write when the late reopening closed "the current handle" and put its own in place: EBADF.
    const dir = mkdtempSync(join(tmpdir(), 'rg-audit-race-'));
    const writer = await openWriter(dir);
    const segment = segmentOf(writer);
    expect((await writer.append(join_(1))).seq).toBe(1);
    const restore = pullAway(writer);
    // This failure marks the segment for reopening by the next commit.
    expect((await outcome(writer.append(join_(2)))).error?.code).toBe('RG_AUDIT_UNAVAILABLE');

    const reopening = fsGates.hold('mkdir', writer.instanceDir);
    const third = outcome(writer.append(join_(3)));
    await reopening.reached;
    await fsGates.settled(); // the lock check beside it has failed (ENOTDIR) by now
    restore();
    const write = fsGates.hold('write', segment);
    const fourth = outcome(writer.append(join_(4)));
    await fsGates.settled(); // the fourth append waits at its write, or (the commit before it not over) in the queue
    reopening.release();
    await fsGates.settled();
    write.release();

    expect((await third).error?.code).toBe('RG_AUDIT_UNAVAILABLE');
    const fourthOutcome = await fourth;
    expect(fourthOutcome.error).toBeUndefined();
    expect(fourthOutcome.record?.seq).toBe(2);
    expect(writer.healthy).toBe(true);
    expect(fsGates.openHandles(segment)).toBe(1);
    const report = await verifyAuditDir(dir, { signingKeyPem });
    expect(report.problems).toEqual([]);
    expect(report.records).toBe(2);
  });

  it('keeps no segment open and cuts nothing off once the lock was found lost while the segment was being reopened', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-audit-race-'));
    const writer = await openWriter(dir);
    const segment = segmentOf(writer);
    await writer.append(join_(1));
    fsGates.failNext('write', segment, 'EIO');
    expect((await outcome(writer.append(join_(2)))).error?.code).toBe('RG_AUDIT_UNAVAILABLE');
    expect(fsGates.openHandles(segment)).toBe(0);

    // Another process takes the chain over and appends to it. The next commit's lock check finds that
    // while its reopening of the segment waits to open the file.
    takeOver(writer);
    appendFileSync(segment, OTHER_WRITERS_LINE);
    const reopening = fsGates.hold('open', segment);
    const third = outcome(writer.append(join_(3)));
    await reopening.reached;
    await fsGates.settled();
    reopening.release();

    const thirdOutcome = await third;
    expect(thirdOutcome.error?.code).toBe('RG_AUDIT_UNAVAILABLE');
    expect(thirdOutcome.error?.message).toMatch(/no longer holds the audit lock/);
    expect(writer.healthy).toBe(false);
    await fsGates.settled();
    expect(fsGates.openHandles(segment)).toBe(0);
    expect(readFileSync(segment, 'utf8').endsWith(OTHER_WRITERS_LINE)).toBe(true);
  });

  it('closes the reopened segment when the lock is found lost while the reopening cuts off a failed batch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-audit-race-'));
    const writer = await openWriter(dir);
    const segment = segmentOf(writer);
    await writer.append(join_(1));
    fsGates.failNext('write', segment, 'EIO');
    expect((await outcome(writer.append(join_(2)))).error?.code).toBe('RG_AUDIT_UNAVAILABLE');
    // Bytes past the last record the writer knows of: the next reopening cuts them off. Meanwhile the chain
    // is taken over, and the lock check that shows it ends only while the cutting is under way.
    appendFileSync(segment, '{"partial":');
    const lockFile = takeOver(writer);
    const lockCheck = fsGates.hold('stat', lockFile);
    const cutting = fsGates.hold('truncate', segment);
    const third = outcome(writer.append(join_(3)));
    await cutting.reached;
    lockCheck.release();
    await fsGates.settled();
    cutting.release();

    const thirdOutcome = await third;
    expect(thirdOutcome.error?.message).toMatch(/no longer holds the audit lock/);
    await fsGates.settled();
    expect(fsGates.openHandles(segment)).toBe(0);
  });

  it('takes back a durable batch whose lock check after the write failed, so the next record does not repeat its seq', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-audit-race-'));
    const writer = await openWriter(dir);
    const segment = segmentOf(writer);
    await writer.append(join_(1));
    const write = fsGates.hold('write', segment);
    const second = outcome(writer.append(join_(2)));
    await write.reached; // the check before the write has passed
    fsGates.failNext('stat', join(writer.instanceDir, LOCK_FILE), 'EIO');
    write.release();

    // Nobody was told the record is written, and whether the lock is still ours is not known.
    expect((await second).error?.code).toBe('RG_AUDIT_UNAVAILABLE');
    const healthyAfterRefusal = writer.healthy;
    const third = await writer.append(join_(3));
    const report = await verifyAuditDir(dir, { signingKeyPem });
    expect(report.problems).toEqual([]);
    expect(report.records).toBe(2);
    expect(third.seq).toBe(2);
    expect(healthyAfterRefusal).toBe(false);
    expect(writer.healthy).toBe(true);
  });
});
