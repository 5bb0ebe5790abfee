// Someone who can write the audit directory, keep old copies of its files and replay them, but does not
// hold the signing key, edits a real log (four days, a real retention purge in it, a second instance, an
// off-host copy of the checkpoint files): every removal, truncation, reordering or replacement — at the
// head, in the middle or at the tail, in one segment or across days — and every forged or replayed purge
// makes `audit verify` fail and name the file and line. Also what the off-host checkpoint copy adds.
import { generateKeyPairSync, sign } from 'node:crypto';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalJson, sealRecord } from '../../src/audit/chain.js';
import { runAuditCommand } from '../../src/cli/audit-commands.js';
import { checkpointSigner } from '../../src/audit/checkpoint.js';
import { exportEvidence } from '../../src/audit/export.js';
import { manifestFileText, signManifest, type ExportManifest } from '../../src/audit/manifest.js';
import { purgeAudit } from '../../src/audit/purge.js';
import type { AuditEvent, AuditRecord } from '../../src/audit/record.js';
import { verifyAuditDir, type VerifyProblem, type VerifyReport } from '../../src/audit/verify.js';
import { AuditWriter } from '../../src/audit/writer.js';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const signingKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const [D1, D2, D3, D4] = ['2024-05-01', '2024-05-02', '2024-05-03', '2024-05-04'];
const MINUTE = 60_000;

function joinEvent(n: number): AuditEvent {
  return {
    type: 'room.decision', outcome: n % 5 === 0 ? 'deny' : 'allow', room: 'board',
    actor: { sub: `user-${n % 3}`, iss: 'https://id.example.org' }, requestId: `req-${n}`,
  };
}

async function writeDays(dir: string, instance: string, days: string[], perDay: number): Promise<void> {
  let now = Date.parse(`${days[0]}T08:00:00.000Z`);
  const writer = await AuditWriter.open({ dir, instance, signingKeyPem, ip: 'none', identity: 'clear', names: false, checkpointEvery: 4, checkpointInterval: 86_400_000, now: () => now });
  for (const day of days) {
    for (let k = 0; k < perDay; k++) {
      now = Date.parse(`${day}T08:00:00.000Z`) + k * MINUTE;
      await writer.append(joinEvent(k));
    }
  }
  await writer.close();
}

/**
 * Instance `gw`: days 1–3, then the retention purge on day 3 at noon (1 day: day 1 goes, recorded in
 * day 3's segment with its checkpoint), then day 4. Instance `gw-2`: days 3–4. `off-host/checkpoints.jsonl`
 * holds both instances' checkpoint entries, as shipped.
 */
async function buildLog(): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'rg-tamper-'));
  const dir = join(root, 'audit');
  await writeDays(dir, 'gw', [D1!, D2!, D3!], 10);
  const purge = await purgeAudit({ dir, signingKeyPem }, 1, Date.parse(`${D3}T12:00:00.000Z`));
  expect(purge.segments.map((s) => s.segment)).toEqual([`${D1}.jsonl`]);
  await writeDays(dir, 'gw', [D4!], 10);
  await writeDays(dir, 'gw-2', [D3!, D4!], 5);
  const offHost = join(root, 'off-host');
  cpSync(join(dir, 'gw', 'checkpoints.jsonl'), join(offHost, 'checkpoints.jsonl'));
  appendFileSync(join(offHost, 'checkpoints.jsonl'), readFileSync(join(dir, 'gw-2', 'checkpoints.jsonl')));
  return root;
}

let built: Promise<string> | undefined;
/** A fresh copy of the log: `dir` the audit directory, `offHost` the shipped checkpoint file. */
async function log(): Promise<{ dir: string; offHost: string; root: string }> {
  built ??= buildLog();
  const root = mkdtempSync(join(tmpdir(), 'rg-tamper-c-'));
  cpSync(await built, root, { recursive: true });
  return { dir: join(root, 'audit'), offHost: join(root, 'off-host', 'checkpoints.jsonl'), root };
}

const segment = (dir: string, day: string, instance = 'gw') => join(dir, instance, `${day}.jsonl`);
const readRecords = (file: string): AuditRecord[] => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditRecord);
const writeRecords = (file: string, records: AuditRecord[]) => writeFileSync(file, records.map((r) => `${canonicalJson(r)}\n`).join(''));

/** Re-links records after an edit, as anyone can (hashes need no secret): each to the one before. */
function rechain(records: AuditRecord[], prev: AuditRecord | undefined): AuditRecord[] {
  const out: AuditRecord[] = [];
  let before = prev;
  for (const record of records) {
    const { hash: _hash, ...body } = record;
    const sealed = sealRecord({ ...body, seq: before ? before.seq + 1 : 1, prev: before ? before.hash : '0'.repeat(64) });
    out.push(sealed);
    before = sealed;
  }
  return out;
}

/** A record chained after `after`, as the attacker writes it. */
function chainedAfter(after: AuditRecord, body: Pick<AuditRecord, 'type' | 'outcome'> & Partial<AuditRecord>): AuditRecord {
  return sealRecord({ v: 1, id: 'forged', ts: after.ts, instance: after.instance, ...body, seq: after.seq + 1, prev: after.hash });
}

function verify(dir: string, offHost?: string): Promise<VerifyReport> {
  return verifyAuditDir(dir, { publicKeyPem, ...(offHost ? { checkpointFiles: [offHost] } : {}) });
}

/** `verify --export`: the directory is an evidence package, its signed export.json honoured. */
function verifyPackage(dir: string, offHost?: string): Promise<VerifyReport> {
  return verifyAuditDir(dir, { publicKeyPem, evidencePackage: true, ...(offHost ? { checkpointFiles: [offHost] } : {}) });
}

function at(file: string, line: number, kind?: VerifyProblem['kind']) {
  return expect.objectContaining({ file, line, ...(kind ? { kind } : {}) });
}

function capture() {
  let text = '';
  return { write: (s: string) => (text += s), get text() { return text; } };
}

describe('audit verify against an attacker without the signing key', () => {
  it('passes the untouched log, its purge and the off-host copy', async () => {
    const { dir, offHost } = await log();
    // An off-host copy caught while its last line is still being shipped: that line names nothing yet.
    appendFileSync(offHost, '{"v":1,"instance":"gw","se');
    const report = await verify(dir, offHost);
    expect(report.problems).toEqual([]);
    const purge = readRecords(segment(dir, D3!)).find((r) => r.type === 'audit.purge')!;
    expect(purge.details).toMatchObject({ segment: `${D1}.jsonl`, firstSeq: 1, firstPrev: '0'.repeat(64), retentionDays: 1, lastTs: `${D1}T08:09:00.000Z` });
    expect(purge.details!.signature).toEqual(expect.any(String));
    // The purge is covered by a checkpoint at once, so the off-host copy carries it.
    const next = readRecords(segment(dir, D3!)).find((r) => r.seq === purge.seq + 1)!;
    expect(next).toMatchObject({ type: 'audit.checkpoint', details: { seq: purge.seq, hash: purge.hash } });
  });

  it('covers a purge by a signed checkpoint in the same write, so the off-host copy has it before anything else happens', async () => {
    const { dir } = await log();
    const writer = await AuditWriter.open({ dir, instance: 'gw', signingKeyPem, ip: 'none', identity: 'clear', names: false, checkpointEvery: 100, checkpointInterval: 86_400_000, now: () => Date.parse(`${D4}T20:00:00.000Z`) });
    try {
      const purge = await writer.appendPurge({ ipKeys: [D1!], reason: 'ip-key-expiry', pid: 1 });
      const entries = readFileSync(join(dir, 'gw', 'checkpoints.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { seq: number; hash: string });
      expect(entries.at(-1)).toMatchObject({ seq: purge.seq, hash: purge.hash });
      await expect(writer.appendPurge({ reason: 'retention', keyId: 'x' })).rejects.toThrow(TypeError);
      await expect(writer.append({ type: 'audit.purge' as 'logout', outcome: 'success' })).rejects.toThrow(TypeError);
    } finally {
      await writer.close();
    }
  });

  it('fails on the reported attack: oldest records of a day deleted and a correctly chained purge appended', async () => {
    const { dir, offHost, root } = await log();
    const day2 = readRecords(segment(dir, D2!));
    const deleted = day2.slice(0, 3);
    expect(deleted.some((r) => r.type === 'room.decision' && r.outcome === 'allow')).toBe(true);
    writeRecords(segment(dir, D2!), day2.slice(3));
    const day4 = readRecords(segment(dir, D4!));
    const last = deleted.at(-1)!;
    const forged = chainedAfter(day4.at(-1)!, {
      type: 'audit.purge', outcome: 'success',
      details: { segment: `${D2}.jsonl`, records: 3, firstSeq: deleted[0]!.seq, lastSeq: last.seq, finalHash: last.hash, reason: 'retention', retentionDays: 1, pid: 1 },
    });
    writeRecords(segment(dir, D4!), [...day4, forged]);
    const keyFile = join(root, 'audit-signing.pub.pem');
    writeFileSync(keyFile, publicKeyPem);
    const out = capture();
    expect(await runAuditCommand(['verify', dir, '--public-key', keyFile, '--checkpoints', offHost], { auditDir: dir, stdout: out, stderr: out })).toBe(1);
    expect(out.text).toContain(`${segment(dir, D2!)}:1: missing:`);
    expect(out.text).toContain(`${segment(dir, D4!)}:${day4.length + 1}: bad-signature:`);
    // The off-host copy's entry for a deleted record is not excused by the forged purge either.
    const report = await verify(dir, offHost);
    expect(report.problems.some((p) => p.file === offHost && p.kind === 'missing')).toBe(true);
  });

  it('fails on a forged purge that carries a signature made for other content', async () => {
    const { dir } = await log();
    const day2 = readRecords(segment(dir, D2!));
    writeRecords(segment(dir, D2!), day2.slice(3));
    const real = readRecords(segment(dir, D3!)).find((r) => r.type === 'audit.purge')!;
    const day4 = readRecords(segment(dir, D4!));
    const forged = chainedAfter(day4.at(-1)!, {
      type: 'audit.purge', outcome: 'success',
      details: { ...real.details!, firstSeq: day2[0]!.seq, lastSeq: day2[2]!.seq, finalHash: day2[2]!.hash, segment: `${D2}.jsonl`, records: 3 },
    });
    writeRecords(segment(dir, D4!), [...day4, forged]);
    const report = await verify(dir);
    expect(report.problems).toContainEqual(at(segment(dir, D4!), day4.length + 1, 'bad-signature'));
    expect(report.problems).toContainEqual(at(segment(dir, D2!), 1, 'missing'));
  });

  it('fails when a replayed copy of a real purge is put elsewhere in the chain, or into another instance', async () => {
    const { dir } = await log();
    const real = readRecords(segment(dir, D3!)).find((r) => r.type === 'audit.purge')!;
    const day4 = readRecords(segment(dir, D4!));
    // The same signed details, re-chained at the end: the signature names the place it was made for.
    const replayed = chainedAfter(day4.at(-1)!, { type: 'audit.purge', outcome: 'success', ts: real.ts, details: real.details! });
    writeRecords(segment(dir, D4!), [...day4, replayed]);
    const other = readRecords(segment(dir, D4!, 'gw-2'));
    const moved = chainedAfter(other.at(-1)!, { type: 'audit.purge', outcome: 'success', ts: other.at(-1)!.ts, details: real.details! });
    writeRecords(segment(dir, D4!, 'gw-2'), [...other, moved]);
    const report = await verify(dir);
    expect(report.problems).toContainEqual(at(segment(dir, D4!), day4.length + 1, 'bad-signature'));
    expect(report.problems).toContainEqual(at(segment(dir, D4!, 'gw-2'), other.length + 1, 'bad-signature'));
    // A byte-for-byte copy of the purge line is a duplicate record.
    const { dir: dir2 } = await log();
    const lines = readFileSync(segment(dir2, D4!), 'utf8').split('\n').filter(Boolean);
    const purgeLine = readFileSync(segment(dir2, D3!), 'utf8').split('\n').find((l) => l.includes('"type":"audit.purge"'))!;
    writeFileSync(segment(dir2, D4!), [...lines, purgeLine].map((l) => `${l}\n`).join(''));
    expect((await verify(dir2)).problems).toContainEqual(at(segment(dir2, D4!), lines.length + 1));
  });

  it('fails on a purge signed with the key that removed a segment newer than the retention it states', async () => {
    const { dir } = await log();
    // As a faulty or misled purge would write it: day 3 "past" a retention of 1 day on day 4.
    const day3 = readRecords(segment(dir, D3!));
    const writer = await AuditWriter.open({ dir, instance: 'gw', signingKeyPem, ip: 'none', identity: 'clear', names: false, checkpointEvery: 100, checkpointInterval: 86_400_000, now: () => Date.parse(`${D4}T20:00:00.000Z`) });
    await writer.appendPurge({
      segment: `${D3}.jsonl`, records: day3.length, firstSeq: day3[0]!.seq, lastSeq: day3.at(-1)!.seq, firstPrev: day3[0]!.prev, finalHash: day3.at(-1)!.hash,
      lastTs: day3.at(-1)!.ts, reason: 'retention', retentionDays: 1, pid: 1,
    });
    await writer.close();
    unlinkSync(segment(dir, D2!));
    unlinkSync(segment(dir, D3!));
    const day4 = readRecords(segment(dir, D4!));
    const purgeLine = day4.findIndex((r) => r.type === 'audit.purge') + 1;
    const report = await verify(dir);
    expect(report.problems).toContainEqual(at(segment(dir, D4!), purgeLine, 'bad-purge'));
    expect(report.problems).toContainEqual(at(segment(dir, D4!), 1, 'missing'));
    expect(report.problems.find((p) => p.kind === 'bad-purge')!.message).toMatch(/not past the stated retention/);
  });

  it('fails when a signed purge does not continue the purge before it (records deleted in between)', async () => {
    const { dir } = await log();
    // The head of day 2 deleted, then day 2 purged by a process that took the segment as it found it
    // (as a purge without content checks would): the new purge starts after a gap.
    const day2 = readRecords(segment(dir, D2!));
    const kept = day2.slice(3);
    const writer = await AuditWriter.open({ dir, instance: 'gw', signingKeyPem, ip: 'none', identity: 'clear', names: false, checkpointEvery: 100, checkpointInterval: 86_400_000, now: () => Date.parse(`${D4}T20:00:00.000Z`) });
    await writer.appendPurge({
      segment: `${D2}.jsonl`, records: kept.length, firstSeq: kept[0]!.seq, lastSeq: kept.at(-1)!.seq, firstPrev: kept[0]!.prev, finalHash: kept.at(-1)!.hash,
      lastTs: kept.at(-1)!.ts, reason: 'retention', retentionDays: 1, pid: 1,
    });
    await writer.close();
    unlinkSync(segment(dir, D2!));
    const purgeLine = readRecords(segment(dir, D4!)).findIndex((r) => r.type === 'audit.purge') + 1;
    const report = await verify(dir);
    expect(report.problems).toEqual([at(segment(dir, D4!), purgeLine, 'missing')]);
    expect(report.problems[0]!.message).toMatch(/does not continue the one before it/);
  });

  it('fails on records deleted from the head: part of the oldest segment, the whole segment, and across days', async () => {
    const part = await log();
    writeRecords(segment(part.dir, D2!), readRecords(segment(part.dir, D2!)).slice(2));
    expect((await verify(part.dir)).problems).toContainEqual(at(segment(part.dir, D2!), 1, 'missing'));

    const whole = await log();
    unlinkSync(segment(whole.dir, D2!));
    const report = await verify(whole.dir);
    expect(report.problems).toContainEqual(at(segment(whole.dir, D3!), 1, 'missing'));
    expect(report.problems.find((p) => p.kind === 'missing')!.message).toMatch(/no signed audit\.purge record explains it/);

    const across = await log();
    unlinkSync(segment(across.dir, D2!));
    writeRecords(segment(across.dir, D3!), readRecords(segment(across.dir, D3!)).slice(4));
    expect((await verify(across.dir)).problems).toContainEqual(at(segment(across.dir, D3!), 1, 'missing'));
  });

  it('fails when the chain starts where a real purge says, but not at the start of a segment newer than the purged one', async () => {
    const { dir } = await log();
    // Day 2's records put back under the purged day's name: a purge removes whole segments, so the
    // record after the purged one must open a later day's segment.
    renameSync(segment(dir, D2!), segment(dir, D1!));
    const report = await verify(dir);
    expect(report.problems).toContainEqual(at(segment(dir, D1!), 1, 'missing'));
    expect(report.problems.find((p) => p.kind === 'missing')!.message).toMatch(/removed whole segments up to/);
  });

  it('fails on records deleted from the middle: in one segment and across a day boundary', async () => {
    const one = await log();
    const day3 = readRecords(segment(one.dir, D3!));
    writeRecords(segment(one.dir, D3!), [...day3.slice(0, 4), ...day3.slice(6)]);
    expect((await verify(one.dir)).problems).toContainEqual(at(segment(one.dir, D3!), 5, 'missing'));

    const across = await log();
    writeRecords(segment(across.dir, D2!), readRecords(segment(across.dir, D2!)).slice(0, -2));
    writeRecords(segment(across.dir, D3!), readRecords(segment(across.dir, D3!)).slice(1));
    expect((await verify(across.dir)).problems).toContainEqual(at(segment(across.dir, D3!), 1, 'missing'));

    const day = await log();
    unlinkSync(segment(day.dir, D3!));
    expect((await verify(day.dir)).problems).toContainEqual(at(segment(day.dir, D4!), 1, 'missing'));
  });

  it('fails on records deleted from the tail past a checkpoint, from the checkpoint file here', async () => {
    const { dir } = await log();
    const day4 = readRecords(segment(dir, D4!));
    writeRecords(segment(dir, D4!), day4.slice(0, 3));
    const report = await verify(dir);
    expect(report.problems).toContainEqual(at(segment(dir, D4!), 4, 'truncated-after-checkpoint'));
  });

  it('catches a tail cut whose checkpoint entries were cut too only with the off-host copy: one segment, across days, a whole instance', async () => {
    const cut = (dir: string, instance: string, keepSeq: number) => {
      const file = join(dir, instance, 'checkpoints.jsonl');
      const kept = readFileSync(file, 'utf8').split('\n').filter(Boolean).filter((l) => (JSON.parse(l) as { seq: number }).seq <= keepSeq);
      writeFileSync(file, kept.map((l) => `${l}\n`).join(''));
    };
    // In one segment.
    const one = await log();
    const day4 = readRecords(segment(one.dir, D4!));
    writeRecords(segment(one.dir, D4!), day4.slice(0, 3));
    cut(one.dir, 'gw', day4[2]!.seq);
    expect((await verify(one.dir)).problems).toEqual([]); // what the directory alone cannot tell
    const withCopy = await verify(one.dir, one.offHost);
    expect(withCopy.problems).toContainEqual(at(segment(one.dir, D4!), 4, 'truncated-after-checkpoint'));
    expect(withCopy.problems[0]!.expected).toContain(`${one.offHost}:`);

    // Across days (instance gw-2): the newest segment deleted and the one before cut.
    const across = await log();
    unlinkSync(segment(across.dir, D4!, 'gw-2'));
    const day3 = readRecords(segment(across.dir, D3!, 'gw-2'));
    writeRecords(segment(across.dir, D3!, 'gw-2'), day3.slice(0, 2));
    cut(across.dir, 'gw-2', day3[1]!.seq);
    expect((await verify(across.dir)).ok).toBe(true);
    expect((await verify(across.dir, across.offHost)).problems).toContainEqual(at(segment(across.dir, D3!, 'gw-2'), 3, 'truncated-after-checkpoint'));

    // A whole instance folder removed.
    const gone = await log();
    rmSync(join(gone.dir, 'gw-2'), { recursive: true });
    expect((await verify(gone.dir)).ok).toBe(true);
    const report = await verify(gone.dir, gone.offHost);
    const firstOfGw2 = readFileSync(gone.offHost, 'utf8').split('\n').findIndex((l) => l.includes('"instance":"gw-2"')) + 1;
    expect(report.problems).toContainEqual(at(gone.offHost, firstOfGw2, 'missing'));
  });

  it('fails when records are reordered: within a segment, across a day boundary, and whole segments swapped', async () => {
    const within = await log();
    const day3 = readRecords(segment(within.dir, D3!));
    [day3[2], day3[3]] = [day3[3]!, day3[2]!];
    writeRecords(segment(within.dir, D3!), day3);
    expect((await verify(within.dir)).problems).toContainEqual(at(segment(within.dir, D3!), 3, 'reordered'));

    const across = await log();
    const a = readRecords(segment(across.dir, D2!));
    const b = readRecords(segment(across.dir, D3!));
    const [lastOfA, firstOfB] = [a.at(-1)!, b[0]!];
    writeRecords(segment(across.dir, D2!), [...a.slice(0, -1), firstOfB]);
    writeRecords(segment(across.dir, D3!), [lastOfA, ...b.slice(1)]);
    const report = await verify(across.dir);
    expect(report.ok).toBe(false);
    expect(report.problems).toContainEqual(at(segment(across.dir, D2!), a.length));

    const swapped = await log();
    renameSync(segment(swapped.dir, D3!), join(swapped.dir, 'tmp'));
    renameSync(segment(swapped.dir, D2!), segment(swapped.dir, D3!));
    renameSync(join(swapped.dir, 'tmp'), segment(swapped.dir, D2!));
    expect((await verify(swapped.dir)).problems).toContainEqual(at(segment(swapped.dir, D2!), 1));
  });

  it('fails when records are replaced: one record re-chained to the tail, or a segment by an older copy of itself', async () => {
    const { dir, offHost } = await log();
    const day3 = readRecords(segment(dir, D3!));
    const day4 = readRecords(segment(dir, D4!));
    const target = day3.findIndex((r) => r.type === 'room.decision' && r.outcome === 'allow');
    const edited = [...day3];
    edited[target] = { ...edited[target]!, room: 'somewhere-else' };
    // Every hash from the replaced record to the end of the log recomputed.
    const rechained = rechain([...edited.slice(target), ...day4], day3[target - 1]);
    writeRecords(segment(dir, D3!), [...day3.slice(0, target), ...rechained.slice(0, day3.length - target)]);
    writeRecords(segment(dir, D4!), rechained.slice(day3.length - target));
    const report = await verify(dir, offHost);
    const firstCheckpoint = day3.findIndex((r, i) => i > target && r.type === 'audit.checkpoint') + 1;
    // The first checkpoint after the edit no longer names the record before it (nor would a re-signed one verify).
    expect(report.problems).toContainEqual(at(segment(dir, D3!), firstCheckpoint, 'tampered'));
    expect(report.problems.some((p) => p.file === offHost && p.kind === 'tampered')).toBe(true);

    // An older copy of day 3, kept before the purge was recorded in it, put back.
    const older = await log();
    const shorter = readRecords(segment(older.dir, D3!)).filter((r) => r.ts < `${D3}T12:00:00.000Z`);
    writeRecords(segment(older.dir, D3!), shorter);
    expect((await verify(older.dir)).problems).toContainEqual(at(segment(older.dir, D4!), 1));
  });

  it('reports a record whose time runs backwards within a chain', async () => {
    const { dir } = await log();
    const day4 = readRecords(segment(dir, D4!));
    const late = chainedAfter(day4.at(-1)!, { type: 'room.decision', outcome: 'allow', room: 'board', ts: `${D3}T23:00:00.000Z` });
    writeRecords(segment(dir, D4!), [...day4, late]);
    const report = await verify(dir);
    expect(report.problems).toEqual([at(segment(dir, D4!), day4.length + 1, 'time-reversed')]);
  });

  it('fails on the reported attack: one forged far-future record at the unsigned tail; the writer does not continue from it', async () => {
    const { dir, offHost, root } = await log();
    const day4 = readRecords(segment(dir, D4!));
    const forged = chainedAfter(day4.at(-1)!, { type: 'logout', outcome: 'success', ts: '2099-12-31T23:59:59.000Z' });
    writeRecords(segment(dir, D4!), [...day4, forged]);
    // The gateway restarts: it does not continue the chain (or every record would be dated 2099 from now on).
    const restart = AuditWriter.open({ dir, instance: 'gw', signingKeyPem, ip: 'none', identity: 'clear', names: false, checkpointEvery: 4, checkpointInterval: 86_400_000 });
    await expect(restart).rejects.toMatchObject({ code: 'RG_AUDIT_UNAVAILABLE', message: expect.stringContaining(`${segment(dir, D4!)}:${day4.length + 1}:`) });
    const keyFile = join(root, 'audit-signing.pub.pem');
    writeFileSync(keyFile, publicKeyPem);
    const out = capture();
    expect(await runAuditCommand(['verify', dir, '--public-key', keyFile, '--checkpoints', offHost], { auditDir: dir, stdout: out, stderr: out })).toBe(1);
    expect(out.text).toContain(`${segment(dir, D4!)}:${day4.length + 1}: time-future: expected `);
    expect(out.text).toContain('found 2099-12-31T23:59:59.000Z');
  });

  it('reports what a writer continuing a far-future record used to write: every later record at that time, in that day\'s segment', async () => {
    const { dir } = await log();
    const day4 = readRecords(segment(dir, D4!));
    const forged = chainedAfter(day4.at(-1)!, { type: 'logout', outcome: 'success', ts: '2099-12-31T23:59:59.000Z' });
    writeRecords(segment(dir, D4!), [...day4, forged]);
    const frozen = rechain([forged, forged].map((r, i) => ({ ...r, id: `later-${i}`, type: 'room.decision', outcome: 'allow', room: 'board' })), forged);
    writeRecords(segment(dir, '2099-12-31'), frozen);
    const report = await verify(dir);
    expect(report.problems).toEqual([at(segment(dir, D4!), day4.length + 1, 'time-future'), at(segment(dir, '2099-12-31'), 1, 'time-future')]);
    expect(report.problems[0]!.message).toContain('and 2 later record(s)');
    expect(report.problems.map((p) => p.message)).toContain('a segment named for a day that has not come yet (its records would outlive retention)');
    // The deny side: the same log verified on 1 January 2100 (the records are no longer in the future).
    expect((await verifyAuditDir(dir, { publicKeyPem, now: Date.parse('2100-01-01T00:00:00.000Z') })).problems).toEqual([]);
  });

  it('reports a record dated after the checkpoint that signed it', async () => {
    const { dir, offHost } = await log();
    const lines = readFileSync(offHost, 'utf8').split('\n').filter(Boolean);
    const index = lines.map((l) => l.includes('"instance":"gw"')).lastIndexOf(true);
    const entry = JSON.parse(lines[index]!) as { seq: number; ts: string };
    // The off-host copy says the checkpoint was made a day before the record it signed was dated.
    lines[index] = JSON.stringify({ ...entry, ts: `${D3}T08:00:00.000Z` });
    writeFileSync(offHost, `${lines.join('\n')}\n`);
    const day4 = readRecords(segment(dir, D4!));
    const signedLine = day4.findIndex((r) => r.seq === entry.seq) + 1;
    const report = await verify(dir, offHost);
    expect(report.problems).toEqual([at(segment(dir, D4!), signedLine, 'time-reversed')]);
    expect(report.problems[0]!.expected).toContain(`(the checkpoint at ${offHost}:${index + 1} that signed it)`);
  });

  it('does not let an export.json in a copy of the directory explain a deleted head: genuine, unsigned or re-dated', async () => {
    const { dir, root } = await log();
    const pkg = join(root, 'pkg');
    await exportEvidence({ dir, since: Date.parse(`${D3}T00:00:00Z`), until: Date.parse(`${D4}T23:00:00Z`), out: pkg, signingKeyPem });
    expect((await verifyPackage(pkg)).problems).toEqual([]);
    unlinkSync(segment(dir, D2!));
    // Verified as an audit log (no --export), any export.json is a finding and explains nothing.
    cpSync(join(pkg, 'export.json'), join(dir, 'export.json'));
    const asLog = await verify(dir);
    expect(asLog.problems).toContainEqual(at(join(dir, 'export.json'), 1, 'inserted'));
    expect(asLog.problems).toContainEqual(at(segment(dir, D3!), 1, 'missing'));
    expect(asLog.partial).toBeUndefined();
    // Verified as a package, a manifest written by hand that starts at day 3 explains nothing either.
    const manifest = JSON.parse(readFileSync(join(pkg, 'export.json'), 'utf8')) as Record<string, unknown>;
    const { keyId: _k, signature: _s, ...unsigned } = manifest;
    writeFileSync(join(dir, 'export.json'), JSON.stringify(unsigned));
    const asPackage = await verifyPackage(dir);
    expect(asPackage.problems).toContainEqual(at(join(dir, 'export.json'), 1, 'bad-signature'));
    expect(asPackage.problems).toContainEqual(at(segment(dir, D3!), 1, 'missing'));
    // The signed manifest of a package does not fit another stretch of the chain either.
    writeFileSync(join(dir, 'export.json'), JSON.stringify({ ...manifest, since: D2 }));
    expect((await verifyPackage(dir)).problems).toContainEqual(at(join(dir, 'export.json'), 1, 'bad-signature'));
  });

  it('fails on the reported attack: a genuine export.json dropped into a copy whose head was deleted and whose tail was cut and forged', async () => {
    const { dir, offHost, root } = await log();
    const pkg = join(root, 'evidence-day-3');
    await exportEvidence({ dir, since: Date.parse(`${D3}T00:00:00Z`), until: Date.parse(`${D3}T23:59:59Z`), out: pkg, signingKeyPem });
    // Day 2 gone (the head), day 4 gone (the tail) and a forged day 4 continuing day 3, the package's manifest dropped in.
    unlinkSync(segment(dir, D2!));
    const day3 = readRecords(segment(dir, D3!));
    const forged = rechain(readRecords(segment(dir, D4!)).slice(0, 3).map((r) => ({ ...r, outcome: 'deny', reason: 'RG_POLICY_NOT_ALLOWED' })), day3.at(-1));
    writeRecords(segment(dir, D4!), forged);
    cpSync(join(pkg, 'export.json'), join(dir, 'export.json'));
    const keyFile = join(root, 'audit-signing.pub.pem');
    writeFileSync(keyFile, publicKeyPem);
    const copy = join(root, 'copy-of-audit-dir');
    cpSync(dir, copy, { recursive: true });

    // As the attack verified it: a copy of the audit directory, the off-host key and checkpoint copy.
    const out = capture();
    expect(await runAuditCommand(['verify', copy, '--public-key', keyFile, '--checkpoints', offHost], { auditDir: '/etc/roomguard/audit', stdout: out, stderr: out })).toBe(1);
    expect(out.text).toContain(`${join(copy, 'export.json')}:1: inserted:`);
    expect(out.text).toContain(`${segment(copy, D3!)}:1: missing:`);
    expect(out.text).toMatch(new RegExp(`${segment(copy, D4!).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+: (tampered|truncated-after-checkpoint):`));
    expect(out.text).not.toContain('evidence package for');

    // And if the reviewer verifies it as an evidence package: the forged segment is no file of the package.
    const asPackage = capture();
    expect(await runAuditCommand(['verify', copy, '--export', '--public-key', keyFile, '--checkpoints', offHost], { auditDir: '/etc/roomguard/audit', stdout: asPackage, stderr: asPackage })).toBe(1);
    expect(asPackage.text).toContain(`${segment(copy, D4!)}:1: inserted: expected only the files ${join(copy, 'export.json')} names found ${D4}.jsonl`);
    expect(asPackage.text).toContain(`${segment(copy, D4!)}:1: inserted: expected the end of the package at seq ${day3.at(-1)!.seq}`);
  });

  it('verifying a package (--export), holds every file and record against its signed manifest and names where', async () => {
    const { dir, offHost, root } = await log();
    const pkg = join(root, 'pkg');
    await exportEvidence({ dir, since: Date.parse(`${D3}T00:00:00Z`), until: Date.parse(`${D3}T23:59:59Z`), out: pkg, signingKeyPem });
    const fresh = () => {
      const copy = mkdtempSync(join(root, 'pkg-'));
      cpSync(pkg, copy, { recursive: true });
      return copy;
    };
    // The deny side: the package as written verifies, with the off-host copy too (its later entries are outside the package).
    const clean = await verifyPackage(fresh(), offHost);
    expect(clean.problems).toEqual([]);
    expect(clean.evidencePackage).toMatchObject({ since: D3, until: D3, chains: { gw: { lastSeq: readRecords(segment(dir, D3!)).at(-1)!.seq } } });

    // A segment of a later day added (genuine records of the chain).
    let copy = fresh();
    cpSync(segment(dir, D4!), segment(copy, D4!));
    expect((await verifyPackage(copy)).problems).toEqual([at(segment(copy, D4!), 1, 'inserted'), at(segment(copy, D4!), 1, 'inserted')]);

    // Genuine later records appended to the package's last segment.
    copy = fresh();
    const lines = readFileSync(segment(copy, D3!), 'utf8').split('\n').filter(Boolean).length;
    appendFileSync(segment(copy, D3!), readFileSync(segment(dir, D4!), 'utf8').split('\n').slice(0, 2).map((l) => `${l}\n`).join(''));
    expect((await verifyPackage(copy)).problems).toEqual([at(segment(copy, D3!), lines + 1, 'inserted'), at(segment(copy, D3!), lines + 1, 'inserted')]);

    // A segment of the package removed: named at the line of export.json that lists it.
    copy = fresh();
    unlinkSync(segment(copy, D3!, 'gw-2'));
    const manifestLines = readFileSync(join(copy, 'export.json'), 'utf8').split('\n');
    const listed = manifestLines.findIndex((l, i) => i > manifestLines.findIndex((m) => m.includes('"gw-2":')) && l.includes(`"${D3}.jsonl":`)) + 1;
    expect((await verifyPackage(copy)).problems).toContainEqual(at(join(copy, 'export.json'), listed, 'missing'));

    // Entries cut from the package's checkpoint file; an instance folder the manifest does not list; a lock file.
    copy = fresh();
    const entries = readFileSync(join(copy, 'gw', 'checkpoints.jsonl'), 'utf8').split('\n').filter(Boolean);
    writeFileSync(join(copy, 'gw', 'checkpoints.jsonl'), `${entries.slice(1).join('\n')}\n`);
    // (named `constructor`: a name every plain object seems to have)
    cpSync(join(dir, 'gw-2'), join(copy, 'constructor'), { recursive: true });
    writeFileSync(join(copy, 'gw', '.lock'), '{}');
    const report = await verifyPackage(copy);
    expect(report.problems).toContainEqual(at(join(copy, 'gw', 'checkpoints.jsonl'), 1, 'tampered'));
    expect(report.problems).toContainEqual(at(join(copy, 'gw', '.lock'), 1, 'inserted'));
    expect(report.problems).toContainEqual(at(segment(copy, D3!, 'constructor'), 1, 'inserted'));
    expect(report.problems).toContainEqual(at(join(copy, 'constructor', 'checkpoints.jsonl'), 1, 'inserted'));

    // No export.json at all, verified as a package.
    copy = fresh();
    unlinkSync(join(copy, 'export.json'));
    expect((await verifyPackage(copy)).problems).toContainEqual(at(join(copy, 'export.json'), 1, 'missing'));
  });

  it('verifying a package, ends each chain exactly where its signed manifest says', async () => {
    const { dir, root } = await log();
    const pkg = join(root, 'pkg');
    await exportEvidence({ dir, since: Date.parse(`${D3}T00:00:00Z`), until: Date.parse(`${D3}T23:59:59Z`), out: pkg, signingKeyPem });
    const manifest = JSON.parse(readFileSync(join(pkg, 'export.json'), 'utf8')) as ExportManifest;
    const day3 = readRecords(segment(pkg, D3!));
    // A manifest the key signed whose stretch ends one record earlier than the files it names (a faulty exporter).
    const short = signManifest({ ...manifest, instances: { ...manifest.instances, gw: { ...manifest.instances.gw!, lastSeq: day3.at(-2)!.seq, lastHash: day3.at(-2)!.hash } } }, checkpointSigner(signingKeyPem));
    writeFileSync(join(pkg, 'export.json'), manifestFileText(short));
    expect((await verifyPackage(pkg)).problems).toEqual([at(segment(pkg, D3!), day3.length, 'inserted')]);
    // One that names another last hash for the package's last record.
    const other = signManifest({ ...manifest, instances: { ...manifest.instances, gw: { ...manifest.instances.gw!, lastHash: 'f'.repeat(64) } } }, checkpointSigner(signingKeyPem));
    writeFileSync(join(pkg, 'export.json'), manifestFileText(other));
    expect((await verifyPackage(pkg)).problems).toEqual([at(segment(pkg, D3!), day3.length, 'tampered')]);
  });

  it('does not honour a manifest of the older format, which bound none of the package\'s files, even signed', async () => {
    const { dir, root } = await log();
    const pkg = join(root, 'pkg');
    await exportEvidence({ dir, since: Date.parse(`${D3}T00:00:00Z`), until: Date.parse(`${D3}T23:59:59Z`), out: pkg, signingKeyPem });
    const current = JSON.parse(readFileSync(join(pkg, 'export.json'), 'utf8')) as ExportManifest;
    const instances = Object.fromEntries(Object.entries(current.instances).map(([name, c]) => [name, { firstSeq: c.firstSeq, firstPrev: c.firstPrev, lastSeq: c.lastSeq, lastHash: c.lastHash, segments: Object.keys(c.files).filter((f) => f !== 'checkpoints.jsonl') }]));
    const v1 = { v: 1, since: current.since, until: current.until, createdAt: current.createdAt, instances };
    const signature = sign(null, Buffer.from(`roomguard-audit-export v1\n${canonicalJson(v1)}`), privateKey).toString('base64');
    writeFileSync(join(pkg, 'export.json'), JSON.stringify({ ...v1, keyId: current.keyId, signature }, null, 2));
    const report = await verifyPackage(pkg);
    expect(report.problems).toContainEqual(expect.objectContaining({ file: join(pkg, 'export.json'), line: 1, kind: 'tampered', message: expect.stringContaining('older roomguard (v1)') }));
    expect(report.problems).toContainEqual(at(segment(pkg, D3!), 1, 'missing'));
  });
});

describe('audit purge on a tampered log', () => {
  it('keeps a segment holding recent records moved into an old file, and says where', async () => {
    const { dir } = await log();
    // Day 3 (with day 4 after it) appended to day 2's file: the chain is intact, the file name is old.
    const moved = [...readRecords(segment(dir, D2!)), ...readRecords(segment(dir, D3!))];
    writeRecords(segment(dir, D2!), moved);
    unlinkSync(segment(dir, D3!));
    const result = await purgeAudit({ dir, signingKeyPem }, 1, Date.parse(`${D4}T12:00:00.000Z`));
    expect(result.segments).toEqual([]);
    const firstMoved = moved.findIndex((r) => r.ts.startsWith(D3!)) + 1;
    expect(result.refused).toEqual([expect.objectContaining({ instance: 'gw', segment: `${D2}.jsonl`, file: segment(dir, D2!), line: firstMoved })]);
    expect(result.refused[0]!.reason).toMatch(/not past retention/);
    expect(readRecords(segment(dir, D2!))).toHaveLength(moved.length);
  });

  it('keeps a segment whose records were tampered with, so the evidence stays for verify', async () => {
    const { dir } = await log();
    const day2 = readRecords(segment(dir, D2!));
    writeRecords(segment(dir, D2!), [...day2.slice(0, 3), ...day2.slice(4)]);
    const out = capture();
    expect(await runAuditCommand(['purge', '--days', '1'], { auditDir: dir, signingKeyPem, stdout: out, now: () => Date.parse(`${D4}T12:00:00.000Z`) })).toBe(1);
    expect(out.text).toContain(`${segment(dir, D2!)}:4: kept gw/${D2}.jsonl past retention`);
    expect((await verify(dir)).problems).toContainEqual(at(segment(dir, D2!), 4, 'missing'));
  });

  it('purges the next day on an intact log and verify still passes, the off-host copy included', async () => {
    const { dir, offHost } = await log();
    const result = await purgeAudit({ dir, signingKeyPem }, 1, Date.parse(`${D4}T12:00:00.000Z`));
    expect(result.refused).toEqual([]);
    expect(result.segments.map((s) => `${s.instance}/${s.segment}`)).toEqual([`gw/${D2}.jsonl`]);
    expect((await verify(dir, offHost)).problems).toEqual([]);
  });
});
