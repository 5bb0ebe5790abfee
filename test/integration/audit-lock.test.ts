// One writer per chain, with real processes: a writer paused (SIGSTOP, as a VM pause or a blocked event
// loop looks from outside) for longer than the lock's stale age keeps its chain against a second process
// on the same machine; a writer whose lock was taken over all the same (by an instance on another
// machine sharing the directory) stops writing instead of forking the chain, and the gateway then
// refuses joins with RG_AUDIT_UNAVAILABLE and reports not ready.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { acquireInstanceLock } from '../../src/audit/lock.js';
import { verifyAuditDir } from '../../src/audit/verify.js';
import { AuditWriter } from '../../src/audit/writer.js';
import type { AuditRecord } from '../../src/audit/record.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import type { ServeProcess } from '../helpers/serve-process.js';
import { startServeRig, type Rig } from '../helpers/rig.js';
import type { EchoUpstream } from '../helpers/upstream.js';

// Child processes compile TypeScript on start (seconds on a loaded machine).
vi.setConfig({ testTimeout: 90_000 });

const ROOT = new URL('../..', import.meta.url).pathname;
const signingKeyPem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
/** Far beyond the 30 s after which a lock of another machine counts as abandoned. */
const LONG_AGO = new Date(Date.now() - 10 * 60_000);

/** A writer in its own process: answers `append` and `healthy` on stdin with one JSON line each. */
const WRITER_CHILD = `
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { AuditWriter } from ${JSON.stringify(join(ROOT, 'src/audit/writer.ts'))};
const [dir, keyFile] = process.argv.slice(2);
const say = (value) => process.stdout.write(JSON.stringify(value) + '\\n');
let writer;
try {
  writer = await AuditWriter.open({ dir, instance: 'gw', signingKeyPem: readFileSync(keyFile, 'utf8'), ip: 'none', identity: 'clear', names: false, checkpointEvery: 1000, checkpointInterval: 600000 });
} catch (err) {
  say({ ready: false, code: err.code, message: err.message });
  process.exit(3);
}
say({ ready: true, pid: process.pid });
createInterface({ input: process.stdin }).on('line', async (command) => {
  if (command === 'healthy') return say({ healthy: writer.healthy });
  try {
    const record = await writer.append({ type: 'room.decision', outcome: 'allow', room: 'board', requestId: 'child-' + process.pid });
    say({ ok: true, seq: record.seq });
  } catch (err) {
    say({ ok: false, code: err.code, message: err.message });
  }
});
`;

/**
 * A process that takes the lock of an instance folder when told `go`, says whether it got it, and answers
 * `check` with whether it still holds it. With `pause`, it stops at the first file-system step by which it
 * acts on what it found (removing, renaming or linking a file, or creating one exclusively other than the
 * lock itself) and goes on only when told `go` again: it has judged the lock and not yet acted on that.
 */
const LOCK_CHILD = `
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { createInterface } from 'node:readline';
const [instanceDir, mode] = process.argv.slice(2);
const say = (value) => process.stdout.write(JSON.stringify(value) + '\\n');
const queue = [];
const waiting = [];
createInterface({ input: process.stdin }).on('line', (line) => (waiting.length > 0 ? waiting.shift()(line) : queue.push(line)));
const nextLine = () => (queue.length > 0 ? Promise.resolve(queue.shift()) : new Promise((resolve) => waiting.push(resolve)));
let armed = false;
if (mode === 'pause') {
  const fsp = createRequire(import.meta.url)('node:fs/promises');
  let paused = false;
  for (const name of ['unlink', 'rename', 'link', 'open']) {
    const real = fsp[name].bind(fsp);
    fsp[name] = async (...args) => {
      const acts = name !== 'open' || (args[1] === 'wx' && !String(args[0]).endsWith('/.lock'));
      if (armed && acts && !paused) {
        paused = true;
        say({ paused: name, path: String(args[0]) });
        await nextLine();
      }
      return real(...args);
    };
  }
  syncBuiltinESMExports();
}
const { acquireInstanceLock } = await import(${JSON.stringify(join(ROOT, 'src/audit/lock.ts'))});
say({ started: true, pid: process.pid });
await nextLine();
armed = true;
let lock;
try {
  lock = await acquireInstanceLock(instanceDir);
  say({ acquired: true });
} catch (err) {
  say({ acquired: false, message: err.message });
  process.exit(0);
}
for (;;) {
  await nextLine();
  say({ holds: await lock.check().then(() => true, () => false) });
}
`;

interface WriterChild {
  proc: ChildProcess;
  next(): Promise<Record<string, unknown>>;
  send(line: string): void;
  ask(command: string): Promise<Record<string, unknown>>;
}

const children: ChildProcess[] = [];

function startWriter(dir: string, script: string, keyFile: string): WriterChild {
  return startChild(script, [dir, keyFile]);
}

function startChild(script: string, args: string[]): WriterChild {
  const proc = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(proc);
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const lines: Interface = createInterface({ input: proc.stdout! });
  const queue: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  lines.on('line', (line) => (waiting.length > 0 ? waiting.shift()!(line) : queue.push(line)));
  const next = () => new Promise<Record<string, unknown>>((resolve, reject) => {
    if (queue.length > 0) return resolve(JSON.parse(queue.shift()!) as Record<string, unknown>);
    const onExit = () => reject(new Error(`writer process ended: ${stderr}`));
    proc.once('exit', onExit);
    waiting.push((line) => {
      proc.off('exit', onExit);
      resolve(JSON.parse(line) as Record<string, unknown>);
    });
  });
  return {
    proc,
    next,
    send: (line) => proc.stdin!.write(`${line}\n`),
    ask: (command) => {
      proc.stdin!.write(`${command}\n`);
      return next();
    },
  };
}

function exited(proc: ChildProcess): Promise<void> {
  return proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise((resolve) => proc.once('exit', () => resolve()));
}

function chainOf(instanceDir: string): AuditRecord[] {
  return readdirSync(instanceDir).filter((f) => /^\d{4}-\d{2}-\d{2}\.jsonl$/.test(f)).sort()
    .flatMap((f) => readFileSync(join(instanceDir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditRecord));
}

/** What an instance on another machine does once it finds the lock older than 30 s: replaces it with its own. */
function takeLockAsAnotherMachine(instanceDir: string): void {
  unlinkSync(join(instanceDir, '.lock'));
  writeFileSync(join(instanceDir, '.lock'), `${JSON.stringify({ pid: 4242, host: 'another-machine', token: 'theirs', since: new Date().toISOString() })}\n`);
}

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'rg-audit-lock-'));
  const keyFile = join(dir, 'key.pem');
  writeFileSync(keyFile, signingKeyPem);
  const script = join(dir, 'writer-child.mjs');
  writeFileSync(script, WRITER_CHILD);
  return { dir: join(dir, 'audit'), keyFile, script, instanceDir: join(dir, 'audit', 'gw') };
}

afterEach(async () => {
  for (const proc of children.splice(0)) {
    proc.kill('SIGCONT');
    proc.kill('SIGKILL');
    await exited(proc);
  }
});

describe('audit lock between two writer processes', () => {
  it('refuses a second writer while the first lives, however long it has been paused, and frees the lock once it is gone', async () => {
    const { dir, keyFile, script, instanceDir } = setup();
    const first = startWriter(dir, script, keyFile);
    expect(await first.next()).toMatchObject({ ready: true });
    expect(await first.ask('append')).toMatchObject({ ok: true, seq: 1 });

    first.proc.kill('SIGSTOP');
    // Paused for ten minutes, as far as the lock file can tell: its heartbeat could not refresh it.
    utimesSync(join(instanceDir, '.lock'), LONG_AGO, LONG_AGO);
    const second = startWriter(dir, script, keyFile);
    const refused = await second.next();
    expect(refused).toMatchObject({ ready: false, code: 'RG_AUDIT_UNAVAILABLE' });
    expect(refused.message).toContain(`being written by pid ${first.proc.pid}`);
    await exited(second.proc);

    first.proc.kill('SIGCONT');
    expect(await first.ask('append')).toMatchObject({ ok: true, seq: 2 });
    expect(await first.ask('healthy')).toEqual({ healthy: true });

    // The deny side: a lock whose process has ended is free at once, whatever its age.
    first.proc.kill('SIGKILL');
    await exited(first.proc);
    const third = startWriter(dir, script, keyFile);
    expect(await third.next()).toMatchObject({ ready: true });
    expect(await third.ask('append')).toMatchObject({ ok: true, seq: 3 });
    expect((await verifyAuditDir(dir, { signingKeyPem })).problems).toEqual([]);
  });

  it('stops a holder whose lock was taken over while it was paused: it writes nothing more and reports unhealthy', async () => {
    const { dir, keyFile, script, instanceDir } = setup();
    const first = startWriter(dir, script, keyFile);
    expect(await first.next()).toMatchObject({ ready: true });
    expect(await first.ask('append')).toMatchObject({ ok: true, seq: 1 });

    first.proc.kill('SIGSTOP');
    // Another instance takes the chain over and continues it (here: in this process, after removing the
    // lock as an instance on another machine does once it is older than 30 s).
    unlinkSync(join(instanceDir, '.lock'));
    const other = await AuditWriter.open({ dir, instance: 'gw', signingKeyPem, ip: 'none', identity: 'clear', names: false, checkpointEvery: 1000, checkpointInterval: 600_000 });
    try {
      expect((await other.append({ type: 'logout', outcome: 'success' })).seq).toBe(2);
      const before = chainOf(instanceDir);

      first.proc.kill('SIGCONT');
      const refused = await first.ask('append');
      expect(refused).toMatchObject({ ok: false, code: 'RG_AUDIT_UNAVAILABLE' });
      expect(refused.message).toMatch(/no longer holds the audit lock/);
      expect(await first.ask('healthy')).toEqual({ healthy: false });
      expect(chainOf(instanceDir)).toEqual(before);

      // The chain stays one chain: the new holder continues it and it verifies.
      expect((await other.append({ type: 'logout', outcome: 'success' })).seq).toBe(3);
    } finally {
      await other.close();
    }
    expect((await verifyAuditDir(dir, { signingKeyPem })).problems).toEqual([]);
  });
});

describe('audit lock left by a process that is gone', () => {
  it('is taken over when its pid now belongs to another process (pid reused), told apart by the start time', async () => {
    const { dir, instanceDir } = setup();
    const unrelated = spawn('sleep', ['60']);
    children.push(unrelated);
    // A lock as this machine writes it, naming a live pid whose process started at another time.
    mkdirSync(instanceDir, { recursive: true });
    writeFileSync(join(instanceDir, '.lock'), `${JSON.stringify({
      pid: unrelated.pid, host: hostname(), token: 'old', since: new Date().toISOString(),
      boot: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(), pidns: readlinkSync('/proc/self/ns/pid'), start: '1',
    })}\n`);
    const writer = await AuditWriter.open({ dir, instance: 'gw', signingKeyPem, ip: 'none', identity: 'clear', names: false, checkpointEvery: 1000, checkpointInterval: 600_000 });
    expect((await writer.append({ type: 'logout', outcome: 'success' })).seq).toBe(1);
    await writer.close();
  });
});

/** What a process on this machine writes into a lock (or a takeover claim); `start` as /proc names it. */
function lockContentOf(pid: number, start?: string) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return {
    pid, host: hostname(), token: `of-${pid}`, since: new Date().toISOString(),
    boot: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(), pidns: readlinkSync('/proc/self/ns/pid'),
    start: start ?? stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19],
  };
}

/** A lock as this machine writes it, of a process that has ended. */
function deadHoldersLock(instanceDir: string): void {
  const ended = spawnSync(process.execPath, ['-e', '']);
  mkdirSync(instanceDir, { recursive: true });
  writeFileSync(join(instanceDir, '.lock'), `${JSON.stringify({ ...lockContentOf(process.pid, '1'), pid: ended.pid, token: 'dead' })}\n`);
}

function startLockChild(instanceDir: string, mode: 'pause' | 'plain'): WriterChild {
  const script = join(mkdtempSync(join(tmpdir(), 'rg-lock-child-')), 'lock-child.mjs');
  writeFileSync(script, LOCK_CHILD);
  return startChild(script, [instanceDir, mode]);
}

describe('audit lock of a dead holder, taken over by processes racing for it', () => {
  it('goes to exactly one of two starters, even when the other judged it stale before the first took it over', async () => {
    const instanceDir = join(setup().instanceDir);
    deadHoldersLock(instanceDir);
    const late = startLockChild(instanceDir, 'pause');
    expect(await late.next()).toMatchObject({ started: true });
    late.send('go');
    // It has read the dead holder's lock and judged it stale; it has not acted on that yet.
    expect(await late.next()).toHaveProperty('paused');

    const first = startLockChild(instanceDir, 'plain');
    expect(await first.next()).toMatchObject({ started: true });
    first.send('go');
    expect(await first.next()).toEqual({ acquired: true });

    // Now the late one acts on what it judged: the lock at the path is no longer the stale one.
    late.send('go');
    const refused = await late.next();
    expect(refused).toMatchObject({ acquired: false });
    expect(refused.message).toContain(`being written by pid ${first.proc.pid}`);
    expect(await first.ask('check')).toEqual({ holds: true });
    expect(JSON.parse(readFileSync(join(instanceDir, '.lock'), 'utf8'))).toMatchObject({ pid: first.proc.pid });
    expect(readdirSync(instanceDir).filter((f) => f.startsWith('.lock'))).toEqual(['.lock']);
  });

  it('counts a claim of a live process as a takeover in progress, and one of a process that has ended as stale', async () => {
    const instanceDir = join(setup().instanceDir);
    deadHoldersLock(instanceDir);
    const claimant = startLockChild(instanceDir, 'pause');
    expect(await claimant.next()).toMatchObject({ started: true });
    claimant.send('go');
    const { path: claim } = await claimant.next();
    expect(claim).toMatch(/\/\.lock\.takeover-[0-9a-f]{16}\.0$/);
    // Its claim, as it writes it next: a live process on this machine taking the lock over.
    writeFileSync(claim as string, `${JSON.stringify(lockContentOf(claimant.proc.pid!))}\n`);
    await expect(acquireInstanceLock(instanceDir)).rejects.toThrow(`being taken over by pid ${claimant.proc.pid}`);
    expect(readFileSync(join(instanceDir, '.lock'), 'utf8')).toContain('"token":"dead"');

    // The claimant ends half-way: its claim is stale, the next starter takes the lock over, no claim is left.
    claimant.proc.kill('SIGKILL');
    await exited(claimant.proc);
    const lock = await acquireInstanceLock(instanceDir);
    await lock.check();
    expect(readdirSync(instanceDir).filter((f) => f.startsWith('.lock'))).toEqual(['.lock']);
    await lock.release();
  });

  it('goes to exactly one of several starters let go at the same moment, and that one keeps it', async () => {
    const instanceDir = join(setup().instanceDir);
    deadHoldersLock(instanceDir);
    const starters = Array.from({ length: 6 }, () => startLockChild(instanceDir, 'plain'));
    for (const starter of starters) expect(await starter.next()).toMatchObject({ started: true });
    for (const starter of starters) starter.send('go');
    const outcomes = await Promise.all(starters.map((starter) => starter.next()));
    const holders = starters.filter((_, i) => outcomes[i]!.acquired === true);
    expect(holders).toHaveLength(1);
    for (const outcome of outcomes.filter((o) => o.acquired !== true)) expect(outcome.message).toMatch(/being (written|taken over) by pid \d+/);
    expect(await holders[0]!.ask('check')).toEqual({ holds: true });
    expect(JSON.parse(readFileSync(join(instanceDir, '.lock'), 'utf8'))).toMatchObject({ pid: holders[0]!.proc.pid });
  });
});

describe('audit lock of a running gateway (roomguard serve)', () => {
  let rig: Rig<ServeProcess>;
  let upstream: EchoUpstream;
  let gateway: ServeProcess;
  let auditDir: string;
  /** Both gateways write the same chain: one audit directory, one instance name. */
  const sameChain = () => ({ auditDir, config: { audit: { instance: 'shared' } } });

  beforeAll(async () => {
    auditDir = mkdtempSync(join(tmpdir(), 'rg-audit-lock-gw-'));
    rig = await startServeRig(sameChain());
    ({ gateway, upstream } = rig);
  }, 60_000);

  afterAll(async () => {
    gateway?.child.kill('SIGCONT');
    await rig?.close();
  });

  it('refuses a second gateway on the same chain while the first is paused, and once its lock is taken refuses joins with RG_AUDIT_UNAVAILABLE and reports not ready', async () => {
    const browser = new ScriptedBrowser({ accept: 'text/html' });
    const start = await browser.follow(`${gateway.origin}/rooms/staff-weekly`);
    expect((await browser.submitLogin(start.final, 'bob', 'demo')).final.status).toBe(200);
    const instanceDir = join(auditDir, 'shared');

    gateway.child.kill('SIGSTOP');
    utimesSync(join(instanceDir, '.lock'), LONG_AGO, LONG_AGO);
    const second = await startServeRig({ sameAs: rig, behindFirst: true, ...sameChain() }).then(
      async (started) => {
        await started.close();
        return undefined;
      },
      (err: unknown) => err as Error,
    );
    // Refused at start, and ended (exit code 1), not left idling.
    expect(second?.message).toMatch(/^roomguard serve exited \(1\)/);
    expect(second?.message).toContain(`being written by pid ${gateway.child.pid}`);

    takeLockAsAnotherMachine(instanceDir);
    const before = chainOf(instanceDir);
    gateway.child.kill('SIGCONT');
    const arrived = upstream.arrived.length;
    const refused = await browser.request(`${gateway.origin}/rooms/staff-weekly`);
    expect(refused.status).toBe(503);
    expect(await refused.text()).toContain('RG_AUDIT_UNAVAILABLE');
    expect(upstream.arrived.length).toBe(arrived);
    const ready = await fetch(`${gateway.origin}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ checks: { audit: { ok: false, detail: 'RG_AUDIT_UNAVAILABLE' } } });
    expect(chainOf(instanceDir)).toEqual(before);
  });
});
