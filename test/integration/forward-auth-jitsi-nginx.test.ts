// The shipped stock-Jitsi nginx locations (deploy/nginx/jitsi-meet.conf) in real nginx, with only the
// site's addresses and paths replaced: Jitsi's web root is a temporary directory, Prosody and Jicofo
// are a real HTTP + WebSocket upstream that records what reaches it. roomguard (backend: jitsi,
// forward-auth) answers every auth_request; tokens are checked by a verifier written from Prosody's contract.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { enterRoom, ScriptedBrowser } from '../helpers/browser.js';
import type { Arrived, EchoUpstream } from '../helpers/upstream.js';
import { startEchoUpstream } from '../helpers/upstream.js';
import { createServer } from 'node:net';
import { startRigBehind, type Rig } from '../helpers/rig.js';
import { roomguardHttpConf, startNginx, type Nginx } from '../helpers/nginx.js';
import { prosodyAllowsJoin, type ProsodySettings } from '../helpers/prosody.js';

const SNIPPETS = fileURLToPath(new URL('../../deploy/nginx/', import.meta.url));
const JWT_SECRET = 'jitsi-nginx-app-secret-shared-with-prosody-0123456789';
const prosody: ProsodySettings = { appSecret: JWT_SECRET, signatureAlgorithm: 'HS256', acceptedIssuers: ['roomguard'], acceptedAudiences: ['jitsi'], domainVerification: true, domain: 'meet.jitsi' };
const HTML = { accept: 'text/html' };

let rig: Rig & { proxy: Nginx };
let echo: EchoUpstream;
let backend: EchoUpstream;
let gatewayPort: number;
let origin: string;

beforeAll(async () => {
  const site = mkdtempSync(join(tmpdir(), 'rg-jitsi-web-'));
  chmodSync(site, 0o755); // nginx's workers run as an unprivileged user, like Jitsi's web root readers
  mkdirSync(join(site, 'libs'));
  writeFileSync(join(site, 'index.html'), '<!doctype html><title>Jitsi Meet</title><p>jitsi-app</p>');
  writeFileSync(join(site, 'libs', 'app.bundle.min.js'), '/* jitsi bundle */');
  writeFileSync(join(site, 'config.js'), 'var config = {};');
  // Prosody and Jicofo: one recording upstream behind jitsi-signalling.conf, roomguard's backend.upstream.
  echo = await startEchoUpstream();
  const signallingPort = await freePort();
  rig = await startRigBehind({
    upstream: { ...echo, url: `http://127.0.0.1:${signallingPort}` },
    config: {
      trustProxy: ['127.0.0.1'], forwardAuth: { enabled: true, proxy: 'nginx' },
      backend: { type: 'jitsi', jitsi: { appId: 'roomguard', appSecret: JWT_SECRET, audience: 'jitsi', domain: 'meet.jitsi', tenants: false, tokenTtl: '10m' } },
    },
  }, (nginxPort, { port: gatewayPort }) => {
    const backendHost = new URL(echo.url).host;
    const shipped = (file: string) => readFileSync(join(SNIPPETS, file), 'utf8')
      .replaceAll('/etc/nginx/snippets/', SNIPPETS)
      .replaceAll('/usr/share/jitsi-meet', site)
      .replaceAll('/etc/jitsi/meet/config.js', join(site, 'config.js'))
      .replaceAll('127.0.0.1:8089', `127.0.0.1:${signallingPort}`)
      .replaceAll('127.0.0.1:5280', backendHost)
      .replaceAll('127.0.0.1:8888', backendHost)
      .replaceAll('127.0.0.1:9090', backendHost);
    return startNginx(`
  ${roomguardHttpConf()}
  upstream roomguard { server 127.0.0.1:${gatewayPort}; keepalive 4; }
  ${shipped('jitsi-signalling.conf')}
  server {
    listen 127.0.0.1:${nginxPort};
    server_name 127.0.0.1;
    include ${SNIPPETS}roomguard-server.conf;
    ${shipped('jitsi-meet.conf')}
  }`, nginxPort);
  });
  ({ upstream: backend, port: gatewayPort, origin } = rig);
}, 60_000);

afterAll(async () => {
  await rig?.close();
  await echo?.close();
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Opens the XMPP WebSocket through nginx and roomguard, sends `messages`, and collects what comes back until it closes. */
function converse(query: string, cookie: string, messages: string[]) {
  const socket = new WebSocket(`${origin.replace('http', 'ws')}/xmpp-websocket?${query}`, 'xmpp', { headers: { cookie } });
  const received: string[] = [];
  return new Promise<{ received: string[]; closed: number }>((resolve) => {
    socket.once('open', () => { for (const m of messages) socket.send(m); });
    socket.on('message', (d) => {
      received.push(d.toString());
      if (received.length === messages.length + 1) socket.close();
    });
    socket.once('close', (closed) => resolve({ received, closed }));
    socket.once('unexpected-response', (_q, r) => resolve({ received, closed: -(r.statusCode ?? 0) }));
  });
}

async function enter(user: string, room: string) {
  const { browser, final } = await enterRoom(origin, `/${room}`, room, user, new ScriptedBrowser(HTML));
  return { final, token: new URL(final.url).searchParams.get('jwt') ?? undefined, cookie: `roomguard_session=${browser.jar.get('roomguard_session')!.value}` };
}

function xmpp(query: string, cookie?: string) {
  const socket = new WebSocket(`${origin.replace('http', 'ws')}/xmpp-websocket?${query}`, { headers: cookie ? { cookie } : {} });
  return new Promise<{ handshake?: Arrived; status?: number }>((resolve) => {
    socket.once('message', (d) => {
      socket.close();
      resolve({ handshake: JSON.parse(d.toString()) as Arrived });
    });
    socket.once('unexpected-response', (_q, r) => resolve({ status: r.statusCode ?? 0 }));
    socket.once('error', () => resolve({ status: -1 }));
  });
}

describe('stock Jitsi nginx locations with roomguard', () => {
  it('serves Jitsi\'s static files without a session', async () => {
    const res = await fetch(`${origin}/libs/app.bundle.min.js`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('jitsi bundle');
  });

  it('sends a room page to the login, then to the room with a token for exactly that room', async () => {
    const before = await fetch(`${origin}/town-hall`, { headers: HTML, redirect: 'manual' });
    expect(before.status).toBe(302);
    expect(before.headers.get('location')).toMatch(/\/_roomguard\/login\?returnTo=%2Ftown-hall$/);

    const { final, token } = await enter('alice', 'town-hall');
    expect(final.status).toBe(200);
    expect(await final.text()).toContain('jitsi-app');
    expect(token).toBeDefined();
    expect(prosodyAllowsJoin(token!, prosody, { room: 'town-hall' }, Date.now() / 1000)).toMatchObject({ ok: true, moderator: true });
    expect(prosodyAllowsJoin(token!, prosody, { room: 'board' }, Date.now() / 1000)).toMatchObject({ ok: false });
  });

  it('lets the XMPP WebSocket through only with the session\'s own token for an admitted room', async () => {
    const { token, cookie } = await enter('bob', 'staff-weekly');
    expect(token).toBeDefined();
    const ok = await xmpp(`room=staff-weekly&token=${token}`, cookie);
    expect(ok.handshake?.url).toBe(`/xmpp-websocket?prefix=&room=staff-weekly&token=${token}`);
    // Another room, no token, no session, or a token of someone else's session: refused before Prosody.
    const seen = backend.arrived.filter((a) => a.method === 'WS').length;
    expect((await xmpp(`room=board&token=${token}`, cookie)).status).toBe(403);
    expect((await xmpp('room=staff-weekly', cookie)).status).toBe(403);
    expect((await xmpp(`room=staff-weekly&token=${token}`)).status).not.toBe(101);
    const other = await enter('alice', 'staff-weekly');
    expect((await xmpp(`room=staff-weekly&token=${token}`, other.cookie)).status).toBe(403);
    expect(backend.arrived.filter((a) => a.method === 'WS').length).toBe(seen);
  });

  it('sends the conference request to roomguard itself, which passes on only a body naming an admitted room', async () => {
    const { cookie } = await enter('bob', 'staff-weekly');
    const post = (query: string, room: string) => fetch(`${origin}/conference-request/v1?${query}`, {
      method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ room: `${room}@conference.meet.jitsi`, properties: {} }),
    });
    const before = backend.arrived.length;
    const hop = await post('room=staff-weekly', 'board');
    expect(hop.status).toBe(403);
    expect(await hop.text()).toContain('RG_JITSI_NOT_ADMITTED');
    expect(backend.arrived.length).toBe(before);
    const ok = await post('room=staff-weekly', 'staff-weekly');
    expect(ok.status).toBe(200);
    const seen = backend.arrived.at(-1)!;
    expect(seen.url).toBe('/conference-request/v1?room=staff-weekly');
    expect(JSON.parse(seen.body)).toEqual({ room: 'staff-weekly@conference.meet.jitsi', properties: {} });
    // Without a session nothing reaches Jicofo either.
    expect((await fetch(`${origin}/conference-request/v1?room=staff-weekly`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);
    expect(backend.arrived.length).toBe(before + 1);
  });

  it('refuses a conference request that only an auth_request check saw (an old snippet), naming the fix', async () => {
    const { cookie } = await enter('bob', 'staff-weekly');
    const res = await fetch(`http://127.0.0.1:${gatewayPort}/_roomguard/verify`, {
      headers: { cookie, 'x-original-uri': '/conference-request/v1?room=staff-weekly', 'x-original-method': 'POST' },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('x-roomguard-error')).toBe('RG_FORWARD_AUTH_BODY');
  });

  it('reads every stanza of the XMPP WebSocket: a connection admitted to one room cannot join another', async () => {
    const { token, cookie } = await enter('alice', 'town-hall');
    const open = '<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="meet.jitsi" version="1.0"/>';
    const own = '<presence to="town-hall@conference.meet.jitsi/alice1"/>';
    const ok = await converse(`room=town-hall&token=${token}`, cookie, [open, own]);
    expect(ok.received.slice(1)).toEqual([`echo:${open}`, `echo:${own}`]);
    const hop = '<presence to="board@conference.meet.jitsi/alice1"/>';
    const refused = await converse(`room=town-hall&token=${token}`, cookie, [open, hop]);
    expect(refused.received.join('')).toContain('policy-violation');
    expect(refused.received).not.toContain(`echo:${hop}`);
  });

  it('refuses a verify question about the XMPP WebSocket or a BOSH post (an old snippet), naming the fix', async () => {
    const { token, cookie } = await enter('bob', 'staff-weekly');
    const ask = (path: string, method: string, extra: Record<string, string>) => fetch(`http://127.0.0.1:${gatewayPort}/_roomguard/verify`, {
      headers: { cookie, 'x-original-uri': `${path}?room=staff-weekly&token=${token}`, 'x-original-method': method, ...extra },
    });
    const ws = await ask('/xmpp-websocket', 'GET', { 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' });
    expect(ws.status).toBe(403);
    expect(ws.headers.get('x-roomguard-error')).toBe('RG_FORWARD_AUTH_STREAM');
    const bosh = await ask('/http-bind', 'POST', {});
    expect(bosh.status).toBe(403);
    expect(bosh.headers.get('x-roomguard-error')).toBe('RG_FORWARD_AUTH_BODY');
  });

  it('refuses carol at a room she may not enter, and she gets no token', async () => {
    const browser = new ScriptedBrowser(HTML);
    const start = await browser.follow(`${origin}/staff-weekly`);
    const done = await browser.submitLogin(start.final, 'carol', 'demo');
    expect(done.final.status).toBe(403);
    expect(await done.final.text()).toContain('RG_POLICY_NOT_ALLOWED');
    expect(done.hops.some((h) => h.url.searchParams.has('jwt'))).toBe(false);
  });
});
