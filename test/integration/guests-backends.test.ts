// Guests on the real backends' contracts (issue 10): through a Jitsi gateway the guest gets a token that
// Prosody's rules (test/helpers/prosody.ts) accept for exactly the invited room, without moderator rights
// or lobby bypass, and signalling for any other room is refused; through a BBB gateway the guest's join,
// checked by a BBB API written from bbb-web's rules, is a VIEWER join with guest=true. Real Redis, real IdP.
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { queryAudit } from '../../src/audit/query.js';
import { testKeys } from '../helpers/gateway.js';
import { startRig, type Rig, type RigInstance } from '../helpers/rig.js';
import { startFakeBbb, type FakeBbb } from '../helpers/bbb-server.js';
import { BbbBackend } from '../../src/backends/bbb.js';
import { prosodyAllowsJoin, type ProsodySettings } from '../helpers/prosody.js';
import { createInvitation, joinAsGuest, openInvitesPage } from '../helpers/guests.js';

const JWT_SECRET = 'jitsi-app-secret-shared-with-prosody-0123456789';
const BBB_SECRET = 'bbb-shared-secret-for-guests-0123456789';
const JITSI = { appId: 'roomguard', appSecret: JWT_SECRET, audience: 'jitsi', domain: 'meet.jitsi', tenants: false, tokenTtl: '10m', userFields: ['name', 'email'], features: ['recording'] };
const prosody: ProsodySettings = { appSecret: JWT_SECRET, signatureAlgorithm: 'HS256', acceptedIssuers: ['roomguard'], acceptedAudiences: ['jitsi'], domainVerification: true, domain: 'meet.jitsi' };
const POLICIES = fileURLToPath(new URL('../fixtures/policies-guests', import.meta.url));

let rig: Rig;
let bbb: FakeBbb;
let jitsiOrigin: string;
let bbbOrigin: string;
let jitsiPort: number;
let jitsiAudit: string;

beforeAll(async () => {
  const policiesDir = mkdtempSync(join(tmpdir(), 'rg-guest-backend-policies-'));
  cpSync(POLICIES, policiesDir, { recursive: true });
  bbb = await startFakeBbb(BBB_SECRET);
  // Two deployments (their own keys and store prefix) on one IdP: a Jitsi one and a BBB one.
  rig = await startRig({
    policiesDir,
    instances: [
      { config: { backend: { type: 'jitsi', jitsi: JITSI } } },
      { keys: testKeys(), keyPrefix: `rgguestbbb:${randomUUID()}:`, config: { backend: { type: 'bbb', upstream: bbb.url, bbb: { secret: BBB_SECRET, checksum: 'sha256', meetingIdPrefix: 'rg-', joinTtl: '60s' } } } },
    ],
  });
  const [jitsi, bbbInstance] = rig.instances as [RigInstance, RigInstance];
  ({ origin: jitsiOrigin, port: jitsiPort, auditDir: jitsiAudit } = jitsi);
  bbbOrigin = bbbInstance.origin;
});

afterAll(async () => {
  await rig?.close();
  await bbb?.close();
});

async function guestLink(origin: string, room: string): Promise<string> {
  const { browser, status } = await openInvitesPage(origin, room, 'alice');
  expect(status).toBe(200);
  const created = await createInvitation(browser, origin, room, { uses: '2' });
  expect(created.link).toBeDefined();
  return created.link!;
}

function ws(path: string, cookie: string) {
  const socket = new WebSocket(`ws://127.0.0.1:${jitsiPort}${path}`, { headers: { cookie } });
  return new Promise<{ socket?: WebSocket; status?: number; reason?: string }>((resolve) => {
    socket.once('open', () => resolve({ socket }));
    socket.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0, reason: String(res.headers['x-roomguard-reason'] ?? '') }));
    socket.once('error', () => resolve({ status: -1 }));
  });
}

describe('Jitsi', () => {
  it('a guest gets a token for exactly the invited room: no moderator, marked guest, no lobby bypass, no features', async () => {
    const link = await guestLink(jitsiOrigin, 'town-hall');
    expect(link).toContain('/_roomguard/guest/town-hall?invite=');
    const guest = await joinAsGuest(link, 'Pat');
    expect(guest.hops[0]).toMatchObject({ status: 303, location: '/town-hall' });
    expect(guest.final.status).toBe(200);
    const token = new URL(guest.final.url).searchParams.get('jwt');
    expect(token).toBeTruthy();
    const now = Date.now() / 1000;
    const verdict = prosodyAllowsJoin(token!, prosody, { room: 'town-hall' }, now);
    if (!verdict.ok) throw new Error(verdict.why);
    expect(verdict.moderator).toBe(false);
    const context = (verdict.claims as { context: { user: Record<string, unknown>; features: Record<string, unknown> } }).context;
    expect(context.user).toMatchObject({ name: 'Pat', guest: 'true', moderator: false });
    expect(context.user.email).toBeUndefined();
    expect(context.features).toMatchObject({ lobby_bypass: false, recording: false });
    for (const room of ['open-day', 'board', 'staff-weekly']) expect(prosodyAllowsJoin(token!, prosody, { room }, now).ok, room).toBe(false);

    // The guest's session cannot open another room, by page or by signalling.
    const other = await guest.browser.request(`${jitsiOrigin}/open-day`);
    expect(other.status).toBe(403);
    expect(await other.text()).toContain('RG_GUEST_WRONG_ROOM');
    const cookie = guest.browser.jar.header(new URL(jitsiOrigin))!;
    const own = await ws(`/xmpp-websocket?room=town-hall&token=${token}`, cookie);
    expect(own.socket).toBeDefined();
    own.socket!.close();
    expect(await ws(`/xmpp-websocket?room=open-day&token=${token}`, cookie)).toMatchObject({ status: 403, reason: 'RG_JITSI_NOT_ADMITTED' });

    const records = await queryAudit(jitsiAudit, { room: 'town-hall', type: 'room.decision' });
    expect(records.some((r) => r.outcome === 'allow' && r.role === 'guest' && typeof r.details?.tokenId === 'string')).toBe(true);
  });

  it('members of the room keep their lobby bypass; the moderator stays moderator', async () => {
    const { browser } = await openInvitesPage(jitsiOrigin, 'town-hall', 'alice');
    const res = await browser.follow(`${jitsiOrigin}/town-hall`);
    let final = res.final;
    if (new URL(final.url).pathname === '/_roomguard/notice') {
      const html = await final.text();
      const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
      final = (await browser.follow(`${jitsiOrigin}/_roomguard/notice`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf, room: 'town-hall', returnTo: '/town-hall' }).toString() })).final;
    }
    const token = new URL(final.url).searchParams.get('jwt')!;
    const verdict = prosodyAllowsJoin(token, prosody, { room: 'town-hall' }, Date.now() / 1000);
    if (!verdict.ok) throw new Error(verdict.why);
    expect(verdict.moderator).toBe(true);
    const context = (verdict.claims as { context: { user: Record<string, unknown>; features: Record<string, unknown> } }).context;
    expect(context.features.lobby_bypass).toBe(true);
    expect(context.user.guest).toBeUndefined();
  });
});

describe('BigBlueButton', () => {
  it('a guest joins as VIEWER with guest=true, into the invited meeting only', async () => {
    const link = await guestLink(bbbOrigin, 'town-hall');
    expect(link).toContain('/_roomguard/guest/town-hall?invite=');
    const joinsBefore = bbb.calls.filter((c) => c.call === 'join').length;
    const guest = await joinAsGuest(link, 'Kim');
    expect(guest.hops[0]).toMatchObject({ status: 303, location: '/rooms/town-hall' });
    expect(guest.hops.some((h) => (h.location ?? '').startsWith('/bigbluebutton/api/join?'))).toBe(true);
    const joins = bbb.calls.filter((c) => c.call === 'join').slice(joinsBefore);
    expect(joins).toHaveLength(1);
    expect(joins[0]!.valid).toBe(true);
    expect(joins[0]!.params.get('role')).toBe('VIEWER');
    expect(joins[0]!.params.get('guest')).toBe('true');
    expect(joins[0]!.params.get('fullName')).toBe('Kim');
    expect(joins[0]!.params.get('meetingID')).toBe('rg-town-hall');
    // town-hall has guests.lobby: true, so its meeting was created with BBB's waiting room on.
    const create = bbb.calls.filter((c) => c.call === 'create' && c.params.get('meetingID') === 'rg-town-hall').at(-1)!;
    expect(create.params.get('guestPolicy')).toBe('ASK_MODERATOR');
    const other = await guest.browser.request(`${bbbOrigin}/rooms/open-day`);
    expect(other.status).toBe(403);
    expect(bbb.calls.filter((c) => c.call === 'join').length).toBe(joinsBefore + 1);
  });

  it('creates a meeting with a lobby as guestPolicy=ASK_MODERATOR, and leaves the server default alone without guests', async () => {
    const backend = new BbbBackend({ upstream: new URL(bbb.url), secret: BBB_SECRET, checksum: 'sha256', meetingIdPrefix: 'rg-', joinTtlMs: 60_000 });
    const created = (meetingID: string) => bbb.calls.filter((c) => c.call === 'create' && c.params.get('meetingID') === meetingID).at(-1)!;
    await backend.create('lobby-room', undefined, false, 'policies/town-hall.yaml', { guestLobby: true });
    await backend.create('open-room', undefined, false, 'policies/open-day.yaml', { guestLobby: false });
    await backend.create('plain-room', undefined, false, 'policies/staff.yaml');
    expect(created('rg-lobby-room')).toMatchObject({ valid: true });
    expect(created('rg-lobby-room').params.get('guestPolicy')).toBe('ASK_MODERATOR');
    expect(created('rg-open-room').params.get('guestPolicy')).toBe('ALWAYS_ACCEPT');
    expect(created('rg-plain-room').params.has('guestPolicy')).toBe(false);
  });
});
