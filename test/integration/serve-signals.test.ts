// `roomguard serve` and its signals, in a real child process on real Redis: SIGHUP reloads the config
// file and the policies (anything broken is rejected whole and the running set keeps serving, visible
// in logs, metrics and /readyz); SIGTERM stops accepting, lets a request under way finish, closes
// WebSockets after their grace period, flushes the audit log and exits 0.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import { verifyAuditDir } from '../../src/audit/verify.js';
import { queryAudit } from '../../src/audit/query.js';
import { parse, stringify } from 'yaml';
import { EXAMPLE_POLICIES } from '../helpers/gateway.js';
import type { ServeProcess } from '../helpers/serve-process.js';
import { startServeRig, type Rig } from '../helpers/rig.js';

let upstream: Server;
let upstreamUrl: string;
/** Paths of the requests that reached the upstream. */
const upstreamSaw: string[] = [];
let metricsUrl: string;
let original: string;
let policiesDir: string;
let auditDir: string;
let rig: Rig<ServeProcess, { url: string }>;
let gw: ServeProcess;

/** An upstream with a slow path (a request still under way at SIGTERM) and a WebSocket that stays open. */
async function startSlowUpstream(): Promise<void> {
  upstream = createServer((req, res) => {
    upstreamSaw.push(req.url ?? '');
    const delay = req.url?.startsWith('/public/slow') ? 1500 : 0;
    setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end(`done ${req.url}`), delay);
  });
  const wss = new WebSocketServer({ server: upstream });
  wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`echo:${m.toString()}`)));
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const address = upstream.address() as { port: number };
  upstreamUrl = `http://127.0.0.1:${address.port}`;
}

/** The config file the gateway started with, with these top-level sections replaced. */
function yamlWith(extra: Record<string, unknown>): string {
  return stringify({ ...(parse(original) as Record<string, unknown>), ...extra });
}

beforeAll(async () => {
  await startSlowUpstream();
  policiesDir = mkdtempSync(join(tmpdir(), 'rg-signals-policies-'));
  cpSync(EXAMPLE_POLICIES, policiesDir, { recursive: true });
  auditDir = mkdtempSync(join(tmpdir(), 'rg-signals-audit-'));
  rig = await startServeRig({
    upstream: { url: upstreamUrl }, policiesDir, auditDir, metrics: true,
    config: { shutdown: { drainTimeout: '5s', websocketGrace: '1s' }, ui: { orgName: 'Before Reload' } },
  });
  gw = rig.gateway;
  metricsUrl = rig.metricsUrl!;
  original = readFileSync(gw.configFile, 'utf8');
}, 60_000);

afterAll(async () => {
  await rig?.close();
  await new Promise((r) => upstream?.close(r));
});

const readyz = async () => (await (await fetch(`${gw.origin}/readyz`)).json()) as { checks: Record<string, { ok: boolean; detail?: string }> };
const reloads = async (result: string) => {
  const text = await (await fetch(metricsUrl)).text();
  return Number(new RegExp(`roomguard_config_reloads_total\\{result="${result}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
};
const loginPageTitle = async () => /<title>([^<]*)<\/title>/.exec(await (await fetch(`${gw.origin}/_roomguard/logout`)).text())?.[1] ?? '';

describe('SIGHUP', () => {
  it('rejects a config file with problems whole: the running config keeps serving, and logs, metrics and /readyz say why', async () => {
    const good = readFileSync(gw.configFile, 'utf8');
    writeFileSync(gw.configFile, yamlWith({ ui: { orgName: 'Broken Reload' }, session: { idleTimeout: 'forever' } }));
    gw.child.kill('SIGHUP');
    const line = await gw.waitForLog((l) => l.event === 'config.rejected');
    expect(JSON.stringify(line.problems)).toContain('session.idleTimeout');
    expect(await loginPageTitle()).toContain('Before Reload');
    expect(await reloads('rejected')).toBe(1);
    expect((await readyz()).checks.config!.detail).toMatch(/reload rejected .*session\.idleTimeout/);
    writeFileSync(gw.configFile, good);
  });

  it('applies a valid config at once without dropping connections, and names settings that need a restart', async () => {
    const ws = new WebSocket(`${gw.origin.replace('http', 'ws')}/public/ws`);
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
    writeFileSync(gw.configFile, yamlWith({ ui: { orgName: 'After Reload' }, store: { url: inject('redisUrl'), keyPrefix: 'rgsig:other:' } }));
    gw.child.kill('SIGHUP');
    const line = await gw.waitForLog((l) => l.event === 'config.reloaded');
    expect(line.restartNeeded).toEqual(['store']);
    expect(await loginPageTitle()).toContain('After Reload');
    expect(await reloads('loaded')).toBe(1);
    expect((await readyz()).checks.config!.detail).toMatch(/restart needed for: store/);
    // The WebSocket opened before the reload still works (its app generation lives on).
    const reply = new Promise<string>((resolve) => ws.once('message', (d) => resolve(d.toString())));
    ws.send('still here');
    expect(await reply).toBe('echo:still here');
    ws.close();
  });

  it('rejects a broken policy file on SIGHUP: the previous policy set keeps deciding', async () => {
    const before = (await readyz()).checks.policies!.detail!.slice(0, 12);
    writeFileSync(join(policiesDir, 'zz-broken.yaml'), 'rooms: [x]\nrisk: extreme\nallow: [{ anyone: true }]\n');
    gw.child.kill('SIGHUP');
    await gw.waitForLog((l) => l.event === 'config.rejected' && JSON.stringify(l.problems).includes('zz-broken.yaml'));
    const now = (await readyz()).checks;
    expect(now.policies!.detail!.slice(0, 12)).toBe(before);
    // Anonymous page load of a room still gets the login redirect from the old set (not an error page).
    const res = await fetch(`${gw.origin}/rooms/town-hall`, { redirect: 'manual', headers: { accept: 'text/html' } });
    expect(res.status).toBe(302);
    const records = await queryAudit(auditDir, { type: 'config.rejected' });
    expect(records.length).toBeGreaterThanOrEqual(2);
  });
});

describe('SIGHUP, all or nothing', () => {
  it('keeps the running policy set when anything else in the reload fails (a missing logo)', async () => {
    const good = readFileSync(gw.configFile, 'utf8');
    rmSync(join(policiesDir, 'zz-broken.yaml'), { force: true });
    writeFileSync(join(policiesDir, 'zz-new.yaml'), 'rooms: [brand-new]\nrisk: low\nallow: [{ anyone: true }]\n');
    const before = (await readyz()).checks.policies!.detail!.slice(0, 12);
    writeFileSync(gw.configFile, yamlWith({ ui: { orgName: 'After Reload', logo: join(policiesDir, 'no-such-logo.svg') } }));
    gw.child.kill('SIGHUP');
    await gw.waitForLog((l) => l.event === 'config.rejected' && JSON.stringify(l.problems).includes('no-such-logo'));
    expect((await readyz()).checks.policies!.detail!.slice(0, 12)).toBe(before);
    // With a good file again the new policy arrives too.
    writeFileSync(gw.configFile, good);
    gw.child.kill('SIGHUP');
    await expect.poll(async () => (await readyz()).checks.policies!.detail!.slice(0, 12), { timeout: 10_000 }).not.toBe(before);
    rmSync(join(policiesDir, 'zz-new.yaml'));
  });
});

describe('SIGTERM', () => {
  it('finishes the request under way, refuses new connections, closes WebSockets after the grace, flushes the audit log, exits 0', async () => {
    const ws = new WebSocket(`${gw.origin.replace('http', 'ws')}/public/ws`);
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
    const wsClosed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code === 1001 ? Date.now() : -code)));
    const slow = fetch(`${gw.origin}/public/slow`).then(async (r) => ({ status: r.status, body: await r.text() }));
    // SIGTERM while the slow request is under way: the gateway has passed it on and the upstream holds it.
    await expect.poll(() => upstreamSaw.includes('/public/slow')).toBe(true);
    const signalledAt = Date.now();
    gw.child.kill('SIGTERM');
    await gw.waitForLog((l) => l.event === 'shutdown.begin');
    await expect(fetch(`${gw.origin}/healthz`)).rejects.toThrow();
    expect(await slow).toEqual({ status: 200, body: 'done /public/slow' });
    const closedAt = await wsClosed;
    expect(closedAt).toBeGreaterThan(0); // closed with 1001 "going away", so the client reconnects elsewhere
    expect(closedAt - signalledAt).toBeGreaterThanOrEqual(1000); // not before its grace period
    expect(await gw.exited).toBe(0);
    const verified = await verifyAuditDir(auditDir);
    expect(verified.ok).toBe(true);
  });
});
