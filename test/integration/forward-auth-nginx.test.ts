// Forward-auth with real nginx (Debian package) running the shipped snippets from deploy/nginx in front
// of a real HTTP + WebSocket upstream, with roomguard answering `auth_request` on real Redis and the
// real oidc-provider: allowed, login-needed and denied paths, identity headers, spoofing, audit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import WebSocket from 'ws';
import { queryAudit } from '../../src/audit/query.js';
import { signInThrough } from '../helpers/browser.js';
import type { Arrived, EchoUpstream } from '../helpers/upstream.js';
import { startRigBehind, type Rig } from '../helpers/rig.js';
import { forwardAuthHttpBlock, NGINX, startNginx, type Nginx } from '../helpers/nginx.js';
import { spawnSync } from 'node:child_process';
import { getWithRawHeaders, HAND_PICKED, leaked, NEW_FAMILY_MEMBERS, openWebSocket, spoofBatches } from '../helpers/spoofed-headers.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SNIPPETS = fileURLToPath(new URL('../../deploy/nginx/', import.meta.url));

let rig: Rig & { proxy: Nginx };
let upstream: EchoUpstream;
let nginx: Nginx;
let origin: string;
let auditDir: string;

beforeAll(async () => {
  auditDir = mkdtempSync(join(tmpdir(), 'rg-audit-nginx-'));
  rig = await startRigBehind({ auditDir, config: { trustProxy: ['127.0.0.1'], forwardAuth: { enabled: true, proxy: 'nginx' } } }, (nginxPort, { port: gatewayPort, upstream }) => startNginx(forwardAuthHttpBlock(nginxPort, gatewayPort, upstream.url, `
    location /public/ {
      proxy_pass http://app;
    }
    location / {
      include ${SNIPPETS}roomguard-auth.conf;
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
    }`), nginxPort));
  ({ upstream, origin, proxy: nginx } = rig);
}, 60_000);

afterAll(async () => {
  await rig?.close();
});

const loginAs = (user: string, path?: string) => signInThrough(origin, user, path);

const upstreamSaw = (path: string) => upstream.arrived.filter((a) => a.url === path).length;

describe('nginx auth_request with the shipped snippets', () => {
  it('sends a person without a session to roomguard\'s login, and the backend sees nothing', async () => {
    const before = upstream.arrived.length;
    const res = await fetch(`${origin}/rooms/town-hall?lang=de`, { redirect: 'manual', headers: { accept: 'text/html' } });
    expect(res.status).toBe(302);
    expect(new URL(res.headers.get('location')!, origin).pathname + new URL(res.headers.get('location')!, origin).search)
      .toBe(`/_roomguard/login?returnTo=${encodeURIComponent('/rooms/town-hall?lang=de')}`);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(upstream.arrived.length).toBe(before);
  });

  it('logs alice in through nginx and passes her to the room with signed identity headers and no roomguard cookie', async () => {
    const { final, cookie } = await loginAs('alice');
    expect(final.status).toBe(200);
    const seen = (await final.json()) as Arrived;
    expect(seen.url).toBe('/rooms/town-hall');
    expect(seen.headers['x-roomguard-user']).toBe('alice');
    expect(seen.headers['x-roomguard-room']).toBe('town-hall');
    expect(seen.headers['x-roomguard-role']).toBe('moderator');
    expect(seen.headers['remote-user']).toBe('alice');
    expect(seen.headers['remote-email']).toBe('alice@example.org');
    expect(seen.headers['remote-groups']).toBe('board,board-chair,staff');
    const jwks = createRemoteJWKSet(new URL(`${origin}/_roomguard/jwks.json`));
    const { payload } = await jwtVerify(String(seen.headers['x-roomguard-assertion']), jwks, { issuer: origin, audience: upstream.url });
    expect(payload).toMatchObject({ sub: 'alice', room: 'town-hall' });
    expect(String(seen.headers.cookie ?? '')).not.toContain('roomguard_session');
    // Another cookie of the site still reaches the backend.
    const withOther = await fetch(`${origin}/rooms/town-hall/app.js`, { headers: { cookie: `site=1; ${cookie}; theme=dark`, 'sec-fetch-dest': 'script' } });
    const other = (await withOther.json()) as Arrived;
    expect(other.headers.cookie).toBe('site=1; theme=dark');
  });

  it('writes the join to the audit log before nginx lets it through', async () => {
    await loginAs('bob', '/rooms/staff-weekly');
    const records = await queryAudit(auditDir, { room: 'staff-weekly', type: 'room.decision' });
    expect(records.some((r) => r.outcome === 'allow' && (r.actor as { sub?: string } | undefined)?.sub === 'bob')).toBe(true);
  });

  it('refuses carol at a room she may not enter with roomguard\'s page, status 403, and the backend sees nothing', async () => {
    const { cookie } = await loginAs('carol');
    const before = upstreamSaw('/rooms/staff-weekly');
    const res = await fetch(`${origin}/rooms/staff-weekly`, { headers: { cookie: cookie, accept: 'text/html', 'accept-language': 'de' }, redirect: 'manual' });
    expect(res.status).toBe(403);
    const page = await res.text();
    expect(page).toContain('RG_POLICY_NOT_ALLOWED');
    expect(page).toContain('lang="de"');
    expect(upstreamSaw('/rooms/staff-weekly')).toBe(before);
    const records = await queryAudit(auditDir, { room: 'staff-weekly', type: 'room.decision' });
    expect(records.some((r) => r.outcome === 'deny' && (r.actor as { sub?: string } | undefined)?.sub === 'carol')).toBe(true);
  });

  it('replaces identity headers a client sends, on protected and on public paths', async () => {
    const { cookie } = await loginAs('carol');
    const spoof = { 'x-roomguard-user': 'alice', 'x-roomguard-role': 'moderator', 'remote-user': 'alice', 'x-forwarded-user': 'alice', 'x-roomguard-groups': 'board' };
    const res = await fetch(`${origin}/rooms/town-hall/app.js`, { headers: { ...spoof, cookie: cookie, 'sec-fetch-dest': 'script' } });
    const seen = (await res.json()) as Arrived;
    expect(seen.headers['x-roomguard-user']).toBe('carol');
    expect(seen.headers['remote-user']).toBe('carol');
    expect(seen.headers['x-roomguard-role']).toBe('participant');
    // carol has no groups: roomguard sends an empty value, so nginx drops the client's header entirely.
    expect(seen.headers['x-roomguard-groups']).toBeUndefined();
    expect(seen.headers['x-forwarded-user']).toBeUndefined();
    // A path roomguard lets through without a session carries no identity at all.
    const anonymous = await fetch(`${origin}/rooms/town-hall/app.js`, { headers: { ...spoof, 'sec-fetch-dest': 'script' }, redirect: 'manual' });
    expect(anonymous.status).toBe(302);
  });

  it('passes the backend none of Remote-Groups, Remote-Email, Remote-Name a client sends, only roomguard\'s values', async () => {
    const { cookie } = await loginAs('carol');
    const port = Number(new URL(origin).port);
    const res = await getWithRawHeaders(port, '/rooms/town-hall/app.js', [['Remote-Groups', 'mallory-spoofed'], ['Remote-Email', 'mallory-spoofed@example.org'], ['Remote-Name', 'mallory-spoofed'], ['remote_groups', 'mallory-spoofed'], ['Remote.Name', 'mallory-spoofed']], { cookie, 'sec-fetch-dest': 'script' });
    const seen = JSON.parse(res.body) as Arrived;
    expect(leaked(seen.headers)).toEqual([]);
    expect(seen.headers['remote-user']).toBe('carol');
    expect(seen.headers['remote-email']).toBe('carol@example.org');
    // carol has no groups: roomguard answers an empty value, so nginx sends none rather than the client's.
    expect(seen.headers['remote-groups']).toBeUndefined();
  });

  it('passes the backend no header of the rule a client sends, in any spelling, and roomguard\'s identity unchanged', async () => {
    const { cookie } = await loginAs('alice');
    const port = Number(new URL(origin).port);
    const batches = spoofBatches({ newFamilyMembers: false });
    expect(batches.flat().length).toBeGreaterThan(HAND_PICKED.length + 400);
    for (const batch of batches) {
      const res = await getWithRawHeaders(port, '/rooms/town-hall/app.js', batch, { cookie, 'sec-fetch-dest': 'script' });
      expect(res.status).toBe(200);
      const seen = JSON.parse(res.body) as Arrived;
      expect(leaked(seen.headers), `${batch[0]![0]} …`).toEqual([]);
      expect(seen.headers['x-roomguard-user']).toBe('alice');
      expect(seen.headers['remote-user']).toBe('alice');
      expect(seen.headers['remote-groups']).toBe('board,board-chair,staff');
    }
    // A WebSocket handshake goes through the same lines.
    const handshake = await openWebSocket(`${origin.replace('http', 'ws')}/rooms/town-hall/ws`, { ...Object.fromEntries(batches[0]!), cookie });
    expect(leaked(handshake.headers)).toEqual([]);
    expect(handshake.headers['x-roomguard-user']).toBe('alice');
    // The snippet's many header lines fit nginx's table of header names (it warns when it loads them otherwise).
    const check = spawnSync(NGINX!, ['-t', '-p', nginx.dir, '-c', join(nginx.dir, 'nginx.conf')], { encoding: 'utf8' });
    expect(check.status).toBe(0);
    expect(check.stderr).not.toMatch(/\[(warn|emerg|alert|crit)\]/);
    // On a path nginx proxies without asking roomguard, its own defaults still drop every "_" spelling.
    const unguarded = await getWithRawHeaders(port, '/public/x', [['Remote_Groups', 'mallory-spoofed'], ['X_Roomguard_User', 'mallory-spoofed'], ['Remote.Name', 'mallory-spoofed']]);
    expect(leaked((JSON.parse(unguarded.body) as Arrived).headers)).toEqual([]);
  });

  it.each(NEW_FAMILY_MEMBERS)('refuses a request carrying %s, a family member nginx cannot blank by name, before the backend sees it', async (name) => {
    const { cookie } = await loginAs('alice');
    const port = Number(new URL(origin).port);
    const before = upstream.arrived.length;
    const res = await getWithRawHeaders(port, '/rooms/town-hall/app.js', [[name, 'mallory-spoofed']], { cookie, 'sec-fetch-dest': 'script' });
    expect(res.status).toBe(400);
    expect(res.body).toContain('RG_REQUEST_INVALID');
    expect(upstream.arrived.length).toBe(before);
    // The same request without it passes.
    expect((await getWithRawHeaders(port, '/rooms/town-hall/app.js', [], { cookie, 'sec-fetch-dest': 'script' })).status).toBe(200);
  });

  it('ignores an X-Forwarded-Uri a client sends: nginx\'s own X-Original-URI is what roomguard judges', async () => {
    const before = upstream.arrived.length;
    const res = await fetch(`${origin}/rooms/staff-weekly`, { headers: { 'x-forwarded-uri': '/public/x', 'x-forwarded-method': 'GET', 'x-original-uri': '/public/x', accept: 'text/html' }, redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toContain('/_roomguard/login');
    expect(upstream.arrived.length).toBe(before);
  });

  it('passes the backend no roomguard cookie, however many a client stacks up', async () => {
    const { cookie } = await loginAs('alice');
    const stacked = `a=1; roomguard_session_lang=t1; ${cookie}; roomguard_session_login=t2; roomguard_session_lang=t3; roomguard_session_login=t4; b=2`;
    const res = await fetch(`${origin}/rooms/town-hall/app.js`, { headers: { cookie: stacked, 'sec-fetch-dest': 'script' } });
    const seen = (await res.json()) as Arrived;
    expect(seen.headers['x-roomguard-user']).toBe('alice');
    expect(seen.headers.cookie).toBe('a=1; b=2');
  });

  it('keeps /_roomguard/verify internal: a browser cannot call it', async () => {
    const res = await fetch(`${origin}/_roomguard/verify`, { headers: { 'x-original-uri': '/rooms/town-hall' } });
    expect(res.status).toBe(404);
  });

  it('relays an allowed WebSocket and refuses one without a session before the backend sees it', async () => {
    const { cookie } = await loginAs('alice');
    const ws = new WebSocket(`${origin.replace('http', 'ws')}/rooms/town-hall/ws`, { headers: { cookie: cookie } });
    const first = await new Promise<string>((resolve, reject) => {
      ws.once('message', (d) => resolve(d.toString()));
      ws.once('error', reject);
      ws.once('unexpected-response', (_q, r) => reject(new Error(`refused ${r.statusCode}`)));
    });
    ws.close();
    const handshake = JSON.parse(first) as Arrived;
    expect(handshake.headers['x-roomguard-user']).toBe('alice');
    expect(String(handshake.headers.cookie ?? '')).not.toContain('roomguard_session');

    const wsBefore = upstream.arrived.filter((a) => a.method === 'WS').length;
    const refused = new WebSocket(`${origin.replace('http', 'ws')}/rooms/town-hall/ws`);
    const status = await new Promise<number>((resolve) => {
      refused.once('open', () => resolve(101));
      refused.once('unexpected-response', (_q, r) => resolve(r.statusCode ?? 0));
      refused.once('error', () => resolve(-1));
    });
    expect(status).not.toBe(101);
    expect(upstream.arrived.filter((a) => a.method === 'WS').length).toBe(wsBefore);
  });

  it('refuses a room path spelled with encoded characters before the backend sees it', async () => {
    const { cookie } = await loginAs('carol');
    const res = await fetch(`${origin}/rooms/staff%2Dweekly`, { headers: { cookie: cookie, accept: 'text/html' }, redirect: 'manual' });
    // nginx passes $request_uri unchanged; roomguard sends the browser to the plain spelling first.
    expect(res.status).toBe(302);
    expect(new URL(res.headers.get('location')!, origin).pathname).toBe('/rooms/staff-weekly');
    expect(nginx.errorLog()).not.toMatch(/\[(emerg|alert|crit)\]/);
  });
});
