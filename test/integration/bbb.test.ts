// The BBB backend against an API server written from bbb-web's rules (test/helpers/bbb-server.ts):
// checksums, idempotent create, join with the policy's role, single-use short-lived join URLs, the
// server API closed to browsers, and an audit record for every admission.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway/server.js';
import { queryAudit } from '../../src/audit/query.js';
import { enterRoom, ScriptedBrowser } from '../helpers/browser.js';
import { rawTargetRequest } from '../helpers/raw-http.js';
import { startRig, type Rig } from '../helpers/rig.js';
import { startFakeBbb, type FakeBbb } from '../helpers/bbb-server.js';

const BBB_SECRET = '639259d4-9dd8-4b25-bf01-95f9567eaf4b';
const HTML = { accept: 'text/html' };

let rig: Rig<Gateway, FakeBbb>;
let bbb: FakeBbb;
let gateway: Gateway;
let origin: string;
let auditDir: string;
let offset = 0;

beforeAll(async () => {
  bbb = await startFakeBbb(BBB_SECRET);
  rig = await startRig({
    upstream: bbb,
    config: { backend: { type: 'bbb', upstream: bbb.url, bbb: { secret: BBB_SECRET, checksum: 'sha256', meetingIdPrefix: 'rg-', joinTtl: '60s' } } },
    gateway: { now: () => Date.now() + offset },
  });
  ({ gateway, origin, auditDir } = rig);
});

afterAll(async () => {
  await rig?.close();
  await bbb?.close();
});

/** Logs in at /rooms/<room>, acknowledges a notice if shown, stops at the signed join URL. */
async function admission(user: string, room: string, browser = new ScriptedBrowser(HTML)) {
  const { final, hops } = await enterRoom(origin, `/rooms/${room}`, room, user, browser);
  const joinHop = hops.find((h) => h.url.pathname === '/bigbluebutton/api/join');
  return { browser, final, joinUrl: joinHop?.url };
}

describe('BBB admission', () => {
  it('creates the meeting without recording and joins bob as VIEWER through a URL the server accepts', async () => {
    const { final, joinUrl } = await admission('bob', 'staff-weekly');
    expect(joinUrl).toBeDefined();
    expect(final.status).toBe(200);
    expect(new URL(final.url).pathname).toBe('/html5client/join');
    expect(bbb.meetings.get('rg-staff-weekly')).toMatchObject({ record: 'false' });
    expect(bbb.calls.filter((c) => c.call === 'join').every((c) => c.valid)).toBe(true);
    expect(bbb.joins.at(-1)).toMatchObject({ meetingID: 'rg-staff-weekly', role: 'VIEWER', fullName: 'Bob Example' });
    expect(bbb.joins.at(-1)!.userID).not.toContain('bob');
  });

  it('joins alice as MODERATOR, and a second admission reuses the same meeting', async () => {
    await admission('alice', 'town-hall');
    await admission('alice', 'town-hall');
    const joins = bbb.joins.filter((j) => j.meetingID === 'rg-town-hall');
    expect(joins.map((j) => j.role)).toEqual(['MODERATOR', 'MODERATOR']);
    expect(new Set(bbb.calls.filter((c) => c.call === 'join' && c.params.get('meetingID') === 'rg-town-hall').map((c) => c.params.get('createTime'))).size).toBe(1);
    const records = await queryAudit(auditDir, { room: 'town-hall', type: 'room.decision', outcome: 'allow' });
    expect(records.length).toBeGreaterThanOrEqual(2);
    expect(records.every((r) => r.details?.meetingID === 'rg-town-hall')).toBe(true);
  });

  it('accepts a join URL once: a replay is refused before it reaches BBB', async () => {
    const browser = new ScriptedBrowser(HTML);
    const first = await admission('bob', 'staff-weekly', browser);
    const before = bbb.calls.length;
    const replay = await browser.request(first.joinUrl!);
    expect(replay.status).toBe(403);
    expect(await replay.text()).toContain('RG_BBB_JOIN_INVALID');
    expect(bbb.calls.length).toBe(before);
  });

  it('refuses a join URL after its lifetime, in another session, or with a changed role', async () => {
    const browser = new ScriptedBrowser(HTML);
    await admission('bob', 'staff-weekly', browser);
    // Stop at the signed URL without using it.
    const fresh = await browser.request(`${origin}/rooms/staff-weekly`);
    const signed = new URL(fresh.headers.get('location')!, origin);
    const escalated = new URL(signed.href.replace('role=VIEWER', 'role=MODERATOR'));
    expect((await browser.request(escalated)).status).toBe(403);
    const other = await admission('carol', 'town-hall');
    expect((await other.browser.request(signed)).status).toBe(403);
    const late = await browser.request(`${origin}/rooms/staff-weekly`);
    const lateUrl = new URL(late.headers.get('location')!, origin);
    offset = 61_000;
    try {
      expect((await browser.request(lateUrl)).status).toBe(403);
    } finally {
      offset = 0;
    }
  });

  it('refuses another session (a guest-less stranger) every servlet spelling of a leaked join URL, and it stays single-use', async () => {
    const browser = new ScriptedBrowser(HTML);
    await admission('bob', 'staff-weekly', browser);
    const fresh = await browser.request(`${origin}/rooms/staff-weekly`);
    const signed = new URL(fresh.headers.get('location')!, origin);
    const query = signed.search;
    const stranger = await admission('carol', 'town-hall');
    const before = bbb.calls.length;
    // What bbb-web's servlet container would route to /bigbluebutton/api/join: path parameters in any
    // segment, case and full-width variants, trailing slash or suffix, doubled slashes, dot segments.
    for (const path of [
      '/bigbluebutton;x/api/join', '/bigbluebutton/api;x/join', '/bigbluebutton/api/join;x', '/bigbluebutton;/api;/join', '/bigbluebutton%3bx/api/join',
      '/BigBlueButton/api/join', '/bigbluebutton/API/join', '/bigbluebutton/api/JOIN', '/bigbluebutton/api/join/', '/bigbluebutton/api/join.json',
      '/bigbluebutton//api/join', '/bigbluebutton/./api/join', '/x/../bigbluebutton/api/join', '/%EF%BD%82igbluebutton/api/join',
    ]) {
      // Byte for byte: fetch would resolve the dot segments before sending.
      const res = await rawTargetRequest(Number(new URL(origin).port), `${path}${query}`, { cookie: `roomguard_session=${stranger.browser.jar.get('roomguard_session')!.value}` });
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.status, path).toBeLessThan(500);
    }
    expect(bbb.calls.length).toBe(before);
    // Bob's own plain join still works once: none of the attempts spent it, and BBB accepts it.
    const used = await browser.request(signed);
    expect(used.status).toBe(302);
    expect(bbb.calls.length).toBe(before + 1);
    expect((await browser.request(signed)).status).toBe(403);
  });

  it('never contacts BBB for a denied room', async () => {
    const before = bbb.calls.length;
    const carol = await admission('carol', 'staff-weekly');
    expect(carol.final.status).toBe(403);
    expect(carol.joinUrl).toBeUndefined();
    expect(bbb.calls.slice(before).filter((c) => c.params.get('meetingID') === 'rg-staff-weekly')).toEqual([]);
  });

  it('keeps the server API away from browsers, signed or not', async () => {
    const { browser } = await admission('bob', 'staff-weekly');
    const before = bbb.calls.length;
    for (const call of ['create?meetingID=x&checksum=abc', 'getMeetings', 'end?meetingID=rg-staff-weekly', 'getRecordings', 'deleteRecordings?recordID=1']) {
      const res = await browser.request(`${origin}/bigbluebutton/api/${call}`);
      expect(res.status).toBe(403);
    }
    expect(bbb.calls.length).toBe(before);
    // Other spellings of the API path are refused or normalised before they could pass as "not a room".
    expect((await browser.request(`${origin}/BIGBLUEBUTTON/api/create?x=1`)).status).toBe(403);
    expect((await browser.request(`${origin}/bigbluebutton/API/getMeetings`)).status).toBe(403);
    const encoded = await browser.request(`${origin}/bigbluebutton/%61pi/join?meetingID=x`);
    expect(encoded.status).toBe(302);
    expect((await browser.request(new URL(encoded.headers.get('location')!, origin))).status).toBe(403);
    expect(bbb.calls.length).toBe(before);
    // The client's own calls need a session and pass.
    expect((await browser.request(`${origin}/bigbluebutton/api/enter?sessionToken=t1`)).status).toBe(200);
    expect((await fetch(`${origin}/bigbluebutton/api/enter?sessionToken=t1`, { redirect: 'manual' })).status).toBe(302);
  });
});
