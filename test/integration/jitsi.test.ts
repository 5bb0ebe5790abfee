// The Jitsi backend end to end with real components: real Redis, the real oidc-provider IdP, a real
// HTTP + WebSocket upstream standing in for Jitsi's web container (it records what reaches it), and the
// real audit log. Tokens are checked with a verifier written from Prosody's contract.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { STANZA_BYTES_LIMIT } from '../../src/backends/xmpp-stanzas.js';
import { JitsiBackend } from '../../src/backends/jitsi.js';
import { queryAudit } from '../../src/audit/query.js';
import { enterRoom, ScriptedBrowser } from '../helpers/browser.js';
import type { EchoUpstream } from '../helpers/upstream.js';
import { startRig, type Rig } from '../helpers/rig.js';
import { prosodyAllowsJoin, type ProsodySettings } from '../helpers/prosody.js';

const JWT_SECRET = 'jitsi-app-secret-shared-with-prosody-0123456789';
const JITSI = { appId: 'roomguard', appSecret: JWT_SECRET, audience: 'jitsi', domain: 'meet.jitsi', tenants: false, tokenTtl: '10m', userFields: ['name', 'email'], features: ['recording'] };
const prosody: ProsodySettings = { appSecret: JWT_SECRET, signatureAlgorithm: 'HS256', acceptedIssuers: ['roomguard'], acceptedAudiences: ['jitsi'], domainVerification: true, domain: 'meet.jitsi' };
const HTML = { accept: 'text/html' };

let rig: Rig;
let upstream: EchoUpstream;
let origin: string;
let port: number;
let auditDir: string;

beforeAll(async () => {
  rig = await startRig({ config: { backend: { type: 'jitsi', jitsi: JITSI } } });
  ({ upstream, origin, port, auditDir } = rig);
});

afterAll(async () => {
  await rig?.close();
});

/** Logs in, acknowledges the room notice if there is one, and follows the admission redirect. */
async function enter(user: string, room: string, browser = new ScriptedBrowser(HTML)) {
  const { final } = await enterRoom(origin, `/${room}`, room, user, browser);
  const token = new URL(final.url).searchParams.get('jwt') ?? undefined;
  return { browser, final, token };
}

function ws(path: string, cookie: string) {
  const socket = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers: { cookie } });
  return new Promise<{ socket?: WebSocket; status?: number; reason?: string }>((resolve) => {
    socket.once('open', () => resolve({ socket }));
    socket.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0, reason: String(res.headers['x-roomguard-reason'] ?? '') }));
    socket.once('error', () => resolve({ status: -1 }));
  });
}

describe('Jitsi admission', () => {
  it('admits alice to town-hall with a token for exactly that room, moderator, recorded in the audit log', async () => {
    const { final, token } = await enter('alice', 'town-hall');
    expect(final.status).toBe(200);
    expect(token).toBeDefined();
    const seen = (await final.json()) as { url: string };
    expect(seen.url).toBe(`/town-hall?jwt=${token}`);
    const verdict = prosodyAllowsJoin(token!, prosody, { room: 'town-hall' }, Date.now() / 1000);
    expect(verdict).toMatchObject({ ok: true, moderator: true });
    expect(prosodyAllowsJoin(token!, prosody, { room: 'board' }, Date.now() / 1000)).toMatchObject({ ok: false });
    if (!verdict.ok) throw new Error(verdict.why);
    const claims = verdict.claims as { context: { user: Record<string, unknown>; features: Record<string, boolean> } };
    expect(claims.context.user).toMatchObject({ name: 'Alice Example', email: 'alice@example.org', moderator: true });
    // town-hall's policy does not switch recording on, so the token does not either.
    expect(claims.context.features.recording).toBe(false);

    const records = await queryAudit(auditDir, { room: 'town-hall', type: 'room.decision' });
    expect(records.some((r) => r.outcome === 'allow' && r.actor && 'sub' in r.actor && r.actor.sub === 'alice' && typeof r.details?.tokenId === 'string')).toBe(true);
  });

  it('never trusts a ?jwt= the browser brings: a token not issued to this session is replaced', async () => {
    const { browser } = await enter('bob', 'town-hall');
    const foreign = await new JitsiBackend({ ...JITSI, tokenTtlMs: 600_000 }).mint({ judgedRoom: 'town-hall', identity: { sub: 'mallory', iss: 'x', emailVerified: false, groups: [] }, role: 'moderator', features: [], now: Date.now() });
    const res = await browser.request(`${origin}/town-hall?jwt=${foreign.token}`);
    expect(res.status).toBe(302);
    const replaced = new URL(res.headers.get('location')!, origin).searchParams.get('jwt');
    expect(replaced).not.toBe(foreign.token);
    expect(prosodyAllowsJoin(replaced!, prosody, { room: 'town-hall' }, Date.now() / 1000)).toMatchObject({ ok: true, moderator: false });
  });

  it('gives a denied person no token and nothing reaches Jitsi', async () => {
    const browser = new ScriptedBrowser(HTML);
    const start = await browser.follow(`${origin}/staff-weekly`);
    const before = upstream.arrived.length;
    const done = await browser.submitLogin(start.final, 'carol', 'demo');
    expect(done.final.status).toBe(403);
    expect(done.hops.some((h) => (h.location ?? '').includes('jwt='))).toBe(false);
    expect(upstream.arrived.length).toBe(before);
  });

  it('serves Jitsi\'s static files without login and redirects non-canonical room spellings', async () => {
    expect((await fetch(`${origin}/libs/app.bundle.min.js`)).status).toBe(200);
    // Files only: nothing would read a WebSocket or a request body there, so neither passes.
    const before = upstream.arrived.length;
    expect(await ws('/libs/app.bundle.min.js', '')).toMatchObject({ status: 400, reason: 'RG_REQUEST_INVALID' });
    expect(await ws('/favicon.ico', '')).toMatchObject({ status: 400, reason: 'RG_REQUEST_INVALID' });
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) expect((await fetch(`${origin}/css/all.css`, { method, body: method === 'DELETE' ? null : '<body/>' })).status).toBe(400);
    expect((await fetch(`${origin}/images/logo.svg`, { method: 'OPTIONS' })).status).toBe(200);
    expect(upstream.arrived.slice(before).map((a) => a.method)).toEqual(['OPTIONS']);
    const res = await fetch(`${origin}/Town%20Hall`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/town%20hall');
  });
});

describe('signalling gate', () => {
  it('bounds a WebSocket message at the socket: far over the stanza limit it is closed with 1009, never buffered whole or forwarded', async () => {
    const alice = await enter('alice', 'town-hall');
    const cookie = alice.browser.jar.header(new URL(origin))!;
    const big = async (bytes: number) => {
      const { socket } = await ws(`/xmpp-websocket?room=town-hall&token=${alice.token}`, cookie);
      const received: string[] = [];
      socket!.on('message', (d) => received.push(d.toString()));
      const closed = new Promise<number>((resolve) => socket!.once('close', (code) => resolve(code)));
      socket!.send(`<presence xmlns="jabber:client" to="town-hall@conference.meet.jitsi/a"><status>${'x'.repeat(bytes)}</status></presence>`);
      return { code: await closed, received };
    };
    const before = upstream.arrived.length;
    // Just over the stanza limit: still read, refused with an XMPP stream error and a normal close.
    const over = await big(STANZA_BYTES_LIMIT + 1024);
    expect(over.code).toBe(1000);
    expect(over.received.join('')).toContain('policy-violation');
    // Far over: the WebSocket server stops it as the frame arrives (1009, Message Too Big).
    const far = await big(2 * 1024 * 1024);
    expect(far.code).toBe(1009);
    expect(far.received.some((m) => m.startsWith('echo:'))).toBe(false);
    expect(upstream.arrived.slice(before).filter((a) => a.method !== 'WS')).toEqual([]);
    // Refused by the WebSocket library before any stanza was read, and audited all the same.
    await expect.poll(async () => (await queryAudit(auditDir, { type: 'room.decision', outcome: 'deny' }))
      .some((r) => r.reason === 'RG_REQUEST_INVALID' && r.details?.websocketError === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH')).toBe(true);
  });

  it('answers the room information (who is in the room) only for a room this session was admitted to', async () => {
    const alice = await enter('alice', 'town-hall');
    const before = upstream.arrived.length;
    expect((await alice.browser.request(`${origin}/_api/room-info?room=town-hall`)).status).toBe(200);
    for (const query of ['room=board', 'room=Town-Hall', 'room=town-hall&room=board', '']) {
      expect((await alice.browser.request(`${origin}/_api/room-info?${query}`)).status, query).toBe(403);
    }
    expect((await alice.browser.request(`${origin}/_api/room-info?room=town-hall`, { method: 'POST', body: '{}' })).status).toBe(400);
    expect((await alice.browser.request(`${origin}/favicon.ico/_api/room-info?room=board`)).status).toBe(403);
    // Without a session: no answer either.
    expect((await fetch(`${origin}/_api/room-info?room=town-hall`, { redirect: 'manual' })).status).not.toBe(200);
    expect(upstream.arrived.slice(before).map((a) => `${a.method} ${a.url}`)).toEqual(['GET /_api/room-info?room=town-hall']);
  });

  it('takes a WebSocket only on /xmpp-websocket (read) and the videobridge\'s /colibri-ws/…: anywhere else it would be relayed unread', async () => {
    const alice = await enter('alice', 'town-hall');
    const cookie = alice.browser.jar.header(new URL(origin))!;
    const before = upstream.arrived.length;
    for (const path of ['/', '/town-hall', '/config.js', '/external_api.js', '/_unlock', '/.well-known/x', '/_api/room-info?room=town-hall', '/_api/public/x']) {
      expect(await ws(path, cookie), path).toMatchObject({ status: 400, reason: 'RG_REQUEST_INVALID' });
    }
    expect(upstream.arrived.slice(before)).toEqual([]);
    const bridge = await ws('/colibri-ws/jvb1/endpoint-1?pwd=x', cookie);
    expect(bridge.socket).toBeDefined();
    bridge.socket!.close();
    // Without a session the bridge's path is refused like every path that needs one.
    expect((await ws('/colibri-ws/jvb1/endpoint-1?pwd=x', '')).status).toBeGreaterThanOrEqual(300);
  });

  it('closes a WebSocket that sends text which is not UTF-8 (1007), forwards nothing of it, and audits the refusal', async () => {
    const alice = await enter('alice', 'town-hall');
    const cookie = alice.browser.jar.header(new URL(origin))!;
    const { socket } = await ws(`/xmpp-websocket?room=town-hall&token=${alice.token}`, cookie);
    const closed = new Promise<number>((resolve) => socket!.once('close', (code) => resolve(code)));
    const from = upstream.messages.length;
    const stanza = Buffer.from('<presence xmlns="jabber:client" to="town-hall@conference.meet.jitsi/a"><status>\xff</status></presence>', 'latin1');
    socket!.send(stanza, { binary: false });
    expect(await closed).toBe(1007);
    expect(upstream.messages.slice(from)).toEqual([]);
    await expect.poll(async () => (await queryAudit(auditDir, { type: 'room.decision', outcome: 'deny' }))
      .some((r) => r.reason === 'RG_REQUEST_INVALID' && r.details?.websocketError === 'WS_ERR_INVALID_UTF8')).toBe(true);
  });

  it('relays the messages of one burst that come before a refused one, and nothing from it on', async () => {
    const alice = await enter('alice', 'town-hall');
    const cookie = alice.browser.jar.header(new URL(origin))!;
    const { socket } = await ws(`/xmpp-websocket?room=town-hall&token=${alice.token}`, cookie);
    const received: string[] = [];
    socket!.on('message', (d) => received.push(d.toString()));
    // The upstream reports the handshake first: from then on the relay's upstream connection is open.
    await expect.poll(() => received.length).toBeGreaterThan(0);
    const closed = new Promise<number>((resolve) => socket!.once('close', (code) => resolve(code)));
    const from = upstream.messages.length;
    const chat = (n: number) => `<message xmlns="jabber:client" to="town-hall@conference.meet.jitsi" type="groupchat"><body>${n}</body></message>`;
    const hop = '<presence xmlns="jabber:client" to="board@conference.meet.jitsi/a"/>';
    // Four messages in one write, so that roomguard reads them together.
    const raw = (socket as unknown as { _socket: import('node:net').Socket })._socket;
    raw.cork();
    for (const message of [chat(1), chat(2), hop, chat(3)]) socket!.send(message);
    raw.uncork();
    expect(await closed).toBe(1000);
    expect(received.join('')).toContain('policy-violation');
    await expect.poll(() => upstream.messages.slice(from)).toEqual([chat(1), chat(2)]);
    // Still so a moment later: the refused message and the one after it never arrive.
    await new Promise((r) => setTimeout(r, 200));
    expect(upstream.messages.slice(from)).toEqual([chat(1), chat(2)]);
  });

  it('lets the admitted room\'s signalling through and refuses room hopping over WebSocket, BOSH and conference requests', async () => {
    const alice = await enter('alice', 'town-hall');
    const staff = await enter('alice', 'staff-weekly', alice.browser);
    const cookie = alice.browser.jar.header(new URL(origin))!;
    const before = upstream.arrived.length;

    const ok = await ws(`/xmpp-websocket?room=town-hall&token=${alice.token}`, cookie);
    expect(ok.socket).toBeDefined();
    ok.socket!.close();

    const hop = await ws(`/xmpp-websocket?room=board&token=${alice.token}`, cookie);
    expect(hop).toMatchObject({ status: 403, reason: 'RG_JITSI_NOT_ADMITTED' });
    const hopNoToken = await ws('/xmpp-websocket?room=board', cookie);
    expect(hopNoToken).toMatchObject({ status: 403, reason: 'RG_JITSI_NOT_ADMITTED' });
    // Even for the admitted room, an XMPP connection without its token is refused.
    expect(await ws('/xmpp-websocket?room=town-hall', cookie)).toMatchObject({ status: 403, reason: 'RG_JITSI_TOKEN_INVALID' });
    // A second room (or token) parameter, which the backend might read instead of the first.
    expect(await ws(`/xmpp-websocket?room=town-hall&room=board&token=${alice.token}`, cookie)).toMatchObject({ status: 403, reason: 'RG_JITSI_NOT_ADMITTED' });
    expect(await ws(`/xmpp-websocket?room=town-hall&token=${alice.token}&token=x`, cookie)).toMatchObject({ status: 403 });
    // A room she was admitted to, but with the other room's token.
    const swapped = await ws(`/xmpp-websocket?room=staff-weekly&token=${alice.token}`, cookie);
    expect(swapped).toMatchObject({ status: 403, reason: 'RG_JITSI_TOKEN_INVALID' });
    expect((await ws(`/xmpp-websocket?room=staff-weekly&token=${staff.token}`, cookie)).socket).toBeDefined();

    const bosh = await alice.browser.request(`${origin}/http-bind?room=board`, { method: 'POST', body: '<body/>', headers: { 'content-type': 'text/xml' } });
    expect(bosh.status).toBe(403);
    const conf = await alice.browser.request(`${origin}/conference-request/v1?room=board`, { method: 'POST', body: '{"room":"board@conference.meet.jitsi"}', headers: { 'content-type': 'application/json' } });
    expect(conf.status).toBe(403);
    const confOk = await alice.browser.request(`${origin}/conference-request/v1?room=town-hall`, { method: 'POST', body: '{"room":"town-hall@conference.meet.jitsi"}', headers: { 'content-type': 'application/json' } });
    expect(confOk.status).toBe(200);

    const reached = upstream.arrived.slice(before).map((a) => a.url);
    expect(reached.every((url) => !url.includes('room=board'))).toBe(true);
    expect(reached.some((url) => url.startsWith('/xmpp-websocket?room=town-hall'))).toBe(true);
  });

  it.each(['constructor', '__proto__'])('refuses ?room=%s, a name every plain object seems to hold, over WebSocket, BOSH and conference requests', async (room) => {
    const alice = await enter('alice', 'town-hall');
    const cookie = alice.browser.jar.header(new URL(origin))!;
    const before = upstream.arrived.length;
    expect(await ws(`/xmpp-websocket?room=${room}&token=${alice.token}`, cookie)).toMatchObject({ status: 403, reason: 'RG_JITSI_NOT_ADMITTED' });
    expect(await ws(`/xmpp-websocket?room=${room}`, cookie)).toMatchObject({ status: 403, reason: 'RG_JITSI_NOT_ADMITTED' });
    const bosh = await alice.browser.request(`${origin}/http-bind?room=${room}`, { method: 'POST', body: '<body/>', headers: { 'content-type': 'text/xml' } });
    expect(bosh.status).toBe(403);
    const conf = await alice.browser.request(`${origin}/conference-request/v1?room=${room}`, { method: 'POST', body: JSON.stringify({ room: `${room}@conference.meet.jitsi` }), headers: { 'content-type': 'application/json' } });
    expect(conf.status).toBe(403);
    expect(upstream.arrived.slice(before).map((a) => a.url)).toEqual([]);
  });

  describe('conference requests: Jicofo reads the room from the body', () => {
    const post = (browser: ScriptedBrowser, query: string, body: string, type = 'application/json') =>
      browser.request(`${origin}/conference-request/v1?${query}`, { method: 'POST', body, headers: { 'content-type': type } });

    it.each([
      ['another room in the body than in ?room=', '{"room":"board@conference.meet.jitsi"}'],
      ['a case variant Prosody would take literally', '{"room":"Town-Hall@conference.meet.jitsi"}'],
      ['an escaped spelling Prosody would take literally', '{"room":"town-h%61ll@conference.meet.jitsi"}'],
      ['a second room key after the admitted one (JSON parsers keep the last)', '{"room":"town-hall@conference.meet.jitsi","room":"board@conference.meet.jitsi"}'],
      ['the key spelled with a JSON escape', '{"r\\u006fom":"board@conference.meet.jitsi"}'],
      ['a tenant prefix', '{"room":"[sales]town-hall@conference.meet.jitsi"}'],
      ['a full JID with a resource', '{"room":"town-hall@conference.meet.jitsi/focus"}'],
      ['two @', '{"room":"town-hall@board@conference.meet.jitsi"}'],
      ['no room at all', '{"properties":{}}'],
      ['a room that is not a string', '{"room":["town-hall@conference.meet.jitsi"]}'],
      ['the admitted name on the lobby service', '{"room":"town-hall@lobby.meet.jitsi"}'],
      ['the admitted name on another domain', '{"room":"town-hall@evil.example"}'],
      ['the admitted name in a tenant subdomain form (tenants off)', '{"room":"town-hall@conference.acme.meet.jitsi"}'],
    ])('refuses %s with ?room= of an admitted room, audits the attempt, and Jicofo never sees it', async (_what, body) => {
      const alice = await enter('alice', 'town-hall');
      const before = upstream.arrived.length;
      const res = await post(alice.browser, 'room=town-hall', body);
      expect(res.status).toBe(403);
      expect(await res.text()).toContain('RG_JITSI_NOT_ADMITTED');
      expect(upstream.arrived.length).toBe(before);
      await expect.poll(async () => (await queryAudit(auditDir, { type: 'room.decision', outcome: 'deny' })).some((r) => r.reason === 'RG_JITSI_NOT_ADMITTED' && r.details?.attempted !== undefined)).toBe(true);
    });

    it.each([
      ['a body over 16 KiB', `{"room":"town-hall@conference.meet.jitsi","pad":"${'x'.repeat(17 * 1024)}"}`, 'application/json'],
      ['a body that is not JSON', '{"room":"town-hall@conf', 'application/json'],
      ['a body that is not UTF-8', Buffer.concat([Buffer.from('{"room":"town-hall@conference.meet.jitsi","x":"'), Buffer.from([0xff]), Buffer.from('"}')]), 'application/json'],
      ['another content type', '{"room":"town-hall@conference.meet.jitsi"}', 'text/plain'],
    ])('refuses %s with a 400 page, and Jicofo never sees it', async (_what, body, type) => {
      const alice = await enter('alice', 'town-hall');
      const before = upstream.arrived.length;
      const res = await alice.browser.request(`${origin}/conference-request/v1?room=town-hall`, { method: 'POST', body, headers: { 'content-type': type } });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('RG_REQUEST_INVALID');
      expect(upstream.arrived.length).toBe(before);
    });

    it.each(['/conference-request/v1/', '/conference-request/v1/x', '/conference-request/v1//'])('refuses %s, which Jitsi\'s web server passes on to Jicofo too, whatever the body says', async (path) => {
      const alice = await enter('alice', 'town-hall');
      const before = upstream.arrived.length;
      const res = await alice.browser.request(`${origin}${path}?room=town-hall&token=${alice.token}`, { method: 'POST', body: '{"room":"board@conference.meet.jitsi"}', headers: { 'content-type': 'application/json' } });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(upstream.arrived.length).toBe(before);
    });

    it.each(['prefix=sales', 'PREFIX=sales', '%70refix=sales', 'prefix%20=sales'])('refuses signalling with %s: the web server sets the tenant, never the browser', async (extra) => {
      const alice = await enter('alice', 'town-hall');
      const cookie = alice.browser.jar.header(new URL(origin))!;
      expect(await ws(`/xmpp-websocket?room=town-hall&token=${alice.token}&${extra}`, cookie)).toMatchObject({ status: 400 });
      const bosh = await alice.browser.request(`${origin}/http-bind?room=town-hall&token=${alice.token}&${extra}`, { method: 'POST', body: '<body/>', headers: { 'content-type': 'text/xml' } });
      expect(bosh.status).toBe(400);
    });

    it('refuses a conference request that is not a POST', async () => {
      const alice = await enter('alice', 'town-hall');
      const res = await alice.browser.request(`${origin}/conference-request/v1?room=town-hall`);
      expect(res.status).toBe(400);
    });

    it('passes the admitted room\'s request on to Jicofo\'s path, re-encoded with exactly the judged room', async () => {
      const alice = await enter('alice', 'town-hall');
      const res = await post(alice.browser, 'room=town-hall', '{"room":"board@conference.meet.jitsi", "room" : "town-hall@conference.meet.jitsi", "properties":{"rtcstatsEnabled":true}}');
      expect(res.status).toBe(200);
      const seen = (await res.json()) as { url: string; body: string };
      expect(seen.url).toBe('/conference-request/v1?room=town-hall');
      expect(seen.body).toBe('{"room":"town-hall@conference.meet.jitsi","properties":{"rtcstatsEnabled":true}}');
    });
  });

  it('refuses signalling without a session', async () => {
    const res = await ws('/xmpp-websocket?room=town-hall', '');
    expect(res.status).toBe(401);
  });

  it('closes the open signalling WebSocket when the session ends', async () => {
    const alice = await enter('alice', 'town-hall');
    const cookie = alice.browser.jar.header(new URL(origin))!;
    const open = await ws(`/xmpp-websocket?room=town-hall&token=${alice.token}`, cookie);
    const closed = new Promise<number>((resolve) => open.socket!.once('close', () => resolve(Date.now())));
    const page = await (await alice.browser.request(`${origin}/_roomguard/logout`)).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1]!;
    const loggedOut = Date.now();
    await alice.browser.request(`${origin}/_roomguard/logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf=${encodeURIComponent(csrf)}` });
    const at = await closed;
    expect(at - loggedOut).toBeLessThan(5000);
  });
});

describe('Jitsi tokenAuthUrl', () => {
  it('sends "I am the host" to the canonical room, which then does login and admission', async () => {
    const plain = await fetch(`${origin}/_roomguard/jitsi/auth?room=Town%20Hall`, { redirect: 'manual' });
    expect(plain.status).toBe(302);
    expect(plain.headers.get('location')).toBe('/town%20hall');
    const state = await fetch(`${origin}/_roomguard/jitsi/auth?state=${encodeURIComponent(JSON.stringify({ room: 'Board', roomSafe: 'board' }))}`, { redirect: 'manual' });
    expect(state.headers.get('location')).toBe('/board');
    const bad = await fetch(`${origin}/_roomguard/jitsi/auth?room=${encodeURIComponent('a/../b')}`, { redirect: 'manual' });
    expect(bad.status).toBe(400);
    const junk = await fetch(`${origin}/_roomguard/jitsi/auth?state=%7Bnot-json`, { redirect: 'manual' });
    expect(junk.status).toBe(400);
  });
});
