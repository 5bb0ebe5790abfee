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
import { ScriptedBrowser } from '../helpers/browser.js';
import type { Arrived, EchoUpstream } from '../helpers/upstream.js';
import { startRigBehind, type Rig } from '../helpers/rig.js';
import { roomguardHttpConf, startNginx, type Nginx } from '../helpers/nginx.js';
import { prosodyAllowsJoin, type ProsodySettings } from '../helpers/prosody.js';

const SNIPPETS = fileURLToPath(new URL('../../deploy/nginx/', import.meta.url));
const JWT_SECRET = 'jitsi-nginx-app-secret-shared-with-prosody-0123456789';
const prosody: ProsodySettings = { appSecret: JWT_SECRET, signatureAlgorithm: 'HS256', acceptedIssuers: ['roomguard'], acceptedAudiences: ['jitsi'], domainVerification: true, domain: 'meet.jitsi' };
const HTML = { accept: 'text/html' };

let rig: Rig & { proxy: Nginx };
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
  rig = await startRigBehind({
    config: {
      trustProxy: ['127.0.0.1'], forwardAuth: { enabled: true, proxy: 'nginx' },
      backend: { type: 'jitsi', jitsi: { appId: 'roomguard', appSecret: JWT_SECRET, audience: 'jitsi', domain: 'meet.jitsi', tenants: false, tokenTtl: '10m' } },
    },
  }, (nginxPort, { port: gatewayPort, upstream: backend }) => {
    const backendHost = new URL(backend.url).host;
    const locations = readFileSync(join(SNIPPETS, 'jitsi-meet.conf'), 'utf8')
      .replaceAll('/etc/nginx/snippets/', SNIPPETS)
      .replaceAll('/usr/share/jitsi-meet', site)
      .replaceAll('/etc/jitsi/meet/config.js', join(site, 'config.js'))
      .replaceAll('127.0.0.1:5280', backendHost)
      .replaceAll('127.0.0.1:8888', backendHost)
      .replaceAll('127.0.0.1:9090', backendHost);
    return startNginx(`
  ${roomguardHttpConf()}
  upstream roomguard { server 127.0.0.1:${gatewayPort}; keepalive 4; }
  server {
    listen 127.0.0.1:${nginxPort};
    server_name 127.0.0.1;
    include ${SNIPPETS}roomguard-server.conf;
    ${locations}
  }`, nginxPort);
  });
  ({ upstream: backend, port: gatewayPort, origin } = rig);
}, 60_000);

afterAll(async () => {
  await rig?.close();
});

async function enter(user: string, room: string) {
  const browser = new ScriptedBrowser(HTML);
  let result = await browser.follow(`${origin}/${room}`);
  if (new URL(result.final.url).pathname === '/interaction' || new URL(result.final.url).origin !== origin) result = await browser.submitLogin(result.final, user, 'demo');
  if (new URL(result.final.url).pathname === '/_roomguard/notice') {
    const page = await result.final.text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1]!;
    result = await browser.follow(`${origin}/_roomguard/notice`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf, room, returnTo: `/${room}` }).toString() });
  }
  return { final: result.final, token: new URL(result.final.url).searchParams.get('jwt') ?? undefined, cookie: `roomguard_session=${browser.jar.get('roomguard_session')!.value}` };
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

  it('refuses carol at a room she may not enter, and she gets no token', async () => {
    const browser = new ScriptedBrowser(HTML);
    const start = await browser.follow(`${origin}/staff-weekly`);
    const done = await browser.submitLogin(start.final, 'carol', 'demo');
    expect(done.final.status).toBe(403);
    expect(await done.final.text()).toContain('RG_POLICY_NOT_ALLOWED');
    expect(done.hops.some((h) => h.url.searchParams.has('jwt'))).toBe(false);
  });
});
