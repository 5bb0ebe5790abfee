// Time-boxed rooms (issue 20 §2) through the real gateway with real Redis, the real IdP and the generic,
// Jitsi and BBB backends: outside its times a room refuses with RG_ROOM_NOT_OPEN and a page saying when
// it opens next; at its end plus closeGrace the admitted WebSockets close and tokens and joins for the
// room are refused. The gateway's clock is moved (`now`), never waited for.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { queryAudit } from '../../src/audit/query.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import { startRig, type Rig } from '../helpers/rig.js';
import { startFakeBbb, type FakeBbb } from '../helpers/bbb-server.js';

const MIN = 60_000;
const HTML = { accept: 'text/html' };
const T0 = Date.now();
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 16) + 'Z';

/**
 * exam: open from half an hour ago until four to five minutes from now (the end is a whole minute), no grace, so
 * moving the clock six minutes closes it while a ten-minute token is still valid; starting the rig under load
 * never outlasts it;
 * later: opens in two hours (with 15 minutes opensBefore), written in Berlin time.
 */
function schedulePolicies(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rg-schedule-'));
  writeFileSync(join(dir, 'exam.yaml'), ['rooms: [exam]', 'allow:', '  - groups: [staff]', 'schedule:', '  timeZone: Europe/Berlin', `  windows: ["${iso(T0 - 30 * MIN)}/${iso(T0 + 5 * MIN)}"]`, ''].join('\n'));
  writeFileSync(join(dir, 'later.yaml'), ['rooms: [later]', 'allow:', '  - groups: [staff]', 'schedule:', '  timeZone: Europe/Berlin', `  windows: ["${iso(T0 + 2 * 60 * MIN)}/PT1H"]`, '  opensBefore: 15m', ''].join('\n'));
  writeFileSync(join(dir, 'open.yaml'), ['rooms: [open]', 'allow:', '  - groups: [staff]', ''].join('\n'));
  return dir;
}
const opensAtOfLater = Date.parse(iso(T0 + 2 * 60 * MIN)) - 15 * MIN;

let offset = 0;
const clock = { now: () => Date.now() + offset };

function ws(port: number, path: string, cookie: string) {
  const socket = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers: { cookie } });
  return new Promise<{ socket?: WebSocket; status?: number; reason?: string }>((resolve) => {
    socket.once('open', () => resolve({ socket }));
    socket.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0, reason: String(res.headers['x-roomguard-reason'] ?? '') }));
    socket.once('error', () => resolve({ status: -1 }));
  });
}

function closed(socket: WebSocket): Promise<void> {
  return new Promise((resolve) => (socket.readyState === WebSocket.CLOSED ? resolve() : socket.once('close', () => resolve())));
}

async function signIn(origin: string, path: string, user = 'bob') {
  const browser = new ScriptedBrowser(HTML);
  let result = await browser.follow(`${origin}${path}`);
  if (new URL(result.final.url).origin !== origin) result = await browser.submitLogin(result.final, user, 'demo');
  return { browser, result, cookie: browser.jar.header(new URL(origin))! };
}

describe('a time-boxed room with the generic backend', () => {
  let rig: Rig;
  beforeAll(async () => {
    offset = 0;
    rig = await startRig({ policiesDir: schedulePolicies(), gateway: clock });
  });
  afterAll(() => rig?.close());

  it('refuses a room before its time with RG_ROOM_NOT_OPEN and says when it opens, for the reader\'s own zone', async () => {
    const { result } = await signIn(rig.origin, '/rooms/later');
    expect(result.final.status).toBe(403);
    const page = await result.final.text();
    expect(page).toContain('RG_ROOM_NOT_OPEN');
    // Written in the schedule's zone, with the instant for the page's script to show in the reader's zone.
    expect(page).toContain(`<time data-local datetime="${new Date(opensAtOfLater).toISOString()}">`);
    expect(page).toContain('(Europe/Berlin)</time>');
    expect(page).toMatch(/<script nonce="[^"]+" src="\/_roomguard\/assets\/local-time.js"><\/script>/);
    const script = await fetch(`${rig.origin}/_roomguard/assets/local-time.js`);
    expect(script.status).toBe(200);
    expect(await script.text()).toContain('resolvedOptions().timeZone');
    await expect.poll(async () => (await queryAudit(rig.auditDir, { room: 'later', type: 'room.decision' })).some((r) => r.outcome === 'deny' && r.reason === 'RG_ROOM_NOT_OPEN'), { timeout: 10_000 }).toBe(true);
  });

  it('says it in German to a German reader', async () => {
    const { browser } = await signIn(rig.origin, '/rooms/open');
    const res = await browser.request(`${rig.origin}/rooms/later?lang=de`, { headers: { ...HTML, 'accept-language': 'de' } });
    expect(res.status).toBe(403);
    const page = await res.text();
    expect(page).toContain('Er öffnet das nächste Mal:');
    expect(page).toContain('RG_ROOM_NOT_OPEN');
  });

  it('admits while open, then closes the WebSocket at the end and refuses the room', async () => {
    offset = 0;
    const { result, cookie } = await signIn(rig.origin, '/rooms/exam');
    expect(result.final.status).toBe(200);
    const inRoom = await ws(rig.port, '/rooms/exam', cookie);
    const elsewhere = await ws(rig.port, '/rooms/open', cookie);
    expect(inRoom.socket).toBeDefined();
    expect(elsewhere.socket).toBeDefined();
    offset = 6 * MIN;
    await closed(inRoom.socket!);
    // The same session's socket in a room without a schedule stays open.
    expect(elsewhere.socket!.readyState).toBe(WebSocket.OPEN);
    elsewhere.socket!.close();
    expect(await ws(rig.port, '/rooms/exam', cookie)).toMatchObject({ status: 403, reason: 'RG_ROOM_NOT_OPEN' });
    const again = await fetch(`${rig.origin}/rooms/exam`, { headers: { ...HTML, cookie } });
    expect(again.status).toBe(403);
    // After the last window the page says no further times are scheduled.
    expect(await again.text()).toContain('No further times are scheduled.');
    offset = 0;
  });
});

describe('a time-boxed room with the Jitsi backend', () => {
  const JITSI = { appId: 'roomguard', appSecret: 'jitsi-app-secret-shared-with-prosody-0123456789', audience: 'jitsi', domain: 'meet.jitsi', tenants: false, tokenTtl: '10m', userFields: ['name'], features: [] };
  let rig: Rig;
  beforeAll(async () => {
    offset = 0;
    rig = await startRig({ policiesDir: schedulePolicies(), config: { backend: { type: 'jitsi', jitsi: JITSI } }, gateway: clock });
  });
  afterAll(() => rig?.close());

  it('closes the XMPP WebSocket at the end and refuses the room\'s token afterwards, while the token still lives', async () => {
    offset = 0;
    const { result, cookie } = await signIn(rig.origin, '/exam');
    expect(result.final.status).toBe(200);
    const token = new URL(result.final.url).searchParams.get('jwt')!;
    expect(token).toBeTruthy();
    const xmpp = await ws(rig.port, `/xmpp-websocket?room=exam&token=${token}`, cookie);
    expect(xmpp.socket).toBeDefined();
    offset = 6 * MIN;
    await closed(xmpp.socket!);
    // The token is ten minutes long, but the room is over: refused at the gate.
    expect(await ws(rig.port, `/xmpp-websocket?room=exam&token=${token}`, cookie)).toMatchObject({ status: 403, reason: 'RG_ROOM_NOT_OPEN' });
    const bosh = await fetch(`${rig.origin}/http-bind?room=exam&token=${token}`, { method: 'POST', headers: { cookie } });
    expect(bosh.status).toBe(403);
    // The refusal's record is written without holding up the answer: wait for it.
    await expect.poll(async () => (await queryAudit(rig.auditDir, { type: 'room.decision' })).some((r) => r.outcome === 'deny' && r.reason === 'RG_ROOM_NOT_OPEN' && r.details?.room === 'exam'), { timeout: 10_000 }).toBe(true);
    offset = 0;
  });

  it('refuses a page load into the room before it opens, minting no token', async () => {
    const { result } = await signIn(rig.origin, '/later');
    expect(result.final.status).toBe(403);
    expect(result.hops.some((h) => h.url.searchParams.has('jwt'))).toBe(false);
  });
});

describe('a time-boxed room with the BBB backend', () => {
  const BBB_SECRET = '639259d4-9dd8-4b25-bf01-95f9567eaf4b';
  let bbb: FakeBbb;
  let rig: Rig<import('../../src/gateway/server.js').Gateway, FakeBbb>;
  beforeAll(async () => {
    offset = 0;
    bbb = await startFakeBbb(BBB_SECRET);
    rig = await startRig({
      upstream: bbb, policiesDir: schedulePolicies(), gateway: clock,
      config: { backend: { type: 'bbb', upstream: bbb.url, bbb: { secret: BBB_SECRET, checksum: 'sha256', meetingIdPrefix: 'rg-', joinTtl: '10m' } } },
    });
  });
  afterAll(async () => {
    await rig?.close();
    await bbb?.close();
  });

  it('refuses a join signed while the room was open once the room has closed, and a page load before it opens', async () => {
    offset = 0;
    const browser = new ScriptedBrowser(HTML);
    const start = await browser.follow(`${rig.origin}/rooms/open`);
    await browser.submitLogin(start.final, 'bob', 'demo');
    // Stop at the signed join: the gateway's answer to the room page is the redirect to it.
    const entry = await browser.request(`${rig.origin}/rooms/exam`);
    expect(entry.status).toBe(302);
    const joinUrl = new URL(entry.headers.get('location')!, rig.origin);
    expect(joinUrl.pathname).toBe('/bigbluebutton/api/join');
    expect(bbb.meetings.has('rg-exam')).toBe(true);
    offset = 6 * MIN;
    const late = await browser.request(joinUrl.href);
    expect(late.status).toBe(403);
    expect(await late.text()).toContain('RG_ROOM_NOT_OPEN');
    expect(bbb.joins.some((j) => j.meetingID === 'rg-exam')).toBe(false);
    // BBB's own connections do not name the room to the gateway: at the close the meeting is ended at BBB, once.
    await expect.poll(() => bbb.meetings.has('rg-exam'), { timeout: 10_000 }).toBe(false);
    const ends = bbb.calls.filter((c) => c.call === 'end');
    expect(ends).toHaveLength(1);
    expect(ends[0]).toMatchObject({ valid: true });
    await expect.poll(async () => (await queryAudit(rig.auditDir, { room: 'exam', type: 'room.evicted' })).map((r) => r.details), { timeout: 10_000 }).toEqual([expect.objectContaining({ everyone: true, by: 'schedule', backendEnd: 'ended' })]);
    offset = 0;
    const before = await browser.request(`${rig.origin}/rooms/later`);
    expect(before.status).toBe(403);
    expect(bbb.meetings.has('rg-later')).toBe(false);
  });
});
