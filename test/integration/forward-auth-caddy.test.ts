// Forward-auth with real Caddy (Debian package) running the shipped deploy/caddy/Caddyfile in front of a
// real upstream, roomguard answering `forward_auth` on real Redis with the real oidc-provider; and the
// same contract as Traefik's `forwardAuth` sends it (X-Forwarded-Method/Proto/Host/Uri), which cannot
// run here (no Traefik package), checked against roomguard directly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { signInThrough } from '../helpers/browser.js';
import type { Arrived, EchoUpstream } from '../helpers/upstream.js';
import { startCaddy, type Caddy } from '../helpers/caddy.js';
import { startRigBehind, type Rig } from '../helpers/rig.js';
import { getWithRawHeaders, HAND_PICKED, leaked, openWebSocket, spoofBatches } from '../helpers/spoofed-headers.js';

const CADDYFILE = fileURLToPath(new URL('../../deploy/caddy/Caddyfile', import.meta.url));

let rig: Rig & { proxy: Caddy };
let upstream: EchoUpstream;
let gatewayOrigin: string;
let origin: string;

beforeAll(async () => {
  // The shipped Caddyfile as it is, in front of the gateway and the upstream.
  rig = await startRigBehind({ config: { trustProxy: ['127.0.0.1'], forwardAuth: { enabled: true, proxy: 'caddy' } } }, (caddyPort, { port: gatewayPort, upstream }) => startCaddy(CADDYFILE, {
    ROOMGUARD_SITE: `http://127.0.0.1:${caddyPort}`, ROOMGUARD_ADDRESS: `127.0.0.1:${gatewayPort}`, BACKEND_ADDRESS: new URL(upstream.url).host,
  }));
  ({ upstream, origin, address: gatewayOrigin } = rig);
}, 60_000);

afterAll(async () => {
  await rig?.close();
});

const loginAs = (user: string, path?: string) => signInThrough(origin, user, path);

describe('Caddy forward_auth with the shipped Caddyfile', () => {
  it('sends a person without a session to the login (Caddy hands roomguard\'s redirect to the browser)', async () => {
    const before = upstream.arrived.length;
    const res = await fetch(`${origin}/rooms/town-hall`, { redirect: 'manual', headers: { accept: 'text/html' } });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`/_roomguard/login?returnTo=${encodeURIComponent('/rooms/town-hall')}`);
    expect(upstream.arrived.length).toBe(before);
  });

  it('admits alice with roomguard\'s identity headers, drops spoofed ones and roomguard\'s cookie', async () => {
    const { final, cookie } = await loginAs('alice');
    expect(final.status).toBe(200);
    expect(((await final.json()) as Arrived).headers['x-roomguard-user']).toBe('alice');
    const res = await fetch(`${origin}/rooms/town-hall/app.js`, {
      headers: { cookie: `site=1; ${cookie}; theme=dark`, 'sec-fetch-dest': 'script', 'x-roomguard-role': 'moderator', 'remote-user': 'mallory', 'x-forwarded-user': 'mallory', 'x-roomguard-name': 'Mallory' },
    });
    const seen = (await res.json()) as Arrived;
    expect(seen.headers['x-roomguard-user']).toBe('alice');
    expect(seen.headers['remote-user']).toBe('alice');
    expect(seen.headers['x-roomguard-role']).toBe('moderator'); // alice is a moderator of town-hall by policy
    expect(seen.headers['x-roomguard-name']).toBe('Alice Example');
    expect(seen.headers['x-forwarded-user']).toBeUndefined();
    const names = String(seen.headers.cookie).split(';').map((c) => c.trim().split('=')[0]).filter(Boolean);
    expect(names).toEqual(['site', 'theme']);
  });

  it('refuses carol at a room she may not enter with roomguard\'s page and status', async () => {
    const { cookie } = await loginAs('carol');
    const before = upstream.arrived.filter((a) => a.url === '/rooms/staff-weekly').length;
    const res = await fetch(`${origin}/rooms/staff-weekly`, { headers: { cookie, accept: 'text/html' }, redirect: 'manual' });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('RG_POLICY_NOT_ALLOWED');
    expect(upstream.arrived.filter((a) => a.url === '/rooms/staff-weekly').length).toBe(before);
  });

  it('gives a request without a session no identity even if the client sends some', async () => {
    const res = await fetch(`${origin}/public/logo.svg`, { headers: { 'x-roomguard-user': 'alice', 'remote-user': 'alice' } });
    const seen = (await res.json()) as Arrived;
    // Absent, or present and empty (Caddy 2.6 sets what roomguard answered, and it answered nothing).
    for (const name of ['x-roomguard-user', 'x-roomguard-assertion', 'remote-user', 'x-roomguard-groups']) expect(seen.headers[name] ?? '').toBe('');
  });

  it('removes every roomguard cookie, wherever it stands in the Cookie header', async () => {
    const res = await fetch(`${origin}/public/x`, { headers: { cookie: 'roomguard_session=a; roomguard_session_lang=de; a=1; xroomguard_session=keep; __Host-roomguard_session_login=b' } });
    const names = String(((await res.json()) as Arrived).headers.cookie).split(';').map((c) => c.trim().split('=')[0]).filter(Boolean);
    expect(names).toEqual(['a', 'xroomguard_session']);
  });
});

describe('Caddy: a client cannot choose what roomguard judges or what the backend believes', () => {
  it('ignores an X-Original-URI a client sends (roomguard judges the path Caddy proxies)', async () => {
    const before = upstream.arrived.filter((a) => a.url.startsWith('/rooms/staff-weekly')).length;
    const anonymous = await fetch(`${origin}/rooms/staff-weekly`, { headers: { 'x-original-uri': '/public/x', 'x-original-method': 'GET', accept: 'text/html' }, redirect: 'manual' });
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.get('location')).toMatch(/^\/_roomguard\/login/);
    const { cookie } = await loginAs('carol');
    const carol = await fetch(`${origin}/rooms/staff-weekly`, { headers: { cookie, 'sec-fetch-dest': 'script', 'x-original-uri': '/rooms/town-hall/app.js' }, redirect: 'manual' });
    expect(carol.status).toBe(403);
    expect(upstream.arrived.filter((a) => a.url.startsWith('/rooms/staff-weekly')).length).toBe(before);
  });

  it('drops identity headers in their "_" spellings and the other proxies\' user headers', async () => {
    const res = await fetch(`${origin}/public/y`, { headers: { x_roomguard_user: 'mallory', remote_user: 'mallory', 'x-forwarded-email': 'm@evil.example', 'x-remote-user': 'mallory', 'x-rewrite-url': '/admin', x_forwarded_user: 'mallory' } });
    const seen = (await res.json()) as Arrived;
    for (const name of ['x_roomguard_user', 'remote_user', 'x-forwarded-email', 'x-remote-user', 'x-rewrite-url', 'x_forwarded_user']) expect(seen.headers[name], name).toBeUndefined();
  });

  it('passes the backend none of Remote-Groups, Remote-Email, Remote-Name a client sends, only roomguard\'s values', async () => {
    const { cookie } = await loginAs('alice');
    const port = Number(new URL(origin).port);
    const res = await getWithRawHeaders(port, '/rooms/town-hall/app.js', [['Remote-Groups', 'mallory-spoofed'], ['Remote-Email', 'mallory-spoofed@example.org'], ['Remote-Name', 'mallory-spoofed'], ['REMOTE_GROUPS', 'mallory-spoofed'], ['Remote.Name', 'mallory-spoofed']], { cookie, 'sec-fetch-dest': 'script' });
    const seen = JSON.parse(res.body) as Arrived;
    expect(leaked(seen.headers)).toEqual([]);
    expect(seen.headers['remote-groups']).toBe('board,board-chair,staff');
    expect(seen.headers['remote-email']).toBe('alice@example.org');
    expect(seen.headers['remote-name']).toBe('Alice Example');
  });

  it('passes the backend no header of the rule a client sends, in any spelling, new family members included', async () => {
    const { cookie } = await loginAs('alice');
    const port = Number(new URL(origin).port);
    const batches = spoofBatches({ newFamilyMembers: true });
    expect(batches.flat().length).toBeGreaterThan(HAND_PICKED.length + 400);
    for (const batch of batches) {
      for (const path of ['/rooms/town-hall/app.js', '/public/x']) {
        const res = await getWithRawHeaders(port, path, batch, { cookie, 'sec-fetch-dest': 'script' });
        expect(res.status, path).toBe(200);
        const seen = JSON.parse(res.body) as Arrived;
        expect(leaked(seen.headers), `${path}: ${batch[0]![0]} …`).toEqual([]);
        expect(seen.headers['x-roomguard-user'] ?? '').toBe(path === '/public/x' ? '' : 'alice');
      }
    }
    const handshake = await openWebSocket(`${origin.replace('http', 'ws')}/rooms/town-hall/ws`, { ...Object.fromEntries(batches[0]!), cookie });
    expect(leaked(handshake.headers)).toEqual([]);
    expect(handshake.headers['x-roomguard-user']).toBe('alice');
  });

  it('does not let browsers call /_roomguard/verify', async () => {
    const res = await fetch(`${origin}/_roomguard/verify`, { headers: { 'x-forwarded-uri': '/rooms/town-hall' } });
    expect(res.status).toBe(404);
  });
});

describe('the Traefik forwardAuth contract (X-Forwarded-*), against roomguard directly', () => {
  const verify = (headers: Record<string, string>) => fetch(`${gatewayOrigin}/_roomguard/verify`, { headers: { 'x-forwarded-proto': 'http', 'x-forwarded-host': new URL(origin).host, ...headers }, redirect: 'manual' });

  it('answers 200 with identity headers for an admitted request', async () => {
    const { cookie } = await loginAs('bob', '/rooms/staff-weekly');
    const res = await verify({ 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/rooms/staff-weekly/app.js', cookie, 'sec-fetch-dest': 'script' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-roomguard-user')).toBe('bob');
    expect(res.headers.get('x-roomguard-room')).toBe('staff-weekly');
    expect(res.headers.get('remote-groups')).toBe('staff');
    // Read by the proxy, never shown to a browser: no page headers, but never cached either.
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-security-policy')).toBeNull();
    expect(res.headers.get('x-frame-options')).toBeNull();
  });

  it('answers a login redirect, a refusal, and a malformed description with the right status', async () => {
    const login = await verify({ 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/rooms/town-hall', accept: 'text/html' });
    expect(login.status).toBe(302);
    expect(login.headers.get('location')).toMatch(/^\/_roomguard\/login\?returnTo=/);
    // What Caddy and Traefik hand the browser carries roomguard's page headers.
    expect(login.headers.get('x-frame-options')).toBe('DENY');
    expect(login.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const { cookie } = await loginAs('carol');
    const denied = await verify({ 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/rooms/staff-weekly', cookie, accept: 'text/html' });
    expect(denied.status).toBe(403);
    expect(denied.headers.get('x-roomguard-user')).toBeNull();
    expect(denied.headers.get('x-frame-options')).toBe('DENY');
    expect(denied.headers.get('content-security-policy')).toMatch(/script-src 'nonce-/);
    const post = await verify({ 'x-forwarded-method': 'POST', 'x-forwarded-uri': '/rooms/town-hall' });
    expect(post.status).toBe(401);
    const noUri = await verify({ 'x-forwarded-method': 'GET' });
    expect(noUri.status).toBe(400);
    expect(noUri.headers.get('x-content-type-options')).toBe('nosniff');
    const noUriJson = await verify({ 'x-forwarded-method': 'GET', 'content-type': 'application/json' });
    expect(noUriJson.status).toBe(400);
    expect(noUriJson.headers.get('x-frame-options')).toBe('DENY');
    const otherHost = await verify({ 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/rooms/town-hall', 'x-forwarded-host': 'evil.example', cookie });
    expect(otherHost.status).toBe(400);
    const absolute = await verify({ 'x-forwarded-method': 'GET', 'x-forwarded-uri': 'http://evil.example/rooms/town-hall', cookie });
    expect(absolute.status).toBe(400);
    // An error the error handler answers (here an unparsable JSON body) carries the page headers too.
    const broken = await fetch(`${gatewayOrigin}/_roomguard/verify`, { method: 'POST', headers: { 'x-forwarded-proto': 'http', 'x-forwarded-host': new URL(origin).host, 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/rooms/town-hall', 'content-type': 'application/json' }, body: '{' });
    expect(broken.status).toBe(400);
    expect(await broken.json()).toMatchObject({ error: 'RG_REQUEST_INVALID' });
    expect(broken.headers.get('x-frame-options')).toBe('DENY');
    expect(broken.headers.get('x-content-type-options')).toBe('nosniff');
  });
});
