// Soak: churns logins, page joins, WebSockets and logouts against one gateway for a set time and reports
// how its memory and handles grow (issue 9). The gateway runs in its own process (so the numbers are its
// own, measured after a forced GC); Redis, the demo IdP and the echo upstream are started here on
// loopback. Not part of npm test. Everything stops by itself when the time is up.
//   npm run soak                          60 s, 8 concurrent participants, private redis-server
//   npm run soak -- --duration 10m --concurrency 16 --joins 20   (joins + WebSockets per login)
//   npm run soak -- --store memory        without Redis
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { parseDuration } from '../src/config/duration.js';
import { startDemoIdp } from '../src/demo/idp.js';
import { createGateway } from '../src/gateway/server.js';
import { ScriptedBrowser } from '../test/helpers/browser.js';
import { testConfig, testKeys } from '../test/helpers/gateway.js';
import { startEchoUpstream } from '../test/helpers/upstream.js';
import { onFreePort } from '../test/helpers/ports.js';
import { startRedis } from '../test/helpers/redis-servers.js';

const CLIENT_SECRET = 'soak-client-secret-0123456789abcdef';

interface Sample {
  iterations: number;
  heapMb: number;
  rssMb: number;
  handles: number;
  byType: Record<string, number>;
}

interface ChildSettings {
  port: number;
  issuer: string;
  upstream: string;
  store: string;
  auditDir: string;
}

// ---------------------------------------------------------------------------------------------------
// The gateway process: serves, and answers "sample" with its own heap, RSS and active handles.

async function runGateway(settings: ChildSettings): Promise<void> {
  const gateway = await createGateway(testConfig({
    port: settings.port, issuer: settings.issuer, clientSecret: CLIENT_SECRET, upstream: settings.upstream,
    store: settings.store, keys: testKeys(), keyPrefix: `rgsoak:${settings.port}:`, auditDir: settings.auditDir,
  }));
  await gateway.listen();
  process.on('message', (message) => {
    if (message !== 'sample') return;
    // Two passes: the first frees what finalizers release only on the second.
    globalThis.gc?.();
    globalThis.gc?.();
    const memory = process.memoryUsage();
    const resources = process.getActiveResourcesInfo();
    const byType: Record<string, number> = {};
    for (const r of resources) byType[r] = (byType[r] ?? 0) + 1;
    process.send!({ heapMb: memory.heapUsed / 2 ** 20, rssMb: memory.rss / 2 ** 20, handles: resources.length, byType });
  });
  process.on('disconnect', () => {
    void gateway.close().finally(() => process.exit(0));
  });
  process.send!('ready');
}

// ---------------------------------------------------------------------------------------------------
// The driver.

function sampleOf(child: ChildProcess, iterations: number): Promise<Sample> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve({ iterations, ...(m as Omit<Sample, 'iterations'>) }));
    child.send('sample');
  });
}

/** One participant's visit: IdP login, `joins` page joins (each audited) and WebSocket round trips, sign-out. */
async function visit(origin: string, port: number, joins: number): Promise<void> {
  const browser = new ScriptedBrowser({ accept: 'text/html' });
  const start = await browser.follow(`${origin}/rooms/staff-weekly`);
  const joined = await browser.submitLogin(start.final, 'bob', 'demo');
  if (joined.final.status !== 200) throw new Error(`join answered ${joined.final.status}`);
  await joined.final.arrayBuffer();
  for (let i = 0; i < joins; i++) {
    if (i > 0) {
      const again = await browser.request(`${origin}/rooms/staff-weekly`);
      if (again.status !== 200) throw new Error(`join answered ${again.status}`);
      await again.arrayBuffer();
    }
    await echoOnce(origin, port, browser);
  }
  const page = await (await browser.request(`${origin}/_roomguard/logout`)).text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
  if (!csrf) throw new Error('no sign-out form');
  const out = await browser.request(`${origin}/_roomguard/logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin }, body: `csrf=${encodeURIComponent(csrf)}` });
  if (out.status !== 303) throw new Error(`logout answered ${out.status}`);
}

/** Opens the room's WebSocket, waits for the upstream's greeting, sends one message, waits for its echo, closes. */
async function echoOnce(origin: string, port: number, browser: ScriptedBrowser): Promise<void> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/rooms/staff-weekly/ws`, { headers: { cookie: browser.jar.header(new URL(origin))! } });
  await new Promise<void>((resolve, reject) => {
    let seen = 0;
    ws.on('message', () => {
      seen += 1;
      if (seen === 1) ws.send('soak');
      else ws.close();
    });
    ws.once('close', () => resolve());
    ws.once('error', reject);
  });
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);

async function drive(): Promise<void> {
  const { values } = parseArgs({
    options: { duration: { type: 'string', default: '60s' }, concurrency: { type: 'string', default: '8' }, joins: { type: 'string', default: '5' }, store: { type: 'string', default: 'redis' } },
  });
  const joins = Number(values.joins);
  if (!Number.isInteger(joins) || joins < 1 || joins > 100) throw new Error('--joins: joins per login, a whole number from 1 to 100');
  const durationMs = parseDuration(values.duration!);
  const concurrency = Number(values.concurrency);
  if (durationMs === undefined || durationMs <= 0) throw new Error(`--duration ${values.duration}: give a duration such as 60s or 10m`);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new Error('--concurrency: a whole number from 1 to 64');

  const redis = values.store === 'memory' ? undefined : await startRedis('soak');
  const upstream = await startEchoUpstream();
  const auditDir = mkdtempSync(join(tmpdir(), 'rg-soak-audit-'));
  // The gateway's port is in its public URL and the IdP's redirect URI, so both start on a port that is
  // free now, and again on another if a different process takes it first (test/helpers/ports.ts).
  const { port, origin, idp, child } = await onFreePort(async (port) => {
    const origin = `http://127.0.0.1:${port}`;
    const idp = await startDemoIdp({ clients: [{ clientId: 'roomguard-test', clientSecret: CLIENT_SECRET, redirectUris: [`${origin}/_roomguard/callback`] }] });
    const settings: ChildSettings = { port, issuer: idp.issuer, upstream: upstream.url, store: redis?.url ?? 'memory', auditDir };
    const child = fork(fileURLToPath(import.meta.url), ['--gateway'], {
      execArgv: ['--import', 'tsx', '--expose-gc'], env: { ...process.env, RG_SOAK_SETTINGS: JSON.stringify(settings) }, stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      process.stderr.write(chunk);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.once('message', () => resolve());
        child.once('close', (code) => reject(new Error(`gateway process exited (${code}): ${stderr}`)));
      });
    } catch (err) {
      await idp.close();
      throw err;
    }
    return { port, origin, idp, child };
  });
  try {
    console.log(`soak: ${values.duration} against ${origin} (${redis ? 'redis' : 'memory store'}), ${concurrency} participants, ${joins} joins + WebSockets per login`);

    // Warm up (JIT, pools, first segment of the audit log) before the first sample.
    await Promise.all(Array.from({ length: concurrency }, () => visit(origin, port, joins)));
    let iterations = 0;
    let failures = 0;
    const samples: Sample[] = [await sampleOf(child, 0)];
    let nextSampleAt = 1000;
    let sampling: Promise<void> = Promise.resolve();
    const deadline = Date.now() + durationMs;
    const started = Date.now();
    const worker = async () => {
      while (Date.now() < deadline) {
        try {
          await visit(origin, port, joins);
          iterations += 1;
        } catch (err) {
          failures += 1;
          if (failures <= 5) console.error(`visit failed: ${(err as Error).message}`);
          if (failures > 100) throw new Error('more than 100 failed visits; stopping');
        }
        if (iterations >= nextSampleAt) {
          nextSampleAt += 1000;
          const at = iterations;
          sampling = sampling.then(async () => void samples.push(await sampleOf(child, at)));
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    await sampling;
    // Let closing sockets and timers of the last visits settle before the final sample.
    await new Promise((r) => setTimeout(r, 1000));
    const end = await sampleOf(child, iterations);
    samples.push(end);
    const seconds = (Date.now() - started) / 1000;

    console.log('\n iterations | heap MB | RSS MB | active handles');
    for (const s of samples) console.log(` ${String(s.iterations).padStart(10)} | ${fmt(s.heapMb).padStart(7)} | ${fmt(s.rssMb).padStart(6)} | ${String(s.handles).padStart(14)}`);
    const first = samples[0]!;
    const per1000 = (delta: number) => (iterations > 0 ? (delta / iterations) * 1000 : 0);
    console.log(`\n${iterations} visits (login, ${joins} joins and WebSockets, logout) in ${fmt(seconds)} s = ${fmt(iterations / seconds)}/s, ${failures} failed`);
    console.log(`growth per 1000 visits: heap ${fmt(per1000(end.heapMb - first.heapMb), 2)} MB, RSS ${fmt(per1000(end.rssMb - first.rssMb), 2)} MB, handles ${fmt(per1000(end.handles - first.handles), 2)}`);
    console.log(`handles at start ${JSON.stringify(first.byType)}\nhandles at end   ${JSON.stringify(end.byType)}`);
  } finally {
    child.disconnect();
    await new Promise((r) => child.once('exit', r));
    await Promise.all([idp.close(), upstream.close()]);
    await redis?.stop();
  }
}

if (process.argv.includes('--gateway')) await runGateway(JSON.parse(process.env.RG_SOAK_SETTINGS!) as ChildSettings);
else await drive();
