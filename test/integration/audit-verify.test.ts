// Verification, retention, query, export and the `roomguard audit` commands against real audit
// directories written by the real writer (several days, two instances), then tampered with by hand.
import { spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditWriter } from '../../src/audit/writer.js';
import { verifyAuditDir, repairTail, type VerifyProblem } from '../../src/audit/verify.js';
import { purgeAudit } from '../../src/audit/purge.js';
import { queryAudit, formatCsv } from '../../src/audit/query.js';
import { exportEvidence } from '../../src/audit/export.js';
import { runAuditCommand } from '../../src/cli/audit-commands.js';
import { canonicalJson, sealRecord } from '../../src/audit/chain.js';
import { pseudonymKey, pseudonymOf } from '../../src/audit/privacy.js';
import { renderAuditPage, chainStatusOf, joinsOverTime } from '../../src/ui/audit-page.js';
import type { AuditEvent, AuditRecord } from '../../src/audit/record.js';

const signingKeyPem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const publicKeyPem = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString(); // an unrelated key
const DAYS = ['2024-05-01', '2024-05-02', '2024-05-03'];
const MINUTE = 60_000;

function event(instance: string, day: number, k: number): AuditEvent {
  const n = day * 10 + k;
  if (k === 0) return { type: 'login.success', outcome: 'success', actor: { sub: `sub-${n % 3}`, iss: 'https://id.example.org', email: `p${n % 3}@example.org` }, client: { ip: '198.51.100.20' } };
  return {
    type: 'room.decision', outcome: n % 4 === 0 ? 'deny' : 'allow', room: n % 2 === 0 ? 'board' : 'team',
    actor: { sub: `sub-${n % 3}`, iss: 'https://id.example.org', email: `p${n % 3}@example.org` },
    ...(n % 4 === 0 ? { reason: 'RG_POLICY_NOT_ALLOWED' } : { policy: { file: 'policies/board.yaml', sha256: 'c'.repeat(64), rule: 'allow[0]', line: 5 }, auth: { methods: ['totp'], mfaAgeSeconds: 30 } }),
    client: { ip: '203.0.113.45', userAgent: k === 3 ? '=HYPERLINK("http://evil.example","x")' : `agent-${instance}` },
    requestId: `${instance}-${n}`,
  };
}

/** Two instances, three days, ten events a day, a checkpoint every four records. */
async function makeLog(options: { identity?: 'clear' | 'pseudonymous' } = {}): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'rg-audit-v-'));
  for (const instance of ['gw-a', 'gw-b']) {
    let now = Date.parse(`${DAYS[0]}T08:00:00.000Z`);
    const writer = await AuditWriter.open({
      dir, instance, signingKeyPem, ip: 'truncate', identity: options.identity ?? 'clear', names: false,
      checkpointEvery: 4, checkpointInterval: 86_400_000, now: () => now,
    });
    for (let d = 0; d < DAYS.length; d++) {
      for (let k = 0; k < 10; k++) {
        now = Date.parse(`${DAYS[d]}T08:00:00.000Z`) + k * MINUTE + (instance === 'gw-b' ? 30_000 : 0);
        await writer.append(event(instance, d, k));
      }
    }
    await writer.close();
  }
  return dir;
}

let fixture: Promise<string> | undefined;
/** A fresh copy of one clean log (writing it once keeps the suite fast). */
async function cleanLog(): Promise<string> {
  fixture ??= makeLog();
  const source = await fixture;
  const copy = mkdtempSync(join(tmpdir(), 'rg-audit-c-'));
  cpSync(source, copy, { recursive: true });
  return copy;
}

function segmentLines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

function writeLines(file: string, lines: string[]): void {
  writeFileSync(file, lines.map((l) => `${l}\n`).join(''));
}

function chainProblems(problems: VerifyProblem[]): VerifyProblem[] {
  return problems.filter((p) => !p.file.endsWith('checkpoints.jsonl'));
}

function capture() {
  let text = '';
  return { write: (s: string) => (text += s), get text() { return text; } };
}

describe('audit verify', () => {
  it('accepts clean logs over several days and two instances, with signatures checked', async () => {
    const dir = await cleanLog();
    const report = await verifyAuditDir(dir, { signingKeyPem });
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.instanceNames).toEqual(['gw-a', 'gw-b']);
    expect(report.segments).toBe(6);
    expect(report.signatures).toBe('checked');
    // 30 events per instance plus a checkpoint after every four and a final one.
    expect(report.records).toBe(2 * (30 + 7 + 1));
    expect(report.lastCheckpoint).toMatchObject({ instance: 'gw-b', seq: 37 });
  });

  it('finds a changed field and names file:line with expected and found hash', async () => {
    const dir = await cleanLog();
    const file = join(dir, 'gw-a', '2024-05-02.jsonl');
    const lines = segmentLines(file);
    const record = JSON.parse(lines[2]!) as AuditRecord;
    const original = record.hash;
    lines[2] = canonicalJson({ ...record, room: 'secret-room' });
    writeLines(file, lines);
    const report = await verifyAuditDir(dir, { signingKeyPem });
    expect(report.ok).toBe(false);
    expect(report.repairable).toBe(false);
    expect(report.problems[0]).toMatchObject({ file, line: 3, kind: 'tampered', found: original });
    expect(report.problems[0]!.expected).toMatch(/^[0-9a-f]{64}$/);
    expect(report.problems[0]!.expected).not.toBe(original);
  });

  it('finds a field changed with the hash recomputed, at the broken link', async () => {
    const dir = await cleanLog();
    const file = join(dir, 'gw-a', '2024-05-02.jsonl');
    const lines = segmentLines(file);
    const { hash: _h, ...body } = JSON.parse(lines[1]!) as AuditRecord;
    lines[1] = canonicalJson(sealRecord({ ...body, requestId: 'rewritten' }));
    writeLines(file, lines);
    const problems = chainProblems((await verifyAuditDir(dir, { signingKeyPem })).problems);
    expect(problems[0]).toMatchObject({ file, line: 3, kind: 'tampered' });
  });

  it('finds a deleted line', async () => {
    const dir = await cleanLog();
    const file = join(dir, 'gw-a', '2024-05-02.jsonl');
    const lines = segmentLines(file);
    const removed = JSON.parse(lines[2]!) as AuditRecord;
    lines.splice(2, 1);
    writeLines(file, lines);
    const problems = chainProblems((await verifyAuditDir(dir, { signingKeyPem })).problems);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file, line: 3, kind: 'missing', found: removed.hash, expected: removed.prev });
    expect(problems[0]!.message).toContain(`seq ${removed.seq}`);
  });

  it('finds an inserted line, even one with a correct hash and link', async () => {
    const dir = await cleanLog();
    const file = join(dir, 'gw-a', '2024-05-02.jsonl');
    const lines = segmentLines(file);
    const before = JSON.parse(lines[1]!) as AuditRecord;
    const forged = sealRecord({ v: 1, id: 'forged', ts: before.ts, seq: before.seq + 1, instance: 'gw-a', type: 'room.decision', outcome: 'allow', room: 'board', actor: { sub: 'mallory', iss: 'https://id.example.org' }, prev: before.hash });
    lines.splice(2, 0, canonicalJson(forged));
    writeLines(file, lines);
    const problems = chainProblems((await verifyAuditDir(dir, { signingKeyPem })).problems);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file, line: 3, kind: 'inserted' });
  });

  it('finds a copied line inserted elsewhere', async () => {
    const dir = await cleanLog();
    const file = join(dir, 'gw-a', '2024-05-02.jsonl');
    const lines = segmentLines(file);
    lines.splice(6, 0, lines[1]!);
    writeLines(file, lines);
    const problems = chainProblems((await verifyAuditDir(dir, { signingKeyPem })).problems);
    expect(problems).toEqual([expect.objectContaining({ file, line: 7, kind: 'inserted' })]);
  });

  it('finds two swapped lines', async () => {
    const dir = await cleanLog();
    const file = join(dir, 'gw-a', '2024-05-02.jsonl');
    const lines = segmentLines(file);
    [lines[2], lines[3]] = [lines[3]!, lines[2]!];
    writeLines(file, lines);
    const problems = chainProblems((await verifyAuditDir(dir, { signingKeyPem })).problems);
    expect(problems).toEqual([expect.objectContaining({ file, line: 3, kind: 'reordered' })]);
  });

  it('finds a whole segment removed from the middle', async () => {
    const dir = await cleanLog();
    writeFileSync(join(dir, 'gw-b', '2024-05-02.jsonl'), '');
    const problems = chainProblems((await verifyAuditDir(dir, { signingKeyPem })).problems);
    expect(problems[0]).toMatchObject({ file: join(dir, 'gw-b', '2024-05-03.jsonl'), line: 1, kind: 'missing' });
  });

  it('finds the tail dropped after a checkpoint, from the checkpoint file', async () => {
    const dir = await cleanLog();
    const file = join(dir, 'gw-a', '2024-05-03.jsonl');
    const lines = segmentLines(file);
    writeLines(file, lines.slice(0, 3));
    const report = await verifyAuditDir(dir, { signingKeyPem });
    expect(report.ok).toBe(false);
    const truncated = report.problems.filter((p) => p.kind === 'truncated-after-checkpoint');
    expect(truncated.length).toBeGreaterThan(0);
    expect(truncated[0]).toMatchObject({ file, line: 4 });
    expect(truncated[0]!.expected).toContain('checkpoints.jsonl:');
  });

  it('finds a bad checkpoint signature in the checkpoint file and in the chain', async () => {
    const dir = await cleanLog();
    const cpFile = join(dir, 'gw-b', 'checkpoints.jsonl');
    const cps = segmentLines(cpFile);
    const entry = JSON.parse(cps[1]!) as { signature: string };
    entry.signature = Buffer.alloc(64, 1).toString('base64');
    cps[1] = canonicalJson(entry);
    writeLines(cpFile, cps);
    const file = join(dir, 'gw-b', '2024-05-01.jsonl');
    const lines = segmentLines(file);
    const index = lines.findIndex((l) => l.includes('"type":"audit.checkpoint"'));
    const { hash: _h, ...body } = JSON.parse(lines[index]!) as AuditRecord;
    const resigned = sealRecord({ ...body, details: { ...body.details!, signature: Buffer.alloc(64, 2).toString('base64') } });
    lines[index] = canonicalJson(resigned);
    // Keep the chain linked, so the signature is the only thing wrong.
    const next = JSON.parse(lines[index + 1]!) as AuditRecord;
    const { hash: _n, ...nextBody } = next;
    lines[index + 1] = canonicalJson(sealRecord({ ...nextBody, prev: resigned.hash }));
    writeLines(file, lines);
    const problems = (await verifyAuditDir(dir, { signingKeyPem })).problems;
    expect(problems).toContainEqual(expect.objectContaining({ file: cpFile, line: 2, kind: 'bad-signature' }));
    expect(problems).toContainEqual(expect.objectContaining({ file, line: index + 1, kind: 'bad-signature' }));
  });

  it('reports every checkpoint as bad with a key that did not sign them, and skips signatures without a key', async () => {
    const dir = await cleanLog();
    const wrong = await verifyAuditDir(dir, { publicKeyPem });
    expect(wrong.ok).toBe(false);
    expect(new Set(wrong.problems.map((p) => p.kind))).toEqual(new Set(['bad-signature']));
    const none = await verifyAuditDir(dir);
    expect(none.ok).toBe(true);
    expect(none.signatures).toBe('unchecked');
  });

  it('tells a torn final line from tampering, and --repair-tail fixes it', async () => {
    const dir = await cleanLog();
    const file = join(dir, 'gw-a', '2024-05-03.jsonl');
    appendFileSync(file, '{"v":1,"id":"torn-by-a-cra');
    const report = await verifyAuditDir(dir, { signingKeyPem });
    expect(report.problems).toEqual([expect.objectContaining({ file, line: segmentLines(file).length, kind: 'torn-tail' })]);
    expect(report.ok).toBe(false);
    expect(report.repairable).toBe(true);
    const out = capture();
    expect(await runAuditCommand(['verify', dir], { auditDir: dir, signingKeyPem, stdout: out, stderr: out })).toBe(1);
    expect(out.text).toContain(`${file}:${segmentLines(file).length}: torn-tail:`);
    expect(out.text).toContain('--repair-tail');
    const fixed = capture();
    expect(await runAuditCommand(['verify', dir, '--repair-tail'], { auditDir: dir, signingKeyPem, stdout: fixed, stderr: fixed })).toBe(0);
    expect(fixed.text).toContain('repaired');
    expect(readFileSync(`${file}.torn`, 'utf8')).toBe('{"v":1,"id":"torn-by-a-cra');
    expect((await verifyAuditDir(dir, { signingKeyPem })).ok).toBe(true);
  });

  it('treats an unparseable line in the middle as tampering, not as a torn tail', async () => {
    const dir = await cleanLog();
    const file = join(dir, 'gw-a', '2024-05-02.jsonl');
    const lines = segmentLines(file);
    lines[4] = lines[4]!.slice(0, 40);
    writeLines(file, lines);
    const report = await verifyAuditDir(dir, { signingKeyPem });
    expect(report.repairable).toBe(false);
    expect(report.problems[0]).toMatchObject({ file, line: 5, kind: 'tampered' });
  });

  it('refuses --repair-tail while a writer holds the instance', async () => {
    const dir = await cleanLog();
    const writer = await AuditWriter.open({ dir, instance: 'gw-a', signingKeyPem, ip: 'none', identity: 'clear', names: false, checkpointEvery: 10, checkpointInterval: 60_000, now: () => Date.parse('2024-05-03T12:00:00Z') });
    try {
      await expect(repairTail(dir)).rejects.toThrow(/being written by pid/);
    } finally {
      await writer.close();
    }
  });
});

describe('audit purge', () => {
  it('deletes segments past retention, records them in the chain, and verify still passes', async () => {
    const dir = await cleanLog();
    const now = Date.parse('2024-05-03T12:00:00Z');
    const dropped = segmentLines(join(dir, 'gw-a', '2024-05-01.jsonl')).map((l) => JSON.parse(l) as AuditRecord);
    const result = await purgeAudit({ dir, signingKeyPem }, 1, now);
    expect(result.segments.map((s) => `${s.instance}/${s.segment}`)).toEqual(['gw-a/2024-05-01.jsonl', 'gw-b/2024-05-01.jsonl']);
    expect(existsSync(join(dir, 'gw-a', '2024-05-01.jsonl'))).toBe(false);
    expect(existsSync(join(dir, 'gw-a', '2024-05-02.jsonl'))).toBe(true);
    const purge = (await queryAudit(dir, { type: 'audit.purge' })).find((r) => r.instance === 'gw-a')!;
    expect(purge.details).toMatchObject({
      segment: '2024-05-01.jsonl', records: dropped.length, firstSeq: 1, lastSeq: dropped.at(-1)!.seq, finalHash: dropped.at(-1)!.hash,
      reason: 'retention', retentionDays: 1, pid: process.pid,
    });
    const report = await verifyAuditDir(dir, { signingKeyPem });
    expect(report.problems).toEqual([]);
    // A day later the next segment goes; verification still passes over what remains.
    await purgeAudit({ dir, signingKeyPem }, 1, now + 86_400_000);
    expect(readdirSync(join(dir, 'gw-a')).filter((f) => f.endsWith('.jsonl') && f !== 'checkpoints.jsonl')).toEqual(['2024-05-03.jsonl', '2024-05-04.jsonl']);
    expect((await verifyAuditDir(dir, { signingKeyPem })).problems).toEqual([]);
  });

  it('never deletes today\'s segment and deletes address keys older than 7 days', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-audit-p-'));
    let now = Date.parse('2024-04-20T10:00:00Z');
    const writer = await AuditWriter.open({ dir, instance: 'gw', signingKeyPem, ip: 'hmac', identity: 'clear', names: false, checkpointEvery: 100, checkpointInterval: 86_400_000, now: () => now });
    await writer.append({ type: 'login.success', outcome: 'success', client: { ip: '203.0.113.8' } });
    now = Date.parse('2024-05-01T10:00:00Z');
    const rec = await writer.append({ type: 'login.success', outcome: 'success', client: { ip: '203.0.113.8' } });
    expect(rec.client?.ip).toMatch(/^[0-9a-f]{32}$/);
    expect(readdirSync(join(dir, 'keys')).sort()).toEqual(['2024-04-20.key', '2024-05-01.key']);
    const result = await purgeAudit(writer, 1, now);
    expect(result.ipKeys).toEqual(['2024-04-20']);
    expect(readdirSync(join(dir, 'keys'))).toEqual(['2024-05-01.key']);
    expect(result.segments.map((s) => s.segment)).toEqual(['2024-04-20.jsonl']);
    const again = await purgeAudit(writer, 1, now);
    expect(again.segments).toEqual([]);
    expect(existsSync(join(dir, 'gw', '2024-05-01.jsonl'))).toBe(true);
    await writer.close();
    expect((await verifyAuditDir(dir, { signingKeyPem })).problems).toEqual([]);
  });
});

describe('audit query', () => {
  it('filters by room, person, type, outcome and time across instances', async () => {
    const dir = await cleanLog();
    const board = await queryAudit(dir, { room: 'Board', type: 'room.decision' });
    expect(board.length).toBeGreaterThan(0);
    expect(board.every((r) => r.room === 'board')).toBe(true);
    expect(new Set(board.map((r) => r.instance))).toEqual(new Set(['gw-a', 'gw-b']));
    const denied = await queryAudit(dir, { outcome: 'deny' });
    expect(denied.every((r) => r.outcome === 'deny' && r.reason === 'RG_POLICY_NOT_ALLOWED')).toBe(true);
    const bySub = await queryAudit(dir, { user: 'sub-1' });
    const byEmail = await queryAudit(dir, { user: 'P1@example.org' });
    expect(bySub.length).toBeGreaterThan(0);
    expect(byEmail.map((r) => r.id)).toEqual(bySub.map((r) => r.id));
    const day2 = await queryAudit(dir, { since: Date.parse('2024-05-02T00:00:00Z'), until: Date.parse('2024-05-03T00:00:00Z') });
    expect(day2.length).toBeGreaterThan(0);
    expect(day2.every((r) => r.ts.startsWith('2024-05-02'))).toBe(true);
    const sorted = [...day2].sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
    expect(day2.map((r) => r.id)).toEqual(sorted.map((r) => r.id));
    expect(await queryAudit(dir, { user: 'nobody' })).toEqual([]);
    const newest = await queryAudit(dir, {}, { limit: 5 });
    expect(newest).toHaveLength(5);
    expect(newest.at(-1)!.ts.startsWith('2024-05-03')).toBe(true);
  });

  it('finds people by pseudonym under audit.identity pseudonymous', async () => {
    const dir = await makeLog({ identity: 'pseudonymous' });
    const pseudonym = pseudonymOf(pseudonymKey(signingKeyPem), 'https://id.example.org', 'sub-2');
    const found = await queryAudit(dir, { user: pseudonym });
    expect(found.length).toBeGreaterThan(0);
    expect(readFileSync(join(dir, 'gw-a', '2024-05-01.jsonl'), 'utf8')).not.toContain('sub-2');
    expect(readFileSync(join(dir, 'gw-a', '2024-05-01.jsonl'), 'utf8')).not.toContain('@example.org');
    const out = capture();
    expect(await runAuditCommand(['pseudonym', '--iss', 'https://id.example.org', '--sub', 'sub-2'], { auditDir: dir, signingKeyPem, stdout: out })).toBe(0);
    expect(out.text.trim()).toBe(pseudonym);
  });

  it('writes CSV with formula injection neutralised, and a table without control characters', async () => {
    const dir = await cleanLog();
    const records = await queryAudit(dir, { type: 'room.decision' });
    const csv = formatCsv(records);
    expect(csv.split('\r\n')[0]).toMatch(/^ts,instance,seq,type,outcome,/);
    expect(csv).toContain(`"'=HYPERLINK(""http://evil.example"",""x"")"`);
    expect(csv).not.toMatch(/(^|,)=HYPERLINK/m);
    const out = capture();
    expect(await runAuditCommand(['query', '--room', 'board', '--csv'], { auditDir: dir, stdout: out })).toBe(0);
    expect(out.text.startsWith('ts,instance,seq')).toBe(true);
    const json = capture();
    expect(await runAuditCommand(['query', '--type', 'login.success', '--json', '--since', '2024-05-03'], { auditDir: dir, stdout: json })).toBe(0);
    const lines = json.text.trim().split('\n').map((l) => JSON.parse(l) as AuditRecord);
    expect(lines).toHaveLength(2);
    const table = capture();
    expect(await runAuditCommand(['query', '--outcome', 'deny'], { auditDir: dir, stdout: table })).toBe(0);
    expect(table.text).toMatch(/^TIME \(UTC\)\s+INSTANCE:SEQ/);
    expect(table.text).toMatch(/\d+ records\n$/);
  });
});

describe('audit export', () => {
  it('writes the period\'s segments, checkpoints, a verification report, a README and SHA256SUMS', async () => {
    const dir = await cleanLog();
    const out = join(mkdtempSync(join(tmpdir(), 'rg-audit-x-')), 'evidence');
    const result = await exportEvidence({ dir, since: Date.parse('2024-05-02T00:00:00Z'), until: Date.parse('2024-05-02T23:00:00Z'), out, signingKeyPem, now: Date.parse('2024-05-04T00:00:00Z') });
    expect(result.files.sort()).toEqual([
      'README.txt', 'export.json', 'gw-a/2024-05-02.jsonl', 'gw-a/checkpoints.jsonl', 'gw-b/2024-05-02.jsonl', 'gw-b/checkpoints.jsonl',
      'public-key.pem', 'verification-report.json',
    ]);
    expect(readFileSync(join(out, 'gw-a', '2024-05-02.jsonl'))).toEqual(readFileSync(join(dir, 'gw-a', '2024-05-02.jsonl')));
    const sums = readFileSync(join(out, 'SHA256SUMS'), 'utf8').trim().split('\n');
    expect(sums).toHaveLength(8);
    for (const line of sums) {
      const [hash, file] = line.split('  ') as [string, string];
      expect(createHash('sha256').update(readFileSync(join(out, file))).digest('hex')).toBe(hash);
    }
    const check = spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: out, encoding: 'utf8' });
    if (!check.error) expect(check.status).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'verification-report.json'), 'utf8')) as { source: { ok: boolean }; package: { ok: boolean; partial: boolean; records: number } };
    expect(report.source.ok).toBe(true);
    expect(report.package).toMatchObject({ ok: true, partial: true });
    expect(readFileSync(join(out, 'README.txt'), 'utf8')).toContain('sha256sum -c SHA256SUMS');
    // The package verifies on its own with the public key, and tampering inside it is found.
    const pub = readFileSync(join(out, 'public-key.pem'), 'utf8');
    expect((await verifyAuditDir(out, { publicKeyPem: pub, evidencePackage: true })).problems).toEqual([]);
    const file = join(out, 'gw-b', '2024-05-02.jsonl');
    const lines = segmentLines(file);
    lines.splice(1, 1);
    writeLines(file, lines);
    const problems = (await verifyAuditDir(out, { publicKeyPem: pub, evidencePackage: true })).problems;
    expect(problems).toContainEqual(expect.objectContaining({ file, line: 1, kind: 'tampered', message: 'the file differs from the one the signed export manifest names' }));
    expect(problems).toContainEqual(expect.objectContaining({ file, line: 2, kind: 'missing' }));
  });
});

describe('audit export of a segment being written', () => {
  it('copies only its whole lines, so the package holds exactly what its manifest names and verifies', async () => {
    const dir = await cleanLog();
    // A write in progress at the end of the newest segment: part of a line, not yet a record.
    const newest = join(dir, 'gw-a', '2024-05-03.jsonl');
    const whole = readFileSync(newest);
    appendFileSync(newest, '{"v":1,"id":"in-progr');
    const out = join(mkdtempSync(join(tmpdir(), 'rg-audit-x-')), 'evidence');
    const result = await exportEvidence({ dir, since: Date.parse('2024-05-03T00:00:00Z'), out, signingKeyPem, now: Date.parse('2024-05-03T23:00:00Z') });
    expect(readFileSync(join(out, 'gw-a', '2024-05-03.jsonl'))).toEqual(whole);
    expect(result.package.problems).toEqual([]);
  });
});

describe('roomguard audit commands', () => {
  it('exit 0 with a summary on a clean log, 1 with file:line problems, 2 on wrong usage', async () => {
    const dir = await cleanLog();
    const ok = capture();
    expect(await runAuditCommand(['verify'], { auditDir: dir, signingKeyPem, stdout: ok })).toBe(0);
    expect(ok.text).toMatch(/^ok: 76 records in 6 segments, 2 instances \(gw-a, gw-b\)/);
    expect(ok.text).toMatch(/last checkpoint: gw-b seq 37 hash [0-9a-f]{64}/);
    const json = capture();
    expect(await runAuditCommand(['verify', '--json'], { auditDir: dir, signingKeyPem, stdout: json })).toBe(0);
    expect(JSON.parse(json.text)).toMatchObject({ ok: true, records: 76 });

    const file = join(dir, 'gw-a', '2024-05-01.jsonl');
    const lines = segmentLines(file);
    lines[1] = lines[1]!.replace('"outcome":"allow"', '"outcome":"deny"');
    writeLines(file, lines);
    const bad = capture();
    expect(await runAuditCommand(['verify', dir], { auditDir: '/nonexistent', signingKeyPem, stdout: bad })).toBe(1);
    expect(bad.text).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2: tampered: expected [0-9a-f]{64} found [0-9a-f]{64}`, 'm'));

    const usage = capture();
    expect(await runAuditCommand(['verify', '--bogus'], { auditDir: dir, stderr: usage })).toBe(2);
    expect(usage.text).toContain('usage:');
    expect(await runAuditCommand(['query', '--type', 'nope'], { auditDir: dir, stderr: capture() })).toBe(2);
    expect(await runAuditCommand(['query', '--since', 'yesterday'], { auditDir: dir, stderr: capture() })).toBe(2);
    expect(await runAuditCommand(['export', '--since', '7d'], { auditDir: dir, stderr: capture() })).toBe(2);
    expect(await runAuditCommand(['frobnicate'], { auditDir: dir, stderr: capture() })).toBe(2);
    expect(await runAuditCommand([], { auditDir: dir, stderr: capture() })).toBe(2);
    expect(await runAuditCommand(['purge', '--days', '0'], { auditDir: dir, signingKeyPem, stderr: capture() })).toBe(2);
  });

  it('purges and exports through the command line', async () => {
    const dir = await cleanLog();
    const out = capture();
    expect(await runAuditCommand(['purge', '--days', '1'], { auditDir: dir, signingKeyPem, stdout: out, now: () => Date.parse('2024-05-03T12:00:00Z') })).toBe(0);
    expect(out.text).toContain('purged gw-a/2024-05-01.jsonl');
    expect(out.text).toContain('2 segments older than 1 day purged');
    expect(await runAuditCommand(['verify'], { auditDir: dir, signingKeyPem, stdout: capture() })).toBe(0);
    expect(await runAuditCommand(['purge'], { auditDir: dir, stdout: capture(), stderr: capture() })).toBe(1);
    const target = join(mkdtempSync(join(tmpdir(), 'rg-audit-x-')), 'pkg');
    const exp = capture();
    expect(await runAuditCommand(['export', '--since', '2024-05-03', '--out', target], { auditDir: dir, signingKeyPem, stdout: exp, now: () => Date.parse('2024-05-04T00:00:00Z') })).toBe(0);
    expect(exp.text).toContain('sha256sum -c SHA256SUMS');
    expect(existsSync(join(target, 'gw-a', '2024-05-03.jsonl'))).toBe(true);
    const key = capture();
    expect(await runAuditCommand(['public-key'], { auditDir: dir, signingKeyPem, stdout: key })).toBe(0);
    expect(key.text).toMatch(/^# audit checkpoint key [0-9a-f]{16}\n-----BEGIN PUBLIC KEY-----/);
  });
});

describe('roomguard audit verify of an evidence package', () => {
  it('honours its export.json only with --export, names the stretch it verified, and never takes the live directory for a package', async () => {
    const dir = await cleanLog();
    const pkg = join(mkdtempSync(join(tmpdir(), 'rg-audit-x-')), 'pkg');
    expect(await runAuditCommand(['export', '--since', '2024-05-02', '--until', '2024-05-02T23:59:59Z', '--out', pkg], { auditDir: dir, signingKeyPem, stdout: capture(), now: () => Date.parse('2024-05-04T00:00:00Z') })).toBe(0);
    const keyFile = join(pkg, '..', 'off-host.pem');
    writeFileSync(keyFile, readFileSync(join(pkg, 'public-key.pem')));

    const asPackage = capture();
    expect(await runAuditCommand(['verify', pkg, '--export', '--public-key', keyFile], { auditDir: dir, stdout: asPackage })).toBe(0);
    expect(asPackage.text).toContain('ok: 26 records in 2 segments, 2 instances (gw-a, gw-b)\nevidence package for 2024-05-02 to 2024-05-02 (a stretch of each chain, as its signed export.json states: gw-a seq 13–25, gw-b seq 13–25)\n');

    // Without --export the same folder is an audit log whose chains start in the middle: not ok.
    const asLog = capture();
    expect(await runAuditCommand(['verify', pkg, '--public-key', keyFile], { auditDir: dir, stdout: asLog })).toBe(1);
    expect(asLog.text).toContain(`${join(pkg, 'export.json')}:1: inserted:`);
    expect(asLog.text).toContain(`${join(pkg, 'gw-a', '2024-05-02.jsonl')}:1: missing:`);

    // The live directory is never a package: --export on it (named or not) is wrong usage, as is --repair-tail on a package.
    for (const args of [['verify', '--export'], ['verify', dir, '--export'], ['verify', pkg, '--export', '--repair-tail']]) {
      const usage = capture();
      expect(await runAuditCommand(args, { auditDir: dir, signingKeyPem, stderr: usage })).toBe(2);
      expect(usage.text).toContain('usage:');
    }
  });
});

describe('reviewer page', () => {
  it('renders escaped records, reasons in words, a chart and a CSV link, in German and English', async () => {
    const dir = await cleanLog();
    const records = await queryAudit(dir, {});
    const evil = { ...records[1]!, room: '<script>alert(1)</script>', client: { userAgent: '"><img src=x onerror=alert(1)>' } };
    const status = chainStatusOf(await verifyAuditDir(dir, { signingKeyPem }), Date.parse('2024-05-04T00:00:00Z'), true);
    const en = renderAuditPage({ lang: 'en', records: [...records, evil], filters: { room: 'board"><x', outcome: 'deny' }, chainStatus: status, total: 500, csrfToken: 'tok"en' });
    expect(en).not.toContain('<script>alert');
    expect(en).not.toContain('<img src=x');
    expect(en).toContain('&lt;script&gt;');
    expect(en).not.toMatch(/<script/i);
    expect(en).not.toMatch(/<img/i);
    expect(en).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(en).not.toMatch(/style=/);
    expect(en).toContain('Chain intact');
    expect(en).toContain('RG_POLICY_NOT_ALLOWED</code> no allow rule of the room policy matches this person');
    expect(en).toContain('href="/_roomguard/audit?room=board%22%3E%3Cx&amp;outcome=deny&amp;format=csv"');
    expect(en).toContain('<svg class="chart"');
    expect(en).toContain('value="tok&quot;en"');
    expect(en).toContain(`of 500`);
    const de = renderAuditPage({ lang: 'de', records, filters: {}, chainStatus: { ...status, ok: false, problems: 2, firstProblem: 'gw-a/2024-05-01.jsonl:2: tampered' } });
    expect(de).toContain('<html lang="de">');
    expect(de).toContain('Kette beschädigt');
    expect(de).toContain('keine Erlaubnisregel der Raumrichtlinie trifft auf diese Person zu');
    expect(de).toContain('gw-a/2024-05-01.jsonl:2: tampered');
  });

  it('counts room entries in buckets of minutes, hours or days that fit the range, allowed vs denied', async () => {
    const records = await queryAudit(await cleanLog(), {});
    const chart = joinsOverTime(records);
    expect(chart.buckets.length).toBeLessThanOrEqual(48);
    expect(chart.buckets.length).toBeGreaterThan(3);
    const times = records.filter((r) => r.type === 'room.decision').map((r) => Date.parse(r.ts));
    const spanHours = (Math.max(...times) - Math.min(...times)) / 3_600_000;
    expect(chart.unit).toBe(spanHours > 47 * 12 ? 'day' : spanHours > 47 / 2 ? 'hour' : 'minute');
    const decisions = records.filter((r) => r.type === 'room.decision');
    expect(chart.buckets.reduce((n, b) => n + b.allowed, 0)).toBe(decisions.filter((r) => r.outcome === 'allow').length);
    expect(chart.buckets.reduce((n, b) => n + b.denied, 0)).toBe(decisions.filter((r) => r.outcome === 'deny').length);
    const decisionsOfADay = records.filter((r) => r.ts.startsWith('2024-05-02'));
    const oneDay = joinsOverTime(decisionsOfADay, { since: Date.parse('2024-05-02T00:00:00Z'), until: Date.parse('2024-05-03T00:00:00Z') });
    expect([oneDay.unit, oneDay.count, oneDay.buckets.length]).toEqual(['hour', 1, 24]);
    expect(joinsOverTime([]).buckets).toEqual([]);
  });
});


describe('audit verify of the live directory', () => {
  it('does not let an export manifest excuse records deleted from the start of a chain', async () => {
    const dir = await cleanLog();
    const out = join(mkdtempSync(join(tmpdir(), 'rg-audit-x-')), 'pkg');
    await exportEvidence({ dir, since: Date.parse('2024-05-02T00:00:00Z'), until: Date.parse('2024-05-03T00:00:00Z'), out, signingKeyPem });
    for (const instance of ['gw-a', 'gw-b']) writeFileSync(join(dir, instance, '2024-05-01.jsonl'), '');
    cpSync(join(out, 'export.json'), join(dir, 'export.json'));
    const text = capture();
    expect(await runAuditCommand(['verify'], { auditDir: dir, signingKeyPem, stdout: text })).toBe(1);
    expect(text.text).toContain('export.json:1: inserted:');
    expect(text.text).toMatch(/2024-05-02\.jsonl:1: missing:/);
  });
});
