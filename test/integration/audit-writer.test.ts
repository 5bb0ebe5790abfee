// The audit writer on a real file system: durability (a record is in the file when append resolves),
// group commit, failure and recovery, day rollover, checkpoints, crash recovery of a killed process,
// one writer per chain, and the syslog sinks.
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditWriter, type AuditWriterOptions } from '../../src/audit/writer.js';
import { verifyAuditDir } from '../../src/audit/verify.js';
import { canonicalJson, sealRecord } from '../../src/audit/chain.js';
import { checkpointKeys, verifyCheckpointSignature } from '../../src/audit/checkpoint.js';
import type { AuditEvent, AuditRecord } from '../../src/audit/record.js';
import type { AuditSink } from '../../src/audit/sink.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const signingKeyPem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const open: AuditWriter[] = [];

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'rg-audit-'));
}

async function openWriter(dir: string, over: Partial<AuditWriterOptions> = {}): Promise<AuditWriter> {
  const writer = await AuditWriter.open({
    dir, instance: 'gw-1', signingKeyPem, ip: 'truncate', identity: 'clear', names: false,
    checkpointEvery: 1000, checkpointInterval: 300_000, ...over,
  });
  open.push(writer);
  return writer;
}

function join_(n: number): AuditEvent {
  return {
    type: 'room.decision', outcome: n % 5 === 0 ? 'deny' : 'allow', room: 'board',
    actor: { sub: `user-${n % 7}`, iss: 'https://id.example.org', email: `user${n % 7}@example.org` },
    client: { ip: `203.0.113.${n % 250}`, userAgent: 'test' }, requestId: `req-${n}`,
  };
}

function lines(file: string): AuditRecord[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditRecord);
}

afterEach(async () => {
  for (const writer of open.splice(0)) await writer.close().catch(() => undefined);
});

describe('AuditWriter durability and group commit', () => {
  it('resolves each append only when its line is in the file, batching 200 concurrent appends into few fsyncs', async () => {
    const dir = tempDir();
    const writer = await openWriter(dir);
    // The gateway's contract: the writer is its AuditSink, taking the one AuditEvent type.
    const sink: AuditSink = writer;
    expect(sink.healthy).toBe(true);
    const segment = join(writer.instanceDir, `${new Date().toISOString().slice(0, 10)}.jsonl`);
    const seenAtResolve: boolean[] = [];
    const records = await Promise.all(Array.from({ length: 200 }, (_, i) => writer.append(join_(i)).then((record) => {
      seenAtResolve.push(readFileSync(segment, 'utf8').includes(`"hash":"${record.hash}"`));
      return record;
    })));
    expect(seenAtResolve).toHaveLength(200);
    expect(seenAtResolve.every(Boolean)).toBe(true);
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    const stats = writer.stats();
    expect(stats.records).toBe(200);
    expect(stats.flushes).toBeGreaterThan(0);
    expect(stats.flushes).toBeLessThan(20);
    expect(lines(segment)).toHaveLength(200);
    expect((await verifyAuditDir(dir, { signingKeyPem })).ok).toBe(true);
  });

  it('keeps appending in order when appends arrive while a flush is running', async () => {
    const dir = tempDir();
    const writer = await openWriter(dir);
    const first = writer.append(join_(1));
    await new Promise((r) => setImmediate(r));
    const rest = Array.from({ length: 50 }, (_, i) => writer.append(join_(i + 2)));
    const all = await Promise.all([first, ...rest]);
    expect(all.map((r) => r.seq)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
    expect(writer.stats().flushes).toBeLessThan(51);
  });

  it('rejects with RG_AUDIT_UNAVAILABLE and reports unhealthy when the segment cannot be written, then recovers', async () => {
    const dir = tempDir();
    const writer = await openWriter(dir);
    await writer.append(join_(1));
    expect(writer.healthy).toBe(true);
    // The instance folder disappears (unmounted volume, admin mistake): writing to the open but
    // unlinked file would lose the record, so the writer must refuse.
    renameSync(writer.instanceDir, `${writer.instanceDir}.away`);
    writeFileSync(writer.instanceDir, 'not a directory');
    const failed = await writer.append(join_(2)).then(() => undefined, (err: unknown) => err as Error & { code?: string; status?: number });
    expect(failed?.code).toBe('RG_AUDIT_UNAVAILABLE');
    expect(failed?.status).toBe(503);
    expect(writer.healthy).toBe(false);
    const again = await writer.append(join_(3)).then(() => undefined, (err: unknown) => err as Error & { code?: string });
    expect(again?.code).toBe('RG_AUDIT_UNAVAILABLE');
    expect(writer.healthy).toBe(false);
    rmSync(writer.instanceDir);
    renameSync(`${writer.instanceDir}.away`, writer.instanceDir);
    const ok = await writer.append(join_(4));
    expect(ok.seq).toBe(2);
    expect(writer.healthy).toBe(true);
    const report = await verifyAuditDir(dir, { signingKeyPem });
    expect(report.problems).toEqual([]);
    expect(report.records).toBe(2);
  });

  it('turns healthy again without traffic once the directory is back, noting the outage in a checkpoint', async () => {
    const dir = tempDir();
    const writer = await openWriter(dir, { retryInterval: 50 });
    await writer.append(join_(1));
    renameSync(writer.instanceDir, `${writer.instanceDir}.away`);
    writeFileSync(writer.instanceDir, 'not a directory');
    await expect(writer.append(join_(2))).rejects.toMatchObject({ code: 'RG_AUDIT_UNAVAILABLE' });
    expect(writer.healthy).toBe(false);
    await new Promise((r) => setTimeout(r, 200));
    expect(writer.healthy).toBe(false);
    rmSync(writer.instanceDir);
    renameSync(`${writer.instanceDir}.away`, writer.instanceDir);
    // The retry probe (every 50 ms) turns it healthy: poll for it, with room for a busy machine.
    await expect.poll(() => writer.healthy, { timeout: 10_000, interval: 25 }).toBe(true);
    const segment = readdirSync(writer.instanceDir).find((f) => /^\d{4}-\d{2}-\d{2}\.jsonl$/.test(f))!;
    const chain = lines(join(writer.instanceDir, segment));
    expect(chain.map((r) => r.type)).toEqual(['room.decision', 'audit.checkpoint']);
    expect(chain[1]!.details).toMatchObject({ afterWriteFailure: true, seq: 1 });
    expect((await verifyAuditDir(dir, { signingKeyPem })).problems).toEqual([]);
  });

  it('refuses to open when the audit directory is a file', async () => {
    const dir = tempDir();
    const file = join(dir, 'audit');
    writeFileSync(file, 'x');
    const err = await openWriter(file).then(() => undefined, (e: unknown) => e as Error & { code?: string });
    expect(err?.code).toBe('RG_AUDIT_UNAVAILABLE');
  });

  it('rejects malformed events with a TypeError without touching the chain', async () => {
    const dir = tempDir();
    const writer = await openWriter(dir);
    await expect(writer.append({ type: 'logout', outcome: 'success', details: { big: 'x'.repeat(10_000) } })).rejects.toThrow(TypeError);
    expect((await writer.append(join_(1))).seq).toBe(1);
  });

  it('lets only one writer hold an instance chain', async () => {
    const dir = tempDir();
    const writer = await openWriter(dir);
    const err = await openWriter(dir).then(() => undefined, (e: unknown) => e as Error & { code?: string });
    expect(err?.code).toBe('RG_AUDIT_UNAVAILABLE');
    expect(err?.message).toMatch(/being written by pid/);
    await writer.close();
    const next = await openWriter(dir);
    expect((await next.append(join_(1))).seq).toBe(1);
  });
});

/** A record chained after the chain's last line, as anyone who can write the directory appends one. */
function appendForged(file: string, ts: string): number {
  const chain = lines(file);
  const last = chain.at(-1)!;
  appendFileSync(file, `${canonicalJson(sealRecord({ v: 1, id: 'forged', ts, seq: last.seq + 1, instance: last.instance, type: 'logout', outcome: 'success', prev: last.hash }))}\n`);
  return chain.length + 1;
}

describe('AuditWriter on a chain whose unsigned tail names another time', () => {
  it('refuses to continue from a record dated beyond its clock, naming file and line, and writes nothing', async () => {
    const dir = tempDir();
    const now = () => Date.parse('2024-05-01T10:00:00.000Z');
    const writer = await openWriter(dir, { now });
    await writer.append(join_(1));
    await writer.close();
    const segment = join(writer.instanceDir, '2024-05-01.jsonl');
    const line = appendForged(segment, '2099-12-31T23:59:59.000Z');
    const before = readFileSync(segment, 'utf8');

    const err = await openWriter(dir, { now }).then(() => undefined, (e: unknown) => e as Error & { code?: string });
    expect(err?.code).toBe('RG_AUDIT_UNAVAILABLE');
    expect(err?.message).toContain(`${segment}:${line}: the head of the audit chain is dated 2099-12-31T23:59:59.000Z`);
    expect(err?.message).toContain('roomguard audit verify');
    expect(readFileSync(segment, 'utf8')).toBe(before);
    expect(readdirSync(writer.instanceDir).filter((f) => f.endsWith('.jsonl')).sort()).toEqual(['2024-05-01.jsonl', 'checkpoints.jsonl']);
  });

  it('continues from a record a little ahead of its clock (the clock stepped back), keeping times monotonic', async () => {
    const dir = tempDir();
    let now = Date.parse('2024-05-01T23:58:00.000Z');
    const writer = await openWriter(dir, { now: () => now });
    await writer.append(join_(1));
    now = Date.parse('2024-05-02T00:01:00.000Z');
    const ahead = await writer.append(join_(2));
    await writer.close();
    // The clock goes back four minutes, across midnight, before the next start.
    now = Date.parse('2024-05-01T23:59:00.000Z');
    const reopened = await openWriter(dir, { now: () => now });
    const next = await reopened.append(join_(3));
    expect(next.ts >= ahead.ts).toBe(true);
    expect(lines(join(reopened.instanceDir, '2024-05-02.jsonl')).at(-1)).toMatchObject({ seq: next.seq });
    await reopened.close();
    expect((await verifyAuditDir(dir, { signingKeyPem, now: now + 60_000 })).problems).toEqual([]);
  });

  it('refuses to continue into a segment named for a day that has not come, and writes nothing there', async () => {
    const dir = tempDir();
    const now = () => Date.parse('2024-05-01T10:00:00.000Z');
    const writer = await openWriter(dir, { now });
    await writer.append(join_(1));
    await writer.close();
    // An empty segment of a later day: the writer would put every new record there, beyond retention.
    const later = join(writer.instanceDir, '2099-12-31.jsonl');
    writeFileSync(later, '');
    const err = await openWriter(dir, { now }).then(() => undefined, (e: unknown) => e as Error & { code?: string });
    expect(err?.code).toBe('RG_AUDIT_UNAVAILABLE');
    expect(err?.message).toContain(`${later}:1: the head of the audit chain is the segment of 2099-12-31`);
    expect(readFileSync(later, 'utf8')).toBe('');
  });
});

describe('AuditWriter segments and checkpoints', () => {
  it('starts a new segment at UTC midnight that continues the previous one', async () => {
    const dir = tempDir();
    let now = Date.parse('2024-05-01T23:59:58.000Z');
    const writer = await openWriter(dir, { now: () => now });
    const a = await writer.append(join_(1));
    const b = await writer.append(join_(2));
    now = Date.parse('2024-05-02T00:00:01.000Z');
    const c = await writer.append(join_(3));
    expect(readdirSync(writer.instanceDir).filter((f) => f.endsWith('.jsonl')).sort()).toEqual(['2024-05-01.jsonl', '2024-05-02.jsonl']);
    expect(lines(join(writer.instanceDir, '2024-05-01.jsonl')).map((r) => r.seq)).toEqual([a.seq, b.seq]);
    const day2 = lines(join(writer.instanceDir, '2024-05-02.jsonl'));
    expect(day2[0]).toMatchObject({ seq: 3, prev: b.hash, hash: c.hash, ts: '2024-05-02T00:00:01.000Z' });
    await writer.close();
    // Reopening on the next day continues seq and hash from the last segment.
    now = Date.parse('2024-05-03T08:00:00.000Z');
    const reopened = await openWriter(dir, { now: () => now });
    const d = await reopened.append(join_(4));
    expect(d.seq).toBe(c.seq + 2); // after the final checkpoint written by close()
    expect((await verifyAuditDir(dir, { signingKeyPem })).problems).toEqual([]);
  });

  it('appends a signed checkpoint every N records, to the chain and to checkpoints.jsonl, and a final one on close', async () => {
    const dir = tempDir();
    const writer = await openWriter(dir, { checkpointEvery: 5 });
    for (let i = 0; i < 12; i++) await writer.append(join_(i));
    const segment = readdirSync(writer.instanceDir).find((f) => f.endsWith('.jsonl') && f !== 'checkpoints.jsonl')!;
    const chain = lines(join(writer.instanceDir, segment));
    const cps = chain.filter((r) => r.type === 'audit.checkpoint');
    expect(cps.map((r) => r.seq)).toEqual([6, 12]);
    expect(cps[0]!.details).toMatchObject({ seq: 5, hash: chain[4]!.hash });
    const file = lines(join(writer.instanceDir, 'checkpoints.jsonl')) as unknown as Array<{ instance: string; seq: number; hash: string; keyId: string; signature: string }>;
    expect(file.map((c) => c.seq)).toEqual([5, 11]);
    const [keyId, key] = [...checkpointKeys(signingKeyPem)][0]!;
    for (const c of file) {
      expect(c.keyId).toBe(keyId);
      expect(verifyCheckpointSignature(c, c.signature, key)).toBe(true);
    }
    await writer.close();
    const after = lines(join(writer.instanceDir, 'checkpoints.jsonl')) as unknown as Array<{ seq: number }>;
    expect(after.map((c) => c.seq)).toEqual([5, 11, 14]);
    expect(writer.healthy).toBe(false);
    await expect(writer.append(join_(99))).rejects.toMatchObject({ code: 'RG_AUDIT_UNAVAILABLE' });
  });

  it('appends a checkpoint once the interval has passed with new records', async () => {
    const dir = tempDir();
    let now = Date.parse('2024-05-01T10:00:00.000Z');
    const writer = await openWriter(dir, { now: () => now, checkpointInterval: 60_000 });
    await writer.append(join_(1));
    expect(writer.stats().checkpoints).toBe(0);
    now += 61_000;
    await writer.append(join_(2));
    expect(writer.stats().checkpoints).toBe(1);
    expect(writer.stats().lastCheckpoint).toMatchObject({ seq: 2 });
    expect(await writer.checkpoint()).toBeUndefined(); // nothing new since
  });

  it('moves a torn final line aside on open and notes the repair in a signed checkpoint', async () => {
    const dir = tempDir();
    const now = () => Date.parse('2024-05-01T10:00:00.000Z');
    const writer = await openWriter(dir, { now });
    for (let i = 0; i < 3; i++) await writer.append(join_(i));
    await writer.close();
    const segment = join(dir, 'gw-1', '2024-05-01.jsonl');
    appendFileSync(segment, '{"v":1,"id":"half-writ');
    expect((await verifyAuditDir(dir)).problems.map((p) => p.kind)).toEqual(['torn-tail']);
    const reopened = await openWriter(dir, { now });
    expect(readFileSync(`${segment}.torn`, 'utf8')).toBe('{"v":1,"id":"half-writ');
    const next = await reopened.append(join_(9));
    const chain = lines(segment);
    const repair = chain.find((r) => r.details?.repairedTornTail === true);
    expect(repair).toMatchObject({ type: 'audit.checkpoint', seq: 5, details: { tornLine: 5, tornFile: '2024-05-01.jsonl' } });
    expect(next.seq).toBe(6);
    expect((await verifyAuditDir(dir, { signingKeyPem })).problems).toEqual([]);
  });

  it('keeps every confirmed record when the writing process is killed (SIGKILL)', async () => {
    const dir = tempDir();
    const keyFile = join(dir, 'key.pem');
    writeFileSync(keyFile, signingKeyPem);
    const child = join(dir, 'child.mjs');
    writeFileSync(child, `
import { readFileSync } from 'node:fs';
import { AuditWriter } from ${JSON.stringify(join(ROOT, 'src/audit/writer.ts'))};
const [dir, keyFile] = process.argv.slice(2);
const writer = await AuditWriter.open({ dir, instance: 'crash', signingKeyPem: readFileSync(keyFile, 'utf8'), ip: 'truncate', identity: 'clear', names: false, checkpointEvery: 25, checkpointInterval: 60000 });
let n = 0;
async function worker(id) {
  for (;;) {
    const record = await writer.append({ type: 'room.decision', outcome: 'allow', room: 'board', actor: { sub: 'u' + id, iss: 'https://id.example.org' }, client: { ip: '203.0.113.9' }, details: { worker: id, n: n++ } });
    process.stdout.write(record.seq + '\\n');
  }
}
for (let i = 0; i < 16; i++) void worker(i);
`);
    const proc = spawn(process.execPath, ['--import', 'tsx', child, dir, keyFile], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const printed: number[] = [];
    let stderr = '';
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    let buffer = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child printed only ${printed.length} seqs: ${stderr}`)), 20_000);
      proc.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const parts = buffer.split('\n');
        buffer = parts.pop()!;
        for (const p of parts) printed.push(Number(p));
        if (printed.length >= 600 && proc.exitCode === null && !proc.killed) {
          proc.kill('SIGKILL');
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    await new Promise((r) => (proc.exitCode !== null || proc.signalCode !== null ? r(undefined) : proc.once('exit', r)));
    expect(proc.signalCode).toBe('SIGKILL');
    const instanceDir = join(dir, 'crash');
    const written = new Set<number>();
    for (const file of readdirSync(instanceDir).filter((f) => /^\d{4}-\d{2}-\d{2}\.jsonl$/.test(f))) {
      for (const line of readFileSync(join(instanceDir, file), 'utf8').split('\n')) {
        try {
          written.add((JSON.parse(line) as AuditRecord).seq);
        } catch {
          // a torn last line is allowed
        }
      }
    }
    const missing = printed.filter((seq) => !written.has(seq));
    expect(missing).toEqual([]);
    const report = await verifyAuditDir(dir, { signingKeyPem });
    expect(report.problems.filter((p) => p.kind !== 'torn-tail')).toEqual([]);
    // The next start repairs whatever the crash left and continues the chain.
    const writer = await openWriter(dir, { instance: 'crash' });
    await writer.append(join_(1));
    await writer.close();
    expect((await verifyAuditDir(dir, { signingKeyPem })).problems).toEqual([]);
  }, 40_000);
});

describe('AuditWriter sinks', () => {
  it('sends each record as RFC 5424 syslog over UDP', async () => {
    const server = createSocket('udp4');
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    const port = server.address().port;
    const received = new Promise<string>((resolve) => server.once('message', (msg) => resolve(msg.toString('utf8'))));
    const dir = tempDir();
    const writer = await openWriter(dir, { syslog: `udp://127.0.0.1:${port}` });
    const record = await writer.append(join_(5));
    const message = await received;
    server.close();
    expect(message).toMatch(new RegExp(`^<85>1 ${record.ts.replace(/\./g, '\\.')} \\S+ roomguard ${process.pid} room\\.decision - \ufeff\\{`));
    expect(JSON.parse(message.slice(message.indexOf('\ufeff') + 1))).toEqual(record);
  });

  it('sends octet-counted syslog over TCP, and an unreachable collector never fails an append', async () => {
    let data = '';
    const got = new Promise<void>((resolve) => {
      const server = createServer((socket) => socket.on('data', (c: Buffer) => {
        data += c.toString('utf8');
        if (data.includes('"seq":2')) {
          server.close();
          socket.destroy();
          resolve();
        }
      }));
      server.listen(0, '127.0.0.1', async () => {
        const port = (server.address() as { port: number }).port;
        const writer = await openWriter(tempDir(), { syslog: `tcp://127.0.0.1:${port}` });
        await writer.append(join_(1));
        await writer.append(join_(2));
      });
    });
    await got;
    const frame = /^(\d+) (<86>1 [^\n]*?)(?=\d+ <|$)/.exec(data)!;
    expect(Buffer.byteLength(frame[2]!)).toBe(Number(frame[1]));
    const dead = await openWriter(tempDir(), { syslog: 'tcp://127.0.0.1:1' });
    await expect(dead.append(join_(3))).resolves.toMatchObject({ seq: 1 });
    expect(existsSync(dead.instanceDir)).toBe(true);
  });
});
