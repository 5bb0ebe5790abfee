// The Jitsi adapter against Jitsi's own rules: room canonicalisation (getBackendSafeRoomName, excluded
// characters, last path segment, tenants) and tokens checked by a verifier written from Prosody's
// contract, independently of the minting code.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { conferenceRequestRoom, JitsiBackend, noneAdmissionId } from '../../src/backends/jitsi.js';
import type { Identity } from '../../src/identity/types.js';
import { prosodyAllowsJoin, type ProsodySettings } from '../helpers/prosody.js';
import { lookupPath } from '../helpers/paths.js';

const SECRET = 'a-very-long-shared-secret-for-prosody-0123456789';
const settings = { appId: 'roomguard', appSecret: SECRET, audience: 'jitsi', domain: 'meet.jitsi', tokenTtlMs: 10 * 60_000, userFields: ['name'], features: ['recording'] };
const plain = new JitsiBackend({ ...settings, tenants: false });
const tenanted = new JitsiBackend({ ...settings, tenants: true });
const prosody: ProsodySettings = { appSecret: SECRET, signatureAlgorithm: 'HS256', acceptedIssuers: ['roomguard'], acceptedAudiences: ['jitsi'], domainVerification: true, domain: 'meet.jitsi' };
const alice: Identity = { sub: 'alice', iss: 'https://idp.example', email: 'alice@example.org', emailVerified: true, name: 'Alice Example', groups: ['board'] };

describe('Jitsi room canonicalisation', () => {
  // Expected values worked out by hand from getBackendSafeRoomName: decode, NFKC, lowercase, encode, lowercase.
  it.each([
    ['/board', 'board', undefined],
    ['/Board', 'board', '/board'],
    ['/BOARD', 'board', '/board'],
    ['/Team%20Meeting%20%C3%84', 'team%20meeting%20%c3%a4', '/team%20meeting%20%c3%a4'],
    ['/team%20meeting%20%c3%a4', 'team%20meeting%20%c3%a4', undefined],
    ['/%EF%AC%81nance', 'finance', '/finance'], // ﬁ ligature, NFKC
    ['/%EF%BC%A2oard', 'board', '/board'], // fullwidth Ｂ
    ['/caf%C3%A9', 'caf%c3%a9', '/caf%c3%a9'],
    ['/board/', 'board', '/board'],
  ])('%s judges and opens %s', (path, room, redirect) => {
    const lookup = lookupPath(plain, path);
    expect(lookup).toEqual(redirect === undefined ? { kind: 'room', room } : { kind: 'room', room, canonicalPath: redirect });
  });

  it('sends an escaped letter to the plain spelling first (%62 is b to every upstream)', () => {
    expect(lookupPath(plain, '/%62oard')).toEqual({ kind: 'respelled', plain: '/board' });
  });

  it('refuses a double-encoded escape (%2562): a server that decodes once more would read "board"', () => {
    expect(lookupPath(plain, '/%2562oard')).toEqual({ kind: 'bad-path', why: 'double-encoding' });
  });

  it.each(['/a@b', '/a:b', "/a'b", '/a(b)', '/a*b', '/a+b', '/a=b', '/a%40b', '/a%3Ab'])('refuses %s: Jitsi strips these characters', (path) => {
    expect(lookupPath(plain, path)).toEqual({ kind: 'invalid' });
  });

  it.each(['/a;b', '/a%3bb', '/board;x', '/sales;x/weekly'])('refuses %s: a path parameter, cut by servlet containers', (path) => {
    expect(lookupPath(tenanted, path)).toEqual({ kind: 'bad-path', why: 'path-parameter' });
  });

  it.each(['/libs/app.bundle.min.js', '/css/all.css', '/images/logo.svg', '/sounds/x.mp3', '/lang/main-de.json', '/static/x', '/fonts/f.woff2', '/favicon.ico'])('serves Jitsi asset %s without treating it as a room', (path) => {
    expect(lookupPath(plain, path)).toEqual({ kind: 'public' });
  });

  it.each([['/http-bind', 'bosh'], ['/xmpp-websocket', 'xmpp'], ['/conference-request/v1', 'conference']])('recognises signalling %s', (path, endpoint) => {
    expect(lookupPath(plain, path)).toEqual({ kind: 'signalling', endpoint });
  });

  it.each(['/conference-request/v1/', '/conference-request/v1/x', '/conference-request/v2', '/conference-request', '/conference-request/', '/http-bind/', '/http-bind/x', '/xmpp-websocket/', '/xmpp-websocket/x/y'])(
    'refuses %s: Jitsi\'s web server would pass it on to Prosody or Jicofo, past the signalling rules', (path) => {
      expect(lookupPath(tenanted, path)).toEqual({ kind: 'refused' });
    });

  // Jitsi's web server sends `/<anything>/xmpp-websocket…` to Prosody (its tenant locations match unanchored)
  // and strips leading segments in its catch-all until one matches: each of these would reach Prosody or
  // Jicofo as signalling roomguard never read.
  it.each([
    '/favicon.ico/xmpp-websocket', '/robots.txt/http-bind', '/manifest.json/pwa-worker.js/xmpp-websocket', '/favicon.ico/xmpp-websocket-x',
    '/colibri-ws/xmpp-websocket', '/colibri-ws/default-id/http-bind', '/libs/conference-request/v1', '/_api/http-bind', '/config.js/xmpp-websocket',
    '/a/b/c/http-bind', '/board/XMPP-WEBSOCKET', '/board/Http-Bind', '/board/xmpp-websocket%20',
    '/xmpp-websocketx', '/http-bind.js', '/conference-requests/v1', '/.well-known/xmpp-websocket',
  ])('refuses %s: a signalling name where roomguard does not read signalling', (path) => {
    expect(lookupPath(plain, path)).toEqual({ kind: 'refused' });
    expect(lookupPath(tenanted, path)).toEqual({ kind: 'refused' });
  });

  it('reads Prosody\'s room information (who is in a room) as signalling for the room it names, and nowhere else', () => {
    expect(lookupPath(plain, '/_api/room-info')).toEqual({ kind: 'signalling', endpoint: 'room-info' });
    expect(lookupPath(tenanted, '/sales/_api/room-info')).toEqual({ kind: 'signalling', endpoint: 'room-info', tenant: 'sales' });
    for (const path of ['/_api/room-info/', '/_api/room-info/x', '/_api/room-infox', '/favicon.ico/_api/room-info', '/x/y/_api/room-info', '/_API/ROOM-INFO', '/libs/_api/room-info']) {
      expect(lookupPath(plain, path), path).toEqual({ kind: 'refused' });
    }
    expect(lookupPath(plain, '/_api/public/logo.png')).toEqual({ kind: 'none' });
  });

  it('with tenants, refuses signalling names below a tenant\'s own paths and rooms too', () => {
    // Without tenants, a room's path followed by a signalling name is no tenant's signalling either.
    for (const path of ['/board/xmpp-websocket', '/board/http-bind', '/board/conference-request/v1']) expect(lookupPath(plain, path)).toEqual({ kind: 'refused' });
    for (const path of ['/sales/libs/xmpp-websocket', '/sales/weekly/http-bind', '/sales/colibri-ws/xmpp-websocket', '/sales/xmpp-websocket/x', '/sales/http-bind-x']) expect(lookupPath(tenanted, path)).toEqual({ kind: 'refused' });
  });

  it.each(['/config.js', '/interface_config.js', '/external_api.js', '/colibri-ws/a/b/c', '/_unlock', '/.well-known/x', '/'])('never treats %s as a room', (path) => {
    expect(lookupPath(plain, path)).toEqual({ kind: 'none' });
  });

  it('without tenants refuses deeper paths; with tenants they are tenant rooms and tenant-prefixed Jitsi paths', () => {
    expect(lookupPath(plain, '/sales/weekly')).toEqual({ kind: 'invalid' });
    expect(lookupPath(tenanted, '/sales/weekly')).toEqual({ kind: 'room', room: 'sales/weekly' });
    expect(lookupPath(tenanted, '/Sales/Weekly')).toEqual({ kind: 'room', room: 'sales/weekly', canonicalPath: '/sales/weekly' });
    expect(lookupPath(tenanted, '/sales/xmpp-websocket')).toEqual({ kind: 'signalling', endpoint: 'xmpp', tenant: 'sales' });
    expect(lookupPath(tenanted, '/sales/conference-request/v1')).toEqual({ kind: 'signalling', endpoint: 'conference', tenant: 'sales' });
    expect(lookupPath(tenanted, '/sales/conference-request/v1/')).toEqual({ kind: 'refused' });
    expect(lookupPath(tenanted, '/sales/http-bind/x')).toEqual({ kind: 'refused' });
    expect(lookupPath(tenanted, '/sales/libs/app.js')).toEqual({ kind: 'public' });
    expect(lookupPath(tenanted, '/sales/config.js')).toEqual({ kind: 'none' });
    expect(lookupPath(tenanted, '/sales/a/b')).toEqual({ kind: 'invalid' });
  });

  it('takes WebSockets only for signalling and the videobridge (under a tenant too, where tenants are on)', () => {
    expect(plain.takesWebSocket({ kind: 'signalling', endpoint: 'xmpp' }, '/xmpp-websocket')).toBe(true);
    expect(plain.takesWebSocket({ kind: 'none' }, '/colibri-ws/jvb1/e1')).toBe(true);
    expect(tenanted.takesWebSocket({ kind: 'none' }, '/sales/colibri-ws/jvb1/e1')).toBe(true);
    expect(plain.takesWebSocket({ kind: 'none' }, '/sales/colibri-ws/jvb1/e1')).toBe(false);
    for (const [lookup, path] of [[{ kind: 'none' }, '/'], [{ kind: 'none' }, '/config.js'], [{ kind: 'public' }, '/libs/x.js'], [{ kind: 'room', room: 'board' }, '/board'], [{ kind: 'none' }, '/_api/colibri-ws']] as const) {
      expect(plain.takesWebSocket(lookup, path), path).toBe(false);
    }
  });

  it('lists Jitsi\'s own names as reserved, so policies cannot claim them', () => {
    for (const name of ['libs', 'http-bind', 'xmpp-websocket', 'config.js', 'colibri-ws', '_unlock']) expect(plain.reservedRooms).toContain(name);
  });
});

describe('room tokens under Prosody\'s contract', () => {
  const now = Date.UTC(2026, 10, 26, 12, 0, 0);
  const nowS = now / 1000;

  it('opens exactly its room and no other, with the moderator flag from the policy', async () => {
    const { token } = await plain.mint({ judgedRoom: 'board', identity: alice, role: 'moderator', features: ['recording', 'livestreaming'], now });
    const yes = prosodyAllowsJoin(token, prosody, { room: 'board' }, nowS);
    expect(yes).toMatchObject({ ok: true, moderator: true });
    if (!yes.ok) throw new Error('unreachable');
    expect(yes.claims.room).toBe('board');
    expect(yes.claims.room).not.toBe('*');
    expect(yes.claims.sub).toBe('meet.jitsi');
    expect((yes.claims.context as { features: Record<string, boolean> }).features).toMatchObject({ recording: true, livestreaming: false, transcription: false });
    const user = (yes.claims.context as { user: Record<string, unknown> }).user;
    expect(user.name).toBe('Alice Example');
    expect(user.email).toBeUndefined();
    expect(user.id).not.toContain('alice');
    expect(prosodyAllowsJoin(token, prosody, { room: 'board-2' }, nowS)).toMatchObject({ ok: false });
    expect(prosodyAllowsJoin(token, prosody, { room: 'town-hall' }, nowS)).toMatchObject({ ok: false });
    expect(prosodyAllowsJoin(token, prosody, { room: 'board', tenant: 'sales' }, nowS)).toMatchObject({ ok: false });
  });

  it('puts the e-mail address into the token only when the IdP verified it (userFields: email)', async () => {
    const withEmail = new JitsiBackend({ ...settings, userFields: ['name', 'email'], tenants: false });
    const userOf = async (identity: Identity) => {
      const { token } = await withEmail.mint({ judgedRoom: 'board', identity, role: 'participant', features: [], now });
      const verdict = prosodyAllowsJoin(token, prosody, { room: 'board' }, nowS);
      if (!verdict.ok) throw new Error('the token should open board');
      return (verdict.claims.context as { user: Record<string, unknown> }).user;
    };
    expect((await userOf(alice)).email).toBe('alice@example.org');
    expect((await userOf({ ...alice, emailVerified: false })).email).toBeUndefined();
  });

  it('participants get moderator false', async () => {
    const { token } = await plain.mint({ judgedRoom: 'town-hall', identity: alice, role: 'participant', features: [], now });
    expect(prosodyAllowsJoin(token, prosody, { room: 'town-hall' }, nowS)).toMatchObject({ ok: true, moderator: false });
  });

  it('is valid from a backdated nbf until exp and not outside (Prosody has no leeway)', async () => {
    const { token } = await plain.mint({ judgedRoom: 'board', identity: alice, role: 'participant', features: [], now });
    expect(prosodyAllowsJoin(token, prosody, { room: 'board' }, nowS - 5)).toMatchObject({ ok: true });
    expect(prosodyAllowsJoin(token, prosody, { room: 'board' }, nowS - 60)).toMatchObject({ ok: false, why: 'not yet valid' });
    expect(prosodyAllowsJoin(token, prosody, { room: 'board' }, nowS + 599)).toMatchObject({ ok: true });
    expect(prosodyAllowsJoin(token, prosody, { room: 'board' }, nowS + 600)).toMatchObject({ ok: false, why: 'expired' });
  });

  it('is refused under another secret, issuer, audience or algorithm', async () => {
    const { token } = await plain.mint({ judgedRoom: 'board', identity: alice, role: 'participant', features: [], now });
    expect(prosodyAllowsJoin(token, { ...prosody, appSecret: `${SECRET}x` }, { room: 'board' }, nowS)).toMatchObject({ ok: false, why: 'bad signature' });
    expect(prosodyAllowsJoin(token, { ...prosody, acceptedIssuers: ['other'] }, { room: 'board' }, nowS)).toMatchObject({ ok: false });
    expect(prosodyAllowsJoin(token, { ...prosody, acceptedAudiences: ['other'] }, { room: 'board' }, nowS)).toMatchObject({ ok: false });
    // The same claims signed as alg "none" or with another algorithm never pass.
    const [, payload] = token.split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    expect(prosodyAllowsJoin(none, prosody, { room: 'board' }, nowS)).toMatchObject({ ok: false });
    const h512 = Buffer.from(JSON.stringify({ alg: 'HS512', typ: 'JWT' })).toString('base64url');
    const sig512 = createHmac('sha512', SECRET).update(`${h512}.${payload}`).digest('base64url');
    expect(prosodyAllowsJoin(`${h512}.${payload}.${sig512}`, prosody, { room: 'board' }, nowS)).toMatchObject({ ok: false });
  });

  it('names the tenant in sub for tenant rooms, and opens that tenant\'s room only', async () => {
    const { token } = await tenanted.mint({ judgedRoom: 'sales/weekly', identity: alice, role: 'participant', features: [], now });
    expect(prosodyAllowsJoin(token, prosody, { room: 'weekly', tenant: 'sales' }, nowS)).toMatchObject({ ok: true });
    expect(prosodyAllowsJoin(token, prosody, { room: 'weekly' }, nowS)).toMatchObject({ ok: false });
    expect(prosodyAllowsJoin(token, prosody, { room: 'weekly', tenant: 'hr' }, nowS)).toMatchObject({ ok: false });
  });

  it('accepts back only its own tokens for the same room (tokenFor)', async () => {
    const minted = await plain.mint({ judgedRoom: 'board', identity: alice, role: 'participant', features: [], now });
    expect(await plain.tokenFor(minted.token, 'board', now)).toBe(minted.jti);
    expect(await plain.tokenFor(minted.token, 'town-hall', now)).toBeUndefined();
    expect(await plain.tokenFor(minted.token, 'board', now + 11 * 60_000)).toBeUndefined();
    const other = new JitsiBackend({ ...settings, appSecret: `${SECRET}-other`, tenants: false });
    expect(await plain.tokenFor((await other.mint({ judgedRoom: 'board', identity: alice, role: 'participant', features: [], now })).token, 'board', now)).toBeUndefined();
  });

  it('refuses to mint a wildcard room', async () => {
    await expect(plain.mint({ judgedRoom: '*', identity: alice, role: 'participant', features: [], now })).rejects.toThrow(/exactly one room/);
  });
});

describe('the room of a conference request (Jicofo reads the body)', () => {
  it.each([
    [{ room: 'board@conference.meet.jitsi' }, 'board'],
    [{ room: 'team%20a@muc.meet.jitsi', properties: {} }, 'team%20a'],
    [{ room: '[sales]weekly@conference.meet.jitsi' }, 'sales/weekly'],
    [{ room: 'weekly@conference.sales.meet.jitsi' }, 'sales/weekly'],
    [{ room: 'board@CONFERENCE.meet.jitsi' }, 'board'],
  ])('reads %j as %s', (body, room) => {
    const muc = (body as { room: string }).room.includes('@muc.') ? 'muc.meet.jitsi' : 'conference.meet.jitsi';
    expect(conferenceRequestRoom(body, { mucDomain: muc, tenants: true })).toBe(room);
  });

  it.each([
    ['a case variant (Prosody takes it literally)', { room: 'Board@conference.meet.jitsi' }],
    ['an escaped letter', { room: 'b%61ard@conference.meet.jitsi' }],
    ['an upper-case escape', { room: 'team%2Ea@conference.meet.jitsi' }],
    ['a tenant that is not canonical', { room: '[Sales]weekly@conference.meet.jitsi' }],
    ['an empty tenant', { room: '[]weekly@conference.meet.jitsi' }],
    ['a resource', { room: 'board@conference.meet.jitsi/focus' }],
    ['two @', { room: 'board@x@conference.meet.jitsi' }],
    ['no domain', { room: 'board@' }],
    ['no local part', { room: '@conference.meet.jitsi' }],
    ['no @ at all', { room: 'board' }],
    ['a character Jitsi strips', { room: 'bo:ard@conference.meet.jitsi' }],
    ['a number', { room: 42 }],
    ['an array', [{ room: 'board@conference.meet.jitsi' }]],
    ['null', null],
    ['a string', 'board@conference.meet.jitsi'],
    ['a very long JID', { room: `${'a'.repeat(1100)}@conference.meet.jitsi` }],
    ['the lobby service', { room: 'board@lobby.meet.jitsi' }],
    ['a breakout room', { room: 'board@breakout.meet.jitsi' }],
    ['another domain', { room: 'board@evil.example' }],
    ['another MUC domain', { room: 'board@conference.evil.example' }],
    ['a subdomain tenant with a bracket tenant too', { room: '[acme]board@conference.sales.meet.jitsi' }],
    ['a subdomain two labels deep', { room: 'board@conference.a.b.meet.jitsi' }],
  ])('reads no room from %s', (_what, body) => {
    expect(conferenceRequestRoom(body, { mucDomain: 'conference.meet.jitsi', tenants: true })).toBeUndefined();
  });

  it('reads a tenant subdomain form as no room when tenants are off', () => {
    expect(conferenceRequestRoom({ room: 'weekly@conference.sales.meet.jitsi' }, { mucDomain: 'conference.meet.jitsi', tenants: false })).toBeUndefined();
    expect(conferenceRequestRoom({ room: 'weekly@conference.meet.jitsi' }, { mucDomain: 'conference.meet.jitsi', tenants: false })).toBe('weekly');
  });
});

describe('auth: none and the XMPP inspection (both modes)', () => {
  const none = new JitsiBackend({ ...settings, tenants: false, auth: 'none' });
  const session = { hash: 'h', identity: alice, admissions: { board: [noneAdmissionId(Date.now())] } };
  const ask = (backend: JitsiBackend, endpoint: 'xmpp' | 'bosh', query: string, method = 'GET') =>
    backend.signalling({ path: endpoint === 'xmpp' ? '/xmpp-websocket' : '/http-bind', method, query, endpoint, session, now: Date.now(), take: async () => null });

  it('mints no token in none mode: the page goes on and the admission is kept for the inspection', async () => {
    const entry = await none.enter({ room: 'board', role: 'participant', features: [], session: { ...session, admissions: {} }, path: '/board', query: '', now: Date.now(), policy: { file: 'p.yaml' } });
    expect(entry).toMatchObject({ kind: 'pass', grant: { room: 'board' } });
    expect(JSON.stringify(entry)).not.toContain('jwt');
  });

  it('needs no token in none mode, still one room only, and reads every WebSocket message', async () => {
    const verdict = await ask(none, 'xmpp', 'room=board');
    if (verdict.kind !== 'pass' || !verdict.stream) throw new Error('expected a stream rule');
    expect(await ask(none, 'xmpp', 'room=other')).toMatchObject({ kind: 'refuse', code: 'RG_JITSI_NOT_ADMITTED' });
    // Object's own members are no admissions, in the stanzas either.
    expect(verdict.stream.judge(Buffer.from('<presence xmlns="jabber:client" to="constructor@conference.meet.jitsi/a"/>'), false)).toMatchObject({ code: 'RG_JITSI_NOT_ADMITTED' });
    const judge = (text: string | Buffer, binary = false) => verdict.stream!.judge(Buffer.isBuffer(text) ? text : Buffer.from(text), binary);
    expect(judge('<presence xmlns="jabber:client" to="board@conference.meet.jitsi/a"/>')).toBeUndefined();
    expect(judge('<presence xmlns="jabber:client" to="other@conference.meet.jitsi/a"/>')).toMatchObject({ code: 'RG_JITSI_NOT_ADMITTED', room: 'other', frames: [expect.stringContaining('policy-violation'), expect.stringContaining('<close')] });
    expect(judge('<presence xmlns="jabber:client"/>', true)).toMatchObject({ code: 'RG_REQUEST_INVALID', frames: [expect.stringContaining('not-well-formed'), expect.any(String)] });
    expect(judge(Buffer.from([0x3c, 0x61, 0xff, 0x2f, 0x3e]))).toMatchObject({ code: 'RG_REQUEST_INVALID' });
    expect(judge('<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="elsewhere" version="1.0"/>')).toMatchObject({ code: 'RG_REQUEST_INVALID', frames: [expect.stringContaining('host-unknown'), expect.any(String)] });
  });

  it('reads BOSH bodies as text, answers a refusal with a terminate body, and passes GET only without one', async () => {
    const verdict = await ask(none, 'bosh', 'room=board', 'POST');
    if (verdict.kind !== 'pass' || !verdict.body) throw new Error('expected a body rule');
    expect(verdict.body.format).toBe('text');
    expect(verdict.body.judge('<body xmlns="http://jabber.org/protocol/httpbind" rid="1" sid="s"><presence xmlns="jabber:client" to="board@conference.meet.jitsi/a"/></body>')).toBeUndefined();
    expect(verdict.body.judge('<body xmlns="http://jabber.org/protocol/httpbind" rid="1" sid="s"><presence xmlns="jabber:client" to="other@conference.meet.jitsi/a"/></body>')).toMatchObject({ code: 'RG_JITSI_NOT_ADMITTED', room: 'other', reply: { status: 403, body: expect.stringContaining('type="terminate"') } });
    expect(await ask(none, 'bosh', 'room=board', 'GET')).toEqual({ kind: 'pass', room: 'board' });
    expect(await ask(none, 'bosh', 'room=board', 'PUT')).toMatchObject({ kind: 'refuse' });
  });

  it('reads the stream in token mode too, where the token is still required', async () => {
    expect(await ask(plain, 'xmpp', 'room=board')).toMatchObject({ kind: 'refuse', code: 'RG_JITSI_TOKEN_INVALID' });
    const minted = await plain.mint({ judgedRoom: 'board', identity: alice, role: 'participant', features: [], now: Date.now() });
    const withToken = plain.signalling({ path: '/xmpp-websocket', method: 'GET', query: `room=board&token=${minted.token}`, endpoint: 'xmpp', session: { ...session, admissions: { board: [minted.jti] } }, now: Date.now(), take: async () => null });
    const verdict = await withToken;
    if (verdict.kind !== 'pass' || !verdict.stream) throw new Error('expected a stream rule');
    expect(verdict.stream.judge(Buffer.from('<presence xmlns="jabber:client" to="other@conference.meet.jitsi/a"/>'), false)).toMatchObject({ code: 'RG_JITSI_NOT_ADMITTED' });
  });

  it('lets an admission under auth: none last tokenTtl, then refuses until a page load admits again', async () => {
    const now = Date.now();
    const at = (admissions: Record<string, string[]>, when = now) => none.signalling({ path: '/xmpp-websocket', method: 'GET', query: 'room=board', endpoint: 'xmpp', session: { ...session, admissions }, now: when, take: async () => null });
    expect(await at({ board: [noneAdmissionId(now - settings.tokenTtlMs + 1000)] })).toMatchObject({ kind: 'pass' });
    expect(await at({ board: [noneAdmissionId(now - settings.tokenTtlMs)] })).toMatchObject({ kind: 'refuse', code: 'RG_JITSI_NOT_ADMITTED' });
    // An id without a time (an older release's), or one from the future, is no fresh admission.
    expect(await at({ board: ['e1'] })).toMatchObject({ kind: 'refuse', code: 'RG_JITSI_NOT_ADMITTED' });
    expect(await at({ board: [noneAdmissionId(now + 60_000)] })).toMatchObject({ kind: 'refuse', code: 'RG_JITSI_NOT_ADMITTED' });
    // One fresh admission among stale ones is enough; a new page load adds one.
    expect(await at({ board: [noneAdmissionId(now - 2 * settings.tokenTtlMs), noneAdmissionId(now)] })).toMatchObject({ kind: 'pass' });
    // Over an open connection, a room whose admission had expired when it opened is no room of it.
    const verdict = await at({ board: [noneAdmissionId(now)], hall: [noneAdmissionId(now - settings.tokenTtlMs - 1)] });
    if (verdict.kind !== 'pass' || !verdict.stream) throw new Error('expected a stream rule');
    expect(verdict.stream.judge(Buffer.from('<presence xmlns="jabber:client" to="hall@conference.meet.jitsi/a"/>'), false)).toMatchObject({ code: 'RG_JITSI_NOT_ADMITTED' });
    expect(verdict.stream.judge(Buffer.from('<presence xmlns="jabber:client" to="board@conference.meet.jitsi/a"/>'), false)).toBeUndefined();
  });

  it('refuses a WebSocket opening on BOSH or the conference request, which no stream rule would read', async () => {
    for (const endpoint of ['bosh', 'conference'] as const) {
      const path = endpoint === 'bosh' ? '/http-bind' : '/conference-request/v1';
      expect(await none.signalling({ path, method: 'GET', query: 'room=board', endpoint, ws: true, session, now: Date.now(), take: async () => null }), endpoint).toMatchObject({ kind: 'refuse', code: 'RG_REQUEST_INVALID' });
    }
    expect(await none.signalling({ path: '/xmpp-websocket', method: 'GET', query: 'room=board', endpoint: 'xmpp', ws: true, session, now: Date.now(), take: async () => null })).toMatchObject({ kind: 'pass', stream: expect.anything() });
  });

  it('judges rooms on the configured MUC service', async () => {
    const custom = new JitsiBackend({ ...settings, tenants: false, auth: 'none', mucDomain: 'muc.meet.jitsi' });
    const verdict = await custom.signalling({ path: '/xmpp-websocket', method: 'GET', query: 'room=board', endpoint: 'xmpp', session, now: Date.now(), take: async () => null });
    if (verdict.kind !== 'pass' || !verdict.stream) throw new Error('expected a stream rule');
    expect(verdict.stream.judge(Buffer.from('<presence xmlns="jabber:client" to="other@muc.meet.jitsi/a"/>'), false)).toMatchObject({ code: 'RG_JITSI_NOT_ADMITTED' });
    expect(verdict.stream.judge(Buffer.from('<presence xmlns="jabber:client" to="board@muc.meet.jitsi/a"/>'), false)).toBeUndefined();
  });
});
