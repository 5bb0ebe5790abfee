// Lock and evict (issue 20 §3) on two `roomguard serve` instances sharing real Redis, as behind one load
// balancer, with the generic, Jitsi and BBB backends: the moderator's page /_roomguard/rooms/<room> on one
// instance and `roomguard rooms …` from the shell act on the other within a second — WebSockets closed,
// Jitsi tokens and BBB joins for the room refused, BBB's meeting ended for everyone — each step audited
// with who did it.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { queryAudit } from '../../src/audit/query.js';
import { DEMO_USERS, type DemoUser } from '../../src/demo/idp.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import type { ServeProcess } from '../helpers/serve-process.js';
import { startServeRig, type Rig } from '../helpers/rig.js';
import { startFakeBbb, type FakeBbb } from '../helpers/bbb-server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// Processes compile TypeScript on start (seconds on a loaded machine): the limit is about the machine.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const DAVE: DemoUser = { sub: 'dave', password: 'demo', email: 'dave@example.org', name: 'Dave Example', groups: ['staff'] };
const USERS = [...DEMO_USERS, DAVE];
const HTML = { accept: 'text/html' };
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** Runs the CLI without blocking this process (the fake BBB server answering the CLI lives here). */
function roomguard(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/cli.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

/** Signs in on instance A and returns the browser (its cookie works on B: one public origin). */
async function signIn(a: ServeProcess, user: string, path: string): Promise<{ browser: ScriptedBrowser; cookie: string; final: Response }> {
  const browser = new ScriptedBrowser(HTML);
  const start = await browser.follow(`${a.origin}${path}`);
  const done = await browser.submitLogin(start.final, user, 'demo');
  return { browser, cookie: browser.jar.header(new URL(a.origin))!, final: done.final };
}

function ws(origin: string, path: string, cookie: string) {
  const socket = new WebSocket(`${origin.replace('http', 'ws')}${path}`, { headers: { cookie } });
  return new Promise<{ socket?: WebSocket; closed?: Promise<number>; status?: number; reason?: string }>((resolve) => {
    socket.once('open', () => resolve({ socket, closed: new Promise((r) => socket.once('close', () => r(Date.now()))) }));
    socket.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0, reason: String(res.headers['x-roomguard-reason'] ?? '') }));
    socket.once('error', () => resolve({ status: -1 }));
  });
}

async function reasonOf(res: Response): Promise<string | undefined> {
  return /<code>(RG_[A-Z_]+)<\/code>/.exec(await res.text())?.[1];
}

/** Posts one of the room page's forms as the signed-in moderator. */
async function roomForm(browser: ScriptedBrowser, origin: string, room: string, action: string, fields: Record<string, string> = {}): Promise<Response> {
  const page = await browser.request(`${origin}/_roomguard/rooms/${room}`);
  const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
  return browser.request(`${origin}/_roomguard/rooms/${room}/${action}`, { method: 'POST', headers: FORM, body: new URLSearchParams({ csrf, ...fields }).toString() });
}

describe('lock and evict with the generic backend, from the moderator page', () => {
  let rig: Rig<ServeProcess>;
  let a: ServeProcess;
  let b: ServeProcess;
  beforeAll(async () => {
    rig = await startServeRig({ idp: { users: USERS }, instances: [{}, { behindFirst: true }] });
    [a, b] = rig.instances.map((i) => i.gateway) as [ServeProcess, ServeProcess];
  });
  afterAll(() => rig?.close());

  it('shows the page to the room\'s moderator only', async () => {
    const alice = await signIn(a, 'alice', '/rooms/staff-weekly');
    const page = await alice.browser.request(`${a.origin}/_roomguard/rooms/staff-weekly`);
    expect(page.status).toBe(200);
    const text = await page.text();
    expect(text).toContain('action="/_roomguard/rooms/staff-weekly/lock"');
    expect(text).toContain('name="everyone"');
    const bob = await signIn(a, 'bob', '/rooms/staff-weekly');
    const refused = await bob.browser.request(`${b.origin}/_roomguard/rooms/staff-weekly`);
    expect(refused.status).toBe(403);
    expect(await reasonOf(refused)).toBe('RG_ROOM_NOT_MODERATOR');
    // A participant cannot lock by posting the form either, with their own valid CSRF token (from the sign-out page).
    const csrf = /name="csrf" value="([^"]+)"/.exec(await (await bob.browser.request(`${b.origin}/_roomguard/logout`)).text())![1]!;
    const post = await bob.browser.request(`${b.origin}/_roomguard/rooms/staff-weekly/lock`, { method: 'POST', headers: FORM, body: new URLSearchParams({ csrf }).toString() });
    expect(post.status).toBe(403);
    expect(await reasonOf(post)).toBe('RG_ROOM_NOT_MODERATOR');
    const anonymous = await fetch(`${a.origin}/_roomguard/rooms/staff-weekly/lock`, { method: 'POST', headers: FORM, body: 'csrf=x', redirect: 'manual' });
    expect(anonymous.status).toBe(401);
  });

  it('a lock on A keeps newcomers out on B while members already in stay, and unlock lets them in', async () => {
    const alice = await signIn(a, 'alice', '/rooms/staff-lock');
    const bob = await signIn(a, 'bob', '/rooms/staff-lock');
    expect(bob.final.status).toBe(200);
    expect((await roomForm(alice.browser, a.origin, 'staff-lock', 'lock')).status).toBe(303);
    const dave = await signIn(a, 'dave', '/rooms/other');
    const refused = await dave.browser.request(`${b.origin}/rooms/staff-lock`);
    expect(refused.status).toBe(403);
    expect(await reasonOf(refused)).toBe('RG_ROOM_LOCKED');
    expect(await ws(b.origin, '/rooms/staff-lock/ws', dave.cookie)).toMatchObject({ status: 403, reason: 'RG_ROOM_LOCKED' });
    // bob was in before the lock: his reloads and WebSockets go on, on either instance.
    expect((await bob.browser.request(`${b.origin}/rooms/staff-lock`)).status).toBe(200);
    expect((await bob.browser.request(`${a.origin}/rooms/staff-lock`)).status).toBe(200);
    const bobWs = await ws(b.origin, '/rooms/staff-lock/ws', bob.cookie);
    expect(bobWs.socket).toBeDefined();
    bobWs.socket!.close();
    const page = await (await alice.browser.request(`${a.origin}/_roomguard/rooms/staff-lock`)).text();
    expect(page).toContain('action="/_roomguard/rooms/staff-lock/unlock"');
    expect((await roomForm(alice.browser, a.origin, 'staff-lock', 'unlock')).status).toBe(303);
    expect((await dave.browser.request(`${b.origin}/rooms/staff-lock`)).status).toBe(200);
    const records = await queryAudit(rig.instances[0]!.auditDir, { room: 'staff-lock' });
    expect(records.filter((r) => r.type === 'room.locked' || r.type === 'room.unlocked').map((r) => [r.type, r.actor && 'sub' in r.actor ? r.actor.sub : undefined])).toEqual([['room.locked', 'alice'], ['room.unlocked', 'alice']]);
    const denied = await queryAudit(rig.instances[1]!.auditDir, { room: 'staff-lock', type: 'room.decision' });
    expect(denied.some((r) => r.outcome === 'deny' && r.reason === 'RG_ROOM_LOCKED')).toBe(true);
  });

  it('evicting one person on A closes their WebSocket on B and keeps them out; the others stay', async () => {
    const alice = await signIn(a, 'alice', '/rooms/staff-evict');
    const bob = await signIn(a, 'bob', '/rooms/staff-evict');
    const dave = await signIn(a, 'dave', '/rooms/staff-evict');
    const bobWs = await ws(b.origin, '/rooms/staff-evict/ws', bob.cookie);
    const daveWs = await ws(b.origin, '/rooms/staff-evict/ws', dave.cookie);
    expect(bobWs.socket && daveWs.socket).toBeDefined();
    const people = await (await alice.browser.request(`${a.origin}/_roomguard/rooms/staff-evict`)).text();
    expect(people).toContain('value="bob"');
    const started = Date.now();
    expect((await roomForm(alice.browser, a.origin, 'staff-evict', 'evict', { user: 'bob' })).status).toBe(303);
    const closedAt = await bobWs.closed!;
    // The measure of "within a second" (printed, not asserted): from the moderator's request to the close on B.
    console.log(`evict → WebSocket closed on the other instance: ${closedAt - started} ms`);
    expect(daveWs.socket!.readyState).toBe(WebSocket.OPEN);
    daveWs.socket!.close();
    const again = await bob.browser.request(`${b.origin}/rooms/staff-evict`);
    expect(again.status).toBe(403);
    expect(await reasonOf(again)).toBe('RG_ROOM_EVICTED');
    // Only this room: bob may still go elsewhere.
    expect((await bob.browser.request(`${b.origin}/rooms/staff-weekly`)).status).toBe(200);
    const records = await queryAudit(rig.instances[0]!.auditDir, { room: 'staff-evict', type: 'room.evicted' });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ outcome: 'success', actor: { sub: 'alice' }, details: { user: 'bob', via: 'room page' } });
    // Unlocking lifts the bar.
    expect((await roomForm(alice.browser, a.origin, 'staff-evict', 'unlock')).status).toBe(303);
    expect((await bob.browser.request(`${b.origin}/rooms/staff-evict`)).status).toBe(200);
  });
});

describe('evict everyone with the Jitsi backend, from the command line', () => {
  const JITSI = { appId: 'roomguard', appSecret: 'jitsi-app-secret-shared-with-prosody-0123456789', audience: 'jitsi', domain: 'meet.jitsi', tenants: false, tokenTtl: '10m', userFields: ['name'], features: [] };
  let rig: Rig<ServeProcess>;
  let a: ServeProcess;
  let b: ServeProcess;
  beforeAll(async () => {
    rig = await startServeRig({ idp: { users: USERS }, config: { backend: { type: 'jitsi', jitsi: JITSI } }, instances: [{}, { behindFirst: true }] });
    [a, b] = rig.instances.map((i) => i.gateway) as [ServeProcess, ServeProcess];
  });
  afterAll(() => rig?.close());

  it('closes the XMPP stream on B and refuses the still-valid token there; a fresh entry gets in again', async () => {
    const bob = await signIn(a, 'bob', '/staff-weekly');
    expect(bob.final.status).toBe(200);
    const token = new URL(bob.final.url).searchParams.get('jwt')!;
    const xmpp = await ws(b.origin, `/xmpp-websocket?room=staff-weekly&token=${token}`, bob.cookie);
    expect(xmpp.socket).toBeDefined();
    const out = await roomguard(['rooms', 'evict', '--room', 'staff-weekly', '--config', a.configFile]);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('staff-weekly: everyone evicted on every instance');
    await xmpp.closed;
    expect(await ws(b.origin, `/xmpp-websocket?room=staff-weekly&token=${token}`, bob.cookie)).toMatchObject({ status: 403, reason: 'RG_ROOM_EVICTED' });
    expect(await ws(a.origin, `/xmpp-websocket?room=staff-weekly&token=${token}`, bob.cookie)).toMatchObject({ status: 403, reason: 'RG_ROOM_EVICTED' });
    // The room is not locked: loading it again is a new admission with a new token, which passes.
    const back = await bob.browser.follow(`${b.origin}/staff-weekly`);
    expect(back.final.status).toBe(200);
    const fresh = new URL(back.final.url).searchParams.get('jwt')!;
    expect(fresh).not.toBe(token);
    const rejoined = await ws(b.origin, `/xmpp-websocket?room=staff-weekly&token=${fresh}`, bob.cookie);
    expect(rejoined.socket).toBeDefined();
    rejoined.socket!.close();
    const records = await queryAudit(rig.instances[0]!.auditDir, { room: 'staff-weekly', type: 'room.evicted' });
    expect(records).toHaveLength(1);
    expect(records[0]!.actor).toMatchObject({ iss: 'roomguard-cli' });
    expect((records[0]!.actor as { sub: string }).sub).toMatch(/^cli:/);
    expect(records[0]!.details).toMatchObject({ everyone: true, via: 'cli' });
  });

  it('refuses a room name the backend has no path for, and a missing --room', async () => {
    expect(await roomguard(['rooms', 'lock', '--room', 'a/b/c', '--config', a.configFile])).toMatchObject({ code: 2 });
    expect((await roomguard(['rooms', 'lock', '--config', a.configFile])).code).toBe(2);
  });
});

describe('lock and evict with the BBB backend, from the command line', () => {
  const BBB_SECRET = '639259d4-9dd8-4b25-bf01-95f9567eaf4b';
  let bbb: FakeBbb;
  let rig: Rig<ServeProcess, FakeBbb>;
  let a: ServeProcess;
  let b: ServeProcess;
  beforeAll(async () => {
    bbb = await startFakeBbb(BBB_SECRET);
    rig = await startServeRig({
      upstream: bbb, idp: { users: USERS }, instances: [{}, { behindFirst: true }],
      config: { backend: { type: 'bbb', upstream: bbb.url, bbb: { secret: BBB_SECRET, checksum: 'sha256', meetingIdPrefix: 'rg-', joinTtl: '60s' } } },
    });
    [a, b] = rig.instances.map((i) => i.gateway) as [ServeProcess, ServeProcess];
  });
  afterAll(async () => {
    await rig?.close();
    await bbb?.close();
  });

  /** Signs in and stops at the signed join the room page redirects to. */
  async function joinUrlOf(user: string, room: string) {
    const { browser } = await signIn(a, user, '/rooms/other');
    const entry = await browser.request(`${a.origin}/rooms/${room}`);
    expect(entry.status).toBe(302);
    return { browser, join: new URL(entry.headers.get('location')!, a.origin) };
  }

  it('ends the meeting at BBB with a checksum-signed end for everyone, and refuses joins signed before', async () => {
    const { browser, join } = await joinUrlOf('bob', 'staff-weekly');
    expect(bbb.meetings.has('rg-staff-weekly')).toBe(true);
    const out = await roomguard(['rooms', 'evict', '--room', 'staff-weekly', '--config', a.configFile]);
    expect(out.code).toBe(0);
    expect(out.stdout, out.stdout + out.stderr).toContain('(backend: ended)');
    const end = bbb.calls.filter((c) => c.call === 'end');
    expect(end).toHaveLength(1);
    expect(end[0]).toMatchObject({ valid: true });
    expect(end[0]!.params.get('meetingID')).toBe('rg-staff-weekly');
    expect(bbb.meetings.has('rg-staff-weekly')).toBe(false);
    const late = await browser.request(`${b.origin}${join.pathname}${join.search}`);
    expect(late.status).toBe(403);
    expect(await reasonOf(late)).toBe('RG_ROOM_EVICTED');
    expect(bbb.joins.some((j) => j.meetingID === 'rg-staff-weekly')).toBe(false);
    const records = await queryAudit(rig.instances[0]!.auditDir, { room: 'staff-weekly', type: 'room.evicted' });
    expect(records[0]!.details).toMatchObject({ everyone: true, backendEnd: 'ended' });
  });

  it('refuses one evicted person\'s joins and page loads, and a newcomer while locked', async () => {
    const { browser, join } = await joinUrlOf('bob', 'staff-bbb');
    expect((await roomguard(['rooms', 'evict', '--room', 'staff-bbb', '--user', 'bob', '--config', a.configFile])).code).toBe(0);
    // One person: BBB's meeting goes on (no end call for it).
    expect(bbb.calls.filter((c) => c.call === 'end' && c.params.get('meetingID') === 'rg-staff-bbb')).toHaveLength(0);
    expect(await reasonOf(await browser.request(`${b.origin}${join.pathname}${join.search}`))).toBe('RG_ROOM_EVICTED');
    expect(await reasonOf(await browser.request(`${b.origin}/rooms/staff-bbb`))).toBe('RG_ROOM_EVICTED');
    expect((await roomguard(['rooms', 'lock', '--room', 'staff-bbb', '--config', a.configFile])).code).toBe(0);
    const dave = await signIn(a, 'dave', '/rooms/other');
    expect(await reasonOf(await dave.browser.request(`${b.origin}/rooms/staff-bbb`))).toBe('RG_ROOM_LOCKED');
    expect((await roomguard(['rooms', 'unlock', '--room', 'staff-bbb', '--config', a.configFile])).code).toBe(0);
    expect((await dave.browser.request(`${b.origin}/rooms/staff-bbb`)).status).toBe(302);
    expect((await browser.request(`${b.origin}/rooms/staff-bbb`)).status).toBe(302);
  });
});
