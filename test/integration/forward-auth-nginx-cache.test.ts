// The verdict cache of the shipped nginx snippets (deploy/nginx/roomguard-http.conf + the verify
// location of roomguard-server.conf), in real nginx in front of roomguard on real Redis and the real
// oidc-provider: a location that turns it on keeps roomguard's sub-resource passes for the rest of the
// second; page loads and WebSocket openings always ask roomguard (each audited); a cached pass answers
// only the same question (cookie, URI, kind of request); logout and revocation take effect within a
// second; a location that leaves it off asks roomguard every time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { queryAudit } from '../../src/audit/query.js';
import { signInThrough, type ScriptedBrowser } from '../helpers/browser.js';
import type { Arrived, EchoUpstream } from '../helpers/upstream.js';
import { startRigBehind, type Rig } from '../helpers/rig.js';
import { forwardAuthHttpBlock, startNginx, type Nginx } from '../helpers/nginx.js';
import { getWithRawHeaders, NEW_FAMILY_MEMBERS } from '../helpers/spoofed-headers.js';

const SNIPPETS = fileURLToPath(new URL('../../deploy/nginx/', import.meta.url));
const APP_JS = '/rooms/town-hall/app.js';
const SCRIPT = { 'sec-fetch-dest': 'script' };
const PAGE = { 'sec-fetch-dest': 'document', accept: 'text/html' };

let rig: Rig & { proxy: Nginx };
let upstream: EchoUpstream;
let origin: string;
let auditDir: string;

// Test-only: the verify request's cache status (HIT, MISS, EXPIRED, BYPASS) shown to the test client.
const showStatus = `auth_request_set $verdict_cache $upstream_cache_status;
      add_header X-Verdict-Cache $verdict_cache always;`;
const toBackend = `proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;`;

beforeAll(async () => {
  auditDir = mkdtempSync(join(tmpdir(), 'rg-audit-nginx-cache-'));
  rig = await startRigBehind({ auditDir, config: { trustProxy: ['127.0.0.1'], forwardAuth: { enabled: true, proxy: 'nginx' } } }, (nginxPort, { port: gatewayPort, upstream }) => startNginx(forwardAuthHttpBlock(nginxPort, gatewayPort, upstream.url, `
    location /rooms/town-hall/uncached/ {
      include ${SNIPPETS}roomguard-auth.conf;
      ${showStatus}
      ${toBackend}
    }
    location / {
      set $roomguard_verdict_cache on;
      include ${SNIPPETS}roomguard-auth.conf;
      ${showStatus}
      ${toBackend}
    }`), nginxPort));
  ({ upstream, origin } = rig);
}, 60_000);

afterAll(async () => {
  await rig?.close();
});

const get = (path: string, headers: Record<string, string>) => fetch(`${origin}${path}`, { headers, redirect: 'manual' });

/** Asks until nginx answers from its cache (a second boundary can fall between two requests). */
async function untilCached(path: string, headers: Record<string, string>): Promise<Arrived> {
  for (let i = 0; i < 20; i++) {
    const res = await get(path, headers);
    expect(res.status).toBe(200);
    const seen = (await res.json()) as Arrived;
    if (res.headers.get('x-verdict-cache') === 'HIT') return seen;
  }
  throw new Error(`nginx never answered ${path} from its verdict cache`);
}

async function allowedJoins(user: string, room: string): Promise<number> {
  const records = await queryAudit(auditDir, { room, type: 'room.decision' });
  return records.filter((r) => r.outcome === 'allow' && (r.actor as { sub?: string } | undefined)?.sub === user).length;
}

/** Waits until nginx's clock has left the second in which `since` fell: every pass kept before then has expired. */
async function pastTheSecondOf(since: number): Promise<number> {
  const end = (Math.floor(since / 1000) + 1) * 1000 + 20;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, end - Date.now())));
  return end - since;
}

async function csrfOf(browser: ScriptedBrowser, path: string): Promise<string> {
  const page = await browser.request(`${origin}${path}`);
  return /name="csrf" value="([^"]+)"/.exec(await page.text())![1]!;
}

describe('nginx verdict cache (roomguard-http.conf)', () => {
  it('keeps a sub-resource pass for the rest of the second, and the backend still gets roomguard\'s identity', async () => {
    const { cookie } = await signInThrough(origin, 'alice');
    const seen = await untilCached(APP_JS, { cookie: `site=1; ${cookie}`, ...SCRIPT });
    expect(seen.headers['x-roomguard-user']).toBe('alice');
    expect(seen.headers['x-roomguard-room']).toBe('town-hall');
    expect(seen.headers['x-roomguard-assertion']).toBeTruthy();
    expect(seen.headers.cookie).toBe('site=1');
  });

  it('never answers a page load or a WebSocket opening from the cache: each asks roomguard and is audited', async () => {
    // staff-weekly has no notice to acknowledge first: a page load is the join itself.
    const { cookie } = await signInThrough(origin, 'alice', '/rooms/staff-weekly');
    const asset = '/rooms/staff-weekly/app.js';
    await untilCached(asset, { cookie, ...SCRIPT });
    const before = await allowedJoins('alice', 'staff-weekly');
    for (let i = 0; i < 3; i++) {
      const page = await get('/rooms/staff-weekly', { cookie, ...PAGE });
      expect(page.status).toBe(200);
      expect(page.headers.get('x-verdict-cache')).not.toBe('HIT');
      await page.arrayBuffer();
      // The same URI as the cached sub-resource, asked as a page load: a question of its own.
      const samePath = await get(asset, { cookie, ...PAGE });
      expect(samePath.status).toBe(200);
      expect(samePath.headers.get('x-verdict-cache')).not.toBe('HIT');
      await samePath.arrayBuffer();
    }
    // A page of the backend outside any room (judged by the session alone) is not kept either.
    await untilCached('/app/home', { cookie, ...SCRIPT });
    for (let i = 0; i < 3; i++) {
      const page = await get('/app/home', { cookie, ...PAGE });
      expect(page.status).toBe(200);
      expect(page.headers.get('x-verdict-cache')).not.toBe('HIT');
      await page.arrayBuffer();
    }
    for (let i = 0; i < 3; i++) {
      const ws = new WebSocket(`${origin.replace('http', 'ws')}/rooms/staff-weekly/ws`, { headers: { cookie } });
      await new Promise<void>((resolve, reject) => {
        ws.once('message', () => resolve());
        ws.once('error', reject);
      });
      ws.close();
    }
    expect(await allowedJoins('alice', 'staff-weekly')).toBe(before + 9);
  });

  it('answers only the same question from the cache: another cookie, no cookie or another room is asked anew', async () => {
    const alice = await signInThrough(origin, 'alice');
    const carol = await signInThrough(origin, 'carol');
    await untilCached(APP_JS, { cookie: alice.cookie, ...SCRIPT });
    // No session: the login step, not alice's pass.
    const anonymous = await get(APP_JS, SCRIPT);
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.get('location')).toContain('/_roomguard/login');
    // carol: her own identity.
    const asCarol = (await (await get(APP_JS, { cookie: carol.cookie, ...SCRIPT })).json()) as Arrived;
    expect(asCarol.headers['x-roomguard-user']).toBe('carol');
    // alice with one more cookie: the backend gets that cookie (the answer names the Cookie header to pass).
    const more = (await (await get(APP_JS, { cookie: `${alice.cookie}; theme=dark`, ...SCRIPT })).json()) as Arrived;
    expect(more.headers['x-roomguard-user']).toBe('alice');
    expect(more.headers.cookie).toBe('theme=dark');
    // carol's pass in town-hall, kept, says nothing about staff-weekly.
    await untilCached(APP_JS, { cookie: carol.cookie, ...SCRIPT });
    const before = upstream.arrived.length;
    const elsewhere = await get('/rooms/staff-weekly/app.js', { cookie: carol.cookie, ...SCRIPT });
    expect(elsewhere.status).toBe(403);
    expect(upstream.arrived.length).toBe(before);
  });

  it('ends a session within a second through nginx when another of the person\'s sessions ends the others', async () => {
    const kept = await signInThrough(origin, 'alice');
    const revoked = await signInThrough(origin, 'alice');
    await untilCached(APP_JS, { cookie: revoked.cookie, ...SCRIPT });
    const csrf = await csrfOf(kept.browser, '/_roomguard/account');
    const ended = await kept.browser.request(`${origin}/_roomguard/account/end-others`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin }, body: `csrf=${encodeURIComponent(csrf)}` });
    expect(ended.status).toBe(303);
    const waited = await pastTheSecondOf(Date.now());
    expect(waited).toBeLessThanOrEqual(1020);
    const after = await get(APP_JS, { cookie: revoked.cookie, ...SCRIPT });
    expect(after.status).toBe(302);
    expect(after.headers.get('location')).toContain('/_roomguard/login');
    // The session that ended the others is still in.
    expect((await get(APP_JS, { cookie: kept.cookie, ...SCRIPT })).status).toBe(200);
  });

  it('ends a session within a second through nginx on logout, even for a browser that kept the cookie', async () => {
    const { browser, cookie } = await signInThrough(origin, 'bob');
    await untilCached(APP_JS, { cookie, ...SCRIPT });
    const csrf = await csrfOf(browser, '/_roomguard/logout');
    const out = await browser.request(`${origin}/_roomguard/logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin }, body: `csrf=${encodeURIComponent(csrf)}` });
    expect(out.status).toBe(303);
    await pastTheSecondOf(Date.now());
    const after = await get(APP_JS, { cookie, ...SCRIPT });
    expect(after.status).toBe(302);
    expect(after.headers.get('location')).toContain('/_roomguard/login');
  });

  it('asks roomguard every time in a location that leaves the cache off, and still refuses a header nginx cannot blank', async () => {
    const { cookie } = await signInThrough(origin, 'alice');
    for (let i = 0; i < 5; i++) {
      const res = await get('/rooms/town-hall/uncached/app.js', { cookie, ...SCRIPT });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-verdict-cache')).toBe('BYPASS');
      await res.arrayBuffer();
    }
    const port = Number(new URL(origin).port);
    const smuggled = await getWithRawHeaders(port, '/rooms/town-hall/uncached/app.js', [[NEW_FAMILY_MEMBERS[0]!, 'mallory-spoofed']], { cookie, ...SCRIPT });
    expect(smuggled.status).toBe(400);
    expect(smuggled.body).toContain('RG_REQUEST_INVALID');
  });
});
