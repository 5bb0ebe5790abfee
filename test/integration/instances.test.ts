// Several `roomguard serve` processes sharing real Redis, as behind a load balancer: a session ended on
// one instance (logout) or by the CLI (revocation, factor reset) is refused by every other instance
// within one second and its open WebSockets there are closed — through the store's publish/subscribe,
// not the slow store check (which runs only every 15 s per session while the bus is up).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { ScriptedBrowser } from '../helpers/browser.js';
import type { ServeProcess } from '../helpers/serve-process.js';
import { startServeRig, type Rig } from '../helpers/rig.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The promise: an ended session is refused everywhere, and its WebSockets closed, within this. */
const WITHIN_MS = 1000;
// Tests start CLI processes that compile TypeScript first (seconds on a loaded machine); the one-second
// promise is measured from when the command has done its work, not from its start.
vi.setConfig({ testTimeout: 90_000 });

let rig: Rig<ServeProcess>;
let a: ServeProcess;
let b: ServeProcess;

beforeAll(async () => {
  // Two instances behind one public origin, as behind a load balancer.
  rig = await startServeRig({ instances: [{}, { behindFirst: true }] });
  [a, b] = rig.instances.map((instance) => instance.gateway) as [ServeProcess, ServeProcess];
}, 60_000);

afterAll(async () => {
  await rig?.close();
});

async function loginOnA(user: string): Promise<string> {
  const browser = new ScriptedBrowser();
  const start = await browser.follow(`${a.origin}/rooms/town-hall`);
  const done = await browser.submitLogin(start.final, user, 'demo');
  expect(done.final.status).toBe(200);
  return browser.jar.header(new URL(a.origin))!;
}

/** A sub-resource request (no page load) on instance B: the kind that may use B's local session cache. */
function assetOnB(cookie: string): Promise<Response> {
  return fetch(`${b.origin}/rooms/town-hall/app.js`, { headers: { cookie, 'sec-fetch-dest': 'script' }, redirect: 'manual' });
}

function openWsOnB(cookie: string): Promise<{ ws: WebSocket; closed: Promise<number> }> {
  const ws = new WebSocket(`${b.origin.replace('http', 'ws')}/rooms/town-hall/ws`, { headers: { cookie } });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, closed: new Promise((r) => ws.once('close', () => r(Date.now()))) }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** Polls B until it refuses the cookie; resolves to the time of the first refusal (or rejects after `ms`). */
async function refusedOnBWithin(cookie: string, since: number, ms: number): Promise<number> {
  for (;;) {
    const res = await assetOnB(cookie);
    await res.arrayBuffer();
    if (res.status === 302 && String(res.headers.get('location')).startsWith('/_roomguard/login')) return Date.now();
    expect(res.status).toBe(200);
    if (Date.now() - since > ms) throw new Error(`instance B still admitted the session ${Date.now() - since} ms after it ended`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function cli(args: string[]): Promise<{ code: number | null; stdout: string; endedAt: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/cli.ts', ...args], { cwd: ROOT });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, endedAt: Date.now() })));
}

describe('a session ended anywhere ends everywhere', () => {
  it('revoked with `roomguard sessions revoke --user`: B refuses it and closes its WebSocket within one second', async () => {
    const cookie = await loginOnA('alice');
    // B serves the session (and caches it for sub-resource requests) and holds an open WebSocket.
    expect((await assetOnB(cookie)).status).toBe(200);
    const { closed } = await openWsOnB(cookie);

    const revoke = await cli(['sessions', 'revoke', '--user', 'alice', '--config', a.configFile]);
    expect(revoke.code).toBe(0);
    expect(revoke.stdout).toContain('ended 1 session(s)');
    const closedAt = await Promise.race([closed, new Promise<number>((_, reject) => setTimeout(() => reject(new Error('WebSocket on B still open 1 s after the revocation')), WITHIN_MS))]);
    expect(closedAt - revoke.endedAt).toBeLessThan(WITHIN_MS);
    await refusedOnBWithin(cookie, revoke.endedAt, WITHIN_MS);
  });

  it('logged out on A: B refuses the session and closes its WebSocket within one second', async () => {
    const cookie = await loginOnA('bob');
    expect((await assetOnB(cookie)).status).toBe(200);
    const { closed } = await openWsOnB(cookie);
    // The logout page's form posts with the CSRF token; read it from the page like a browser.
    const page = await (await fetch(`${a.origin}/_roomguard/logout`, { headers: { cookie } })).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
    expect(csrf).toBeDefined();
    const loggedOutAt = Date.now();
    const res = await fetch(`${a.origin}/_roomguard/logout`, { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', origin: a.origin }, body: new URLSearchParams({ csrf: csrf! }), redirect: 'manual' });
    expect(res.status).toBe(303);
    const closedAt = await Promise.race([closed, new Promise<number>((_, reject) => setTimeout(() => reject(new Error('WebSocket on B still open 1 s after logout')), WITHIN_MS + 500))]);
    expect(closedAt - loggedOutAt).toBeLessThan(WITHIN_MS + 500);
    await refusedOnBWithin(cookie, loggedOutAt, WITHIN_MS);
  });

  it('a second factor reset with `roomguard mfa reset` ends the person\'s sessions on every instance', async () => {
    const cookie = await loginOnA('carol');
    const ok = await fetch(`${b.origin}/anything/private`, { headers: { cookie, 'sec-fetch-dest': 'script' }, redirect: 'manual' });
    expect(ok.status).toBe(200);
    const reset = await cli(['mfa', 'reset', '--user', 'carol', '--config', a.configFile]);
    expect(reset.code).toBe(0);
    expect(reset.stdout).toContain('ended 1 session(s)');
    const after = await fetch(`${b.origin}/anything/private`, { headers: { cookie, 'sec-fetch-dest': 'script' }, redirect: 'manual' });
    expect(after.status).toBe(302);
    expect(after.headers.get('location')).toMatch(/^\/_roomguard\/login/);
  });

  it('a session that did not end stays admitted on B (the deny side)', async () => {
    const cookie = await loginOnA('alice');
    await cli(['sessions', 'revoke', '--user', 'bob', '--config', a.configFile]);
    expect((await assetOnB(cookie)).status).toBe(200);
  });
});
