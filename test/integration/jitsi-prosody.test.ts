// Room isolation on a stock Jitsi Prosody (anonymous authentication, no JWT, no Jitsi plugins) with
// `backend.jitsi.auth: none`: roomguard reads the XMPP inside /xmpp-websocket and /http-bind. Real
// Prosody (Debian's package), real Redis, the real IdP and audit log. Whether someone became an occupant
// is asked of Prosody itself: an observer in the other room sees every occupant's presence, and a
// late joiner gets the room's whole roster.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { queryAudit } from '../../src/audit/query.js';
import { enterRoom, ScriptedBrowser } from '../helpers/browser.js';
import { startProsody, type ProsodyServer } from '../helpers/prosody-server.js';
import { startRig, type Rig } from '../helpers/rig.js';
import { connectBosh, connectWebSocket, joined, joinStanza, type XmppConnection } from '../helpers/xmpp-client.js';

const DOMAIN = 'meet.test';
const MUC = `conference.${DOMAIN}`;
const ADMITTED = `town-hall@${MUC}`;
const OTHER = `board@${MUC}`;

let prosody: ProsodyServer;
let rig: Rig;
let cookie: string;
let observer: XmppConnection;

/** Logs alice in and into town-hall (acknowledging its notice): her session is admitted to that room only. */
async function admit(): Promise<string> {
  const { browser } = await enterRoom(rig.origin, '/town-hall', 'town-hall', 'alice');
  return browser.jar.header(new URL(rig.origin))!;
}

const wsUrl = (room = 'town-hall') => `ws://127.0.0.1:${rig.port}/xmpp-websocket?room=${room}`;
const boshUrl = (room = 'town-hall') => `http://127.0.0.1:${rig.port}/http-bind?room=${room}`;

/** The occupants of `room` as Prosody lists them to someone joining now. */
async function roster(room: string): Promise<string[]> {
  const late = await connectWebSocket(`${prosody.origin.replace('http', 'ws')}/xmpp-websocket`, DOMAIN);
  const nick = `late-${Math.random().toString(36).slice(2, 8)}`;
  await late.send(joinStanza(room, nick));
  await late.waitFor('own presence', (f) => f.includes(`${room}/${nick}`) && /code=["']110["']/.test(f));
  await late.close();
  return [...new Set(late.received.flatMap((f) => [...f.matchAll(new RegExp(`from=["']${room.replace(/\./g, '\\.')}/([^"']+)["']`, 'g'))].map((m) => m[1]!)))].filter((n) => n !== nick);
}

beforeAll(async () => {
  prosody = await startProsody(DOMAIN);
  rig = await startRig({ config: { backend: { type: 'jitsi', upstream: prosody.origin, jitsi: { auth: 'none', domain: DOMAIN } } } });
  cookie = await admit();
  // Somebody already in the other room: Prosody tells them about every occupant who joins.
  observer = await connectWebSocket(`${prosody.origin.replace('http', 'ws')}/xmpp-websocket`, DOMAIN);
  await observer.send(joinStanza(OTHER, 'observer'));
  await observer.waitFor('observer in the room', (f) => f.includes(`${OTHER}/observer`) && /code=["']110["']/.test(f));
}, 60_000);

afterAll(async () => {
  await observer?.close();
  await rig?.close();
  await prosody?.stop();
});

describe('control: stock Prosody alone', () => {
  it('lets the same anonymous client into both rooms', async () => {
    const direct = await connectWebSocket(`${prosody.origin.replace('http', 'ws')}/xmpp-websocket`, DOMAIN);
    await direct.send(joinStanza(ADMITTED, 'control'));
    await direct.send(joinStanza(OTHER, 'control'));
    await direct.waitFor('both joins', () => joined(direct.received, ADMITTED, 'control') && joined(direct.received, OTHER, 'control'));
    expect(await roster(OTHER)).toContain('control');
    await direct.close();
    await observer.waitFor('control leaving', (f) => f.includes(`${OTHER}/control`) && f.includes('unavailable'));
  });
});

/** Every spelling a client might try for `board` (or another room), as the `to` of a presence. */
const HOPS: Array<[string, string]> = [
  ['plain', joinStanza(OTHER, 'mallory')],
  ['upper case', joinStanza(`Board@${MUC}`, 'mallory')],
  ['upper-case service', joinStanza(`board@CONFERENCE.${DOMAIN}`, 'mallory')],
  ['full-width letters', joinStanza(`ｂｏａｒｄ@${MUC}`, 'mallory')],
  ['percent form', joinStanza(`b%61ard@${MUC}`, 'mallory')],
  ['trailing dot', joinStanza(`board@${MUC}.`, 'mallory')],
  ['tenant prefix', joinStanza(`[acme]board@${MUC}`, 'mallory')],
  ['character reference', `<presence xmlns="jabber:client" to="&#98;oard@${MUC}/mallory"><x xmlns="http://jabber.org/protocol/muc"/></presence>`],
  ['single quotes', `<presence xmlns='jabber:client' to='${OTHER}/mallory'><x xmlns='http://jabber.org/protocol/muc'/></presence>`],
  ['namespace prefix', `<c:presence xmlns:c="jabber:client" to="${OTHER}/mallory"><x xmlns="http://jabber.org/protocol/muc"/></c:presence>`],
  ['redeclared namespace', `<presence xmlns="jabber:client" to="${OTHER}/mallory"><x xmlns="urn:other" xmlns:c="jabber:client"><y xmlns="http://jabber.org/protocol/muc"/></x></presence>`],
  ['whitespace in the tag', `<presence\n\txmlns="jabber:client"\n  to = "${OTHER}/mallory" ><x xmlns="http://jabber.org/protocol/muc"/></presence >`],
  ['a comment inside', `<presence xmlns="jabber:client" to="${OTHER}/mallory"><!-- hi --><x xmlns="http://jabber.org/protocol/muc"/></presence>`],
  ['packed after an allowed one', `${joinStanza(ADMITTED, 'mallory')}${joinStanza(OTHER, 'mallory')}`],
  ['owner IQ', `<iq xmlns="jabber:client" type="set" id="o1" to="${OTHER}"><query xmlns="http://jabber.org/protocol/muc#owner"><x xmlns="jabber:x:data" type="submit"/></query></iq>`],
  ['conference request', `<iq xmlns="jabber:client" type="set" id="c1" to="focus.${DOMAIN}"><conference xmlns="http://jitsi.org/protocol/focus" room="${OTHER}" machine-uid="x"/></iq>`],
];

describe('through roomguard over WebSocket (auth: none)', () => {
  it('lets the admitted person join the admitted room', async () => {
    const client = await connectWebSocket(wsUrl(), DOMAIN, { cookie });
    await client.send(joinStanza(ADMITTED, 'alice'));
    await client.waitFor('join', () => joined(client.received, ADMITTED, 'alice'));
    expect(await roster(ADMITTED)).toContain('alice');
    await client.close();
  });

  it.each(HOPS)('refuses a join to another room: %s — with a stream error, audited, never an occupant', async (_name, stanza) => {
    const client = await connectWebSocket(wsUrl(), DOMAIN, { cookie });
    await client.send(stanza);
    await client.waitFor('stream error', (f) => f.includes('<stream:error'));
    await expect.poll(() => client.ended).toBe(true);
    expect(client.received.some((f) => f.includes('board@') || f.includes('ｂｏａｒｄ'))).toBe(false);
    expect(observer.received.some((f) => f.includes('mallory'))).toBe(false);
    expect(await roster(OTHER)).not.toContain('mallory');
  });

  it('has audited the refusals with the room attempted, and refuses a stream opened to another domain', async () => {
    const records = await queryAudit(rig.auditDir, { type: 'room.decision' });
    expect(records.some((r) => r.outcome === 'deny' && r.reason === 'RG_JITSI_NOT_ADMITTED' && r.details?.attempted === 'board')).toBe(true);
    const socket = await connectWebSocket(wsUrl(), DOMAIN, { cookie });
    await socket.send(`<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="other.test" version="1.0"/>`);
    await socket.waitFor('host-unknown', (f) => f.includes('host-unknown'));
    await expect.poll(() => socket.ended).toBe(true);
  });
});

// The allowlist of destinations (F3/F4 of the attack on issue 19): the lobby of an admitted room is
// reachable; another room's lobby, a breakout room and another domain are not.
const LOBBY = `lobby.${DOMAIN}`;

describe('destinations beside the MUC service, through roomguard (auth: none)', () => {
  it('lets the admitted person into the lobby of the admitted room', async () => {
    const client = await connectWebSocket(wsUrl(), DOMAIN, { cookie });
    await client.send(joinStanza(`town-hall@${LOBBY}`, 'alice-lobby'));
    await client.waitFor('lobby join', () => joined(client.received, `town-hall@${LOBBY}`, 'alice-lobby'));
    expect(await roster(`town-hall@${LOBBY}`)).toContain('alice-lobby');
    await client.close();
  });

  it.each([
    ['the lobby of another room', `board@${LOBBY}`],
    ['a breakout room', `board@breakout.${DOMAIN}`],
  ])('refuses %s over WebSocket and BOSH: never an occupant', async (_name, room) => {
    const ws = await connectWebSocket(wsUrl(), DOMAIN, { cookie });
    await ws.send(joinStanza(room, 'mallory-side'));
    await ws.waitFor('stream error', (f) => f.includes('<stream:error'));
    await expect.poll(() => ws.ended).toBe(true);
    const bosh = await connectBosh(boshUrl(), DOMAIN, { cookie });
    expect((await bosh.post(bosh.wrap(joinStanza(room, 'mallory-side-bosh')))).status).toBe(403);
    const occupants = await roster(room);
    expect(occupants).not.toContain('mallory-side');
    expect(occupants).not.toContain('mallory-side-bosh');
  });

  it('refuses a room on another domain (a tenant subdomain form without tenants, a foreign server)', async () => {
    for (const room of [`board@conference.acme.${DOMAIN}`, 'board@conference.evil.example']) {
      const ws = await connectWebSocket(wsUrl(), DOMAIN, { cookie });
      await ws.send(joinStanza(room, 'mallory-far'));
      await ws.waitFor('stream error', (f) => f.includes('<stream:error'));
      await expect.poll(() => ws.ended).toBe(true);
      expect(ws.received.some((f) => f.includes(room))).toBe(false);
    }
  });
});

describe('WebSocket openings elsewhere (auth: none)', () => {
  it('refuses a WebSocket upgrade on /http-bind, which no per-message rule would read', async () => {
    const status = await new Promise<number>((resolve) => {
      const socket = new WebSocket(`ws://127.0.0.1:${rig.port}/http-bind?room=town-hall`, 'xmpp', { headers: { cookie } });
      socket.once('open', () => { socket.close(); resolve(101); });
      socket.once('unexpected-response', (_q, r) => resolve(r.statusCode ?? 0));
      socket.once('error', () => resolve(-1));
    });
    expect(status).toBe(400);
  });
});

describe('through roomguard over BOSH (auth: none)', () => {
  it('lets the admitted person join the admitted room', async () => {
    const client = await connectBosh(boshUrl(), DOMAIN, { cookie });
    await client.send(joinStanza(ADMITTED, 'alice-bosh'));
    await client.waitFor('join', (f) => f.includes(`${ADMITTED}/alice-bosh`) && /code=["']110["']/.test(f));
    expect(await roster(ADMITTED)).toContain('alice-bosh');
    await client.close();
  });

  it.each(HOPS)('refuses a join to another room: %s — with a terminate body, never an occupant', async (_name, stanza) => {
    const client = await connectBosh(boshUrl(), DOMAIN, { cookie });
    // In the session's own next request (right sid and rid): only roomguard stands in the way.
    const answer = await client.post(client.wrap(stanza.replace(/mallory/g, 'mallory-bosh')));
    expect(answer.status).toBe(403);
    expect(answer.text).toContain('type="terminate"');
    expect(observer.received.some((f) => f.includes('mallory-bosh'))).toBe(false);
    expect(await roster(OTHER)).not.toContain('mallory-bosh');
  });

  it('refuses a stanza split across two requests: neither half is a body on its own', async () => {
    const client = await connectBosh(boshUrl(), DOMAIN, { cookie });
    const half = joinStanza(OTHER, 'mallory-split');
    const whole = client.wrap(half);
    const cut = whole.indexOf('to="') + 10;
    const first = await client.post(whole.slice(0, cut));
    const second = await client.post(whole.slice(cut));
    expect([first.status, second.status]).toEqual([403, 403]);
    expect(await roster(OTHER)).not.toContain('mallory-split');
  });
});

// F6 of the attack on issue 19: without tokens nothing ended an admission. It lasts tokenTtl; after that
// a new connection is refused until a page load, where the policy is judged again, admits anew.
describe('admissions expire under auth: none', () => {
  let clock = Date.now();
  let timed: Rig;
  beforeAll(async () => {
    timed = await startRig({ gateway: { now: () => clock }, config: { backend: { type: 'jitsi', upstream: prosody.origin, jitsi: { auth: 'none', domain: DOMAIN, tokenTtl: '10m' } } } });
  }, 60_000);
  afterAll(async () => {
    await timed?.close();
  });

  it('refuses a new connection once tokenTtl has passed, and admits again after a page load', async () => {
    const browser = new ScriptedBrowser({ accept: 'text/html' });
    const load = () => enterRoom(timed.origin, '/town-hall', 'town-hall', 'alice', browser);
    await load();
    const url = `ws://127.0.0.1:${timed.port}/xmpp-websocket?room=town-hall`;
    const status = () => new Promise<number>((resolve) => {
      const socket = new WebSocket(url, 'xmpp', { headers: { cookie: browser.jar.header(new URL(timed.origin))! } });
      socket.once('open', () => { socket.close(); resolve(101); });
      socket.once('unexpected-response', (_q, r) => resolve(r.statusCode ?? 0));
      socket.once('error', () => resolve(-1));
    });
    const fresh = await connectWebSocket(url, DOMAIN, { cookie: browser.jar.header(new URL(timed.origin))! });
    await fresh.send(joinStanza(ADMITTED, 'alice-timed'));
    await fresh.waitFor('join', () => joined(fresh.received, ADMITTED, 'alice-timed'));
    await fresh.close();
    clock += 10 * 60_000 + 1000;
    expect(await status()).toBe(403);
    await load();
    const again = await connectWebSocket(url, DOMAIN, { cookie: browser.jar.header(new URL(timed.origin))! });
    await again.send(joinStanza(ADMITTED, 'alice-timed2'));
    await again.waitFor('join', () => joined(again.received, ADMITTED, 'alice-timed2'));
    await again.close();
  });
});
