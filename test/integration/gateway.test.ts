// The gateway end to end with real components: real Redis (private server), the real oidc-provider
// demo IdP, a real HTTP + WebSocket upstream, and two gateway instances sharing the store.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import WebSocket from 'ws';
import type { DemoIdp } from '../../src/demo/idp.js';
import type { Gateway } from '../../src/gateway/server.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import type { EchoUpstream, Arrived } from '../helpers/upstream.js';
import { testKeys } from '../helpers/gateway.js';
import { startRig, type Rig } from '../helpers/rig.js';
import { rawRequest } from '../helpers/raw-http.js';

const HTTPS_ORIGIN = 'https://gw.roomguard.test';

let rig: Rig;
let idp: DemoIdp;
let upstream: EchoUpstream;
let https: Gateway;
let portA: number;
let portB: number;
let origin: string;

beforeAll(async () => {
  rig = await startRig({
    instances: [
      {},
      // A second instance behind the same public origin, as behind a load balancer: same keys, same Redis.
      { behindFirst: true },
      // Another deployment on an https public URL, driven with inject() only.
      { publicUrl: HTTPS_ORIGIN, keys: testKeys(), keyPrefix: `rgtest-https:${randomUUID()}:` },
    ],
  });
  ({ idp, upstream, origin } = rig);
  [portA, portB] = rig.instances.map((instance) => instance.port) as [number, number];
  https = rig.instances[2]!.gateway;
});

afterAll(async () => {
  await rig?.close();
});

/** Logs `user` in through instance A, starting at `path`; returns the browser and the final response. */
async function loginAs(user: string, path = '/rooms/town-hall', headers: Record<string, string> = {}) {
  const browser = new ScriptedBrowser(headers);
  const start = await browser.follow(`${origin}${path}`);
  const done = await browser.submitLogin(start.final, user, 'demo');
  return { browser, final: done.final, hops: [...start.hops, ...done.hops] };
}

function lastArrived(filter: (a: Arrived) => boolean): Arrived | undefined {
  return [...upstream.arrived].reverse().find(filter);
}

describe('room requests without a session', () => {
  it('redirects a room page to login with the room as returnTo', async () => {
    const res = await fetch(`${origin}/rooms/town-hall?lang=de`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`/_roomguard/login?returnTo=${encodeURIComponent('/rooms/town-hall?lang=de')}`);
  });

  it('redirects other private paths to login, and never reaches the upstream', async () => {
    const before = upstream.arrived.length;
    const res = await fetch(`${origin}/anything/private`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toMatch(/^\/_roomguard\/login\?returnTo=/);
    const post = await fetch(`${origin}/rooms/town-hall`, { method: 'POST', body: 'x', redirect: 'manual' });
    expect(post.status).toBe(401);
    expect(upstream.arrived.length).toBe(before);
  });

  it('serves public paths without login, without identity headers', async () => {
    const res = await fetch(`${origin}/public/logo.svg`, { headers: { 'x-roomguard-user': 'mallory' } });
    expect(res.status).toBe(200);
    const seen = (await res.json()) as Arrived;
    expect(seen.url).toBe('/public/logo.svg');
    expect(Object.keys(seen.headers).filter((h) => h.startsWith('x-roomguard-'))).toEqual([]);
  });

  it('passes public paths at once, yet with the client\'s headers filtered as on every other path', async () => {
    const spoofed = { 'x-roomguard-user': 'mallory', 'remote-user': 'mallory', 'x-forwarded-user': 'mallory', 'x-forwarded-for': '198.51.100.9', 'x-original-uri': '/rooms/staff-weekly' };
    const res = await fetch(`${origin}/public/libs/app.js?v=2`, { headers: { ...spoofed, cookie: 'roomguard_session=abc; theme=dark; roomguard_session_lang=de', 'sec-fetch-dest': 'script' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toMatch(/\S/);
    const seen = (await res.json()) as Arrived;
    expect(seen.url).toBe('/public/libs/app.js?v=2');
    for (const name of ['x-roomguard-user', 'remote-user', 'x-forwarded-user', 'x-original-uri']) expect(seen.headers[name]).toBeUndefined();
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers.cookie).toBe('theme=dark');
    // The path is read as for every request: a spelling an upstream would route elsewhere is refused.
    const before = upstream.arrived.length;
    const sneaky = await rawRequest(Number(new URL(origin).port), '/public/%2e%2e/rooms/staff-weekly');
    expect(sneaky.status).toBe(400);
    expect(sneaky.body).toContain('RG_REQUEST_BAD_PATH');
    expect(upstream.arrived.length).toBe(before);
  });
});

describe('login and admission', () => {
  it('logs alice in through the real IdP and admits her to town-hall as moderator with signed identity', async () => {
    const { browser, final, hops } = await loginAs('alice');
    expect(final.status).toBe(200);
    expect(hops.at(-1)!.url.href).toBe(`${origin}/rooms/town-hall`);
    const seen = (await final.json()) as Arrived;
    expect(seen.url).toBe('/rooms/town-hall');
    expect(seen.headers['x-roomguard-user']).toBe('alice');
    expect(seen.headers['x-roomguard-email']).toBe('alice@example.org');
    expect(seen.headers['x-roomguard-groups']).toBe('board,board-chair,staff');
    expect(seen.headers['x-roomguard-room']).toBe('town-hall');
    expect(seen.headers['x-roomguard-role']).toBe('moderator');
    // The upstream never sees roomguard's own cookies.
    expect(String(seen.headers.cookie ?? '')).not.toContain('roomguard_session');

    const jwks = createRemoteJWKSet(new URL(`${origin}/_roomguard/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(String(seen.headers['x-roomguard-assertion']), jwks, { issuer: origin, audience: upstream.url });
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload).toMatchObject({ sub: 'alice', room: 'town-hall', role: 'moderator', email: 'alice@example.org', idp: idp.issuer });
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(60);

    const cookie = browser.jar.get('roomguard_session')!;
    expect(cookie.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(cookie.attributes.has('httponly')).toBe(true);
    expect(cookie.attributes.get('samesite')).toBe('Lax');
    expect(cookie.path).toBe('/');
    expect(cookie.attributes.has('expires') || cookie.attributes.has('max-age')).toBe(false);
  });

  it('forwards the query string byte for byte (no re-encoding)', async () => {
    const { browser } = await loginAs('bob');
    const res = await browser.request(`${origin}/rooms/town-hall?a=b+c&d=%20e&f=%2B&g&h=%C3%A4`);
    expect(((await res.json()) as Arrived).url).toBe('/rooms/town-hall?a=b+c&d=%20e&f=%2B&g&h=%C3%A4');
  });

  it('admits bob to town-hall as participant, and to staff-weekly (staff-* glob)', async () => {
    const { browser, final } = await loginAs('bob');
    expect(((await final.json()) as Arrived).headers['x-roomguard-role']).toBe('participant');
    const staff = await browser.request(`${origin}/rooms/staff-weekly`);
    expect(staff.status).toBe(200);
    expect(((await staff.json()) as Arrived).headers['x-roomguard-room']).toBe('staff-weekly');
  });

  it('denies carol the staff room with a 403 page naming the reason and a request id, in German when asked', async () => {
    const { browser } = await loginAs('carol');
    const before = upstream.arrived.length;
    const res = await browser.request(`${origin}/rooms/staff-weekly`, { headers: { 'accept-language': 'de-DE,de;q=0.9,en;q=0.5' } });
    expect(res.status).toBe(403);
    const html = await res.text();
    expect(html).toContain('<html lang="de">');
    expect(html).toContain('Sie dürfen diesen Raum nicht betreten');
    expect(html).toContain('RG_POLICY_NOT_ALLOWED');
    expect(html).toContain(res.headers.get('x-request-id')!);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(upstream.arrived.length).toBe(before);
  });

  it('denies a room no policy matches (deny by default) and keeps board closed without a second factor', async () => {
    const { browser } = await loginAs('alice');
    const before = upstream.arrived.length;
    const none = await browser.request(`${origin}/rooms/secret-lab`);
    expect(none.status).toBe(403);
    expect(await none.text()).toContain('RG_POLICY_NO_MATCH');
    // A page load is sent to the second-factor step; anything else is refused outright.
    const page = await browser.request(`${origin}/rooms/board?x=1`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe(`/_roomguard/mfa?${new URLSearchParams({ returnTo: '/rooms/board?x=1', room: 'board' })}`);
    const api = await browser.request(`${origin}/rooms/board/api`);
    expect(api.status).toBe(403);
    expect(await api.text()).toContain('RG_MFA_REQUIRED');
    expect(upstream.arrived.length).toBe(before);
  });

  it('shows the room notice once before the first page load, then lets the page through', async () => {
    const { browser } = await loginAs('bob', '/rooms/staff-weekly');
    const html = { accept: 'text/html' };
    const first = await browser.request(`${origin}/rooms/town-hall`, { headers: html });
    expect(first.status).toBe(302);
    const noticeUrl = new URL(first.headers.get('location')!, origin);
    expect(noticeUrl.pathname).toBe('/_roomguard/notice');
    const page = await (await browser.request(noticeUrl, { headers: { 'accept-language': 'de' } })).text();
    expect(page).toContain('Dieses Meeting wird nicht aufgezeichnet');
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1]!;
    const forged = await browser.request(`${origin}/_roomguard/notice`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'room=town-hall&returnTo=%2Frooms%2Ftown-hall&csrf=nope' });
    expect(forged.status).toBe(403);
    const ack = await browser.request(`${origin}/_roomguard/notice`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `room=town-hall&returnTo=%2Frooms%2Ftown-hall&csrf=${encodeURIComponent(csrf)}` });
    expect(ack.status).toBe(303);
    expect(ack.headers.get('location')).toBe('/rooms/town-hall');
    const room = await browser.request(`${origin}/rooms/town-hall`, { headers: html });
    expect(room.status).toBe(200);
  });

  it('continues a login on the other instance: callback lands on B, session works on A and B', async () => {
    const browser = new ScriptedBrowser();
    const start = await browser.follow(`${origin}/rooms/town-hall`);
    const html = await start.final.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)![1]!.replace(/&amp;/g, '&');
    const submit = await browser.request(new URL(action, start.final.url), {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'login=bob&password=demo',
    });
    // Follow the IdP's redirects until it sends the browser back to the gateway's callback.
    let location = new URL(submit.headers.get('location')!, action.startsWith('http') ? action : idp.url);
    while (!location.pathname.endsWith('/_roomguard/callback')) {
      const next = await browser.request(location);
      location = new URL(next.headers.get('location')!, location);
    }
    location.port = String(portB);
    const callback = await browser.request(location);
    expect(callback.status).toBe(302);
    expect(callback.headers.get('location')).toBe('/rooms/town-hall');
    for (const port of [portA, portB]) {
      const res = await browser.request(`http://127.0.0.1:${port}/rooms/town-hall`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as Arrived).headers['x-roomguard-user']).toBe('bob');
    }
    // The pending login was taken: replaying the callback fails.
    const replay = await browser.request(location);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('RG_LOGIN_STATE_UNKNOWN');
  });

  it('refuses a callback in a browser that did not start the login (login CSRF)', async () => {
    const victim = new ScriptedBrowser();
    const attacker = new ScriptedBrowser();
    const start = await attacker.follow(`${origin}/rooms/town-hall`);
    const html = await start.final.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)![1]!.replace(/&amp;/g, '&');
    let res = await attacker.request(new URL(action, start.final.url), {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'login=carol&password=demo',
    });
    let location = new URL(res.headers.get('location')!, idp.url);
    while (!location.pathname.endsWith('/_roomguard/callback')) {
      res = await attacker.request(location);
      location = new URL(res.headers.get('location')!, location);
    }
    const forced = await victim.request(location);
    expect(forced.status).toBe(400);
    expect(await forced.text()).toContain('RG_LOGIN_STATE_UNKNOWN');
    expect(victim.jar.get('roomguard_session')).toBeUndefined();
  });
});

describe('identity headers cannot be spoofed', () => {
  it('strips every incoming X-Roomguard-* header on HTTP before adding its own', async () => {
    const { browser } = await loginAs('bob');
    const res = await browser.request(`${origin}/rooms/town-hall`, {
      headers: { 'X-Roomguard-User': 'mallory', 'x-ROOMGUARD-role': 'moderator', 'x-roomguard-assertion': 'forged', 'x-roomguard-extra': 'x', 'x-roomguard-room': 'board' },
    });
    const seen = (await res.json()) as Arrived;
    expect(seen.headers['x-roomguard-user']).toBe('bob');
    expect(seen.headers['x-roomguard-role']).toBe('participant');
    expect(seen.headers['x-roomguard-room']).toBe('town-hall');
    expect(seen.headers['x-roomguard-extra']).toBeUndefined();
    expect(seen.headers['x-roomguard-assertion']).not.toBe('forged');
  });

  it('strips them on non-room paths and WebSocket upgrades too', async () => {
    const { browser } = await loginAs('bob');
    const other = await browser.request(`${origin}/some/app/path`, { headers: { 'x-roomguard-room': 'board', 'x-roomguard-role': 'moderator' } });
    const seen = (await other.json()) as Arrived;
    expect(seen.headers['x-roomguard-user']).toBe('bob');
    expect(seen.headers['x-roomguard-room']).toBeUndefined();
    expect(seen.headers['x-roomguard-role']).toBeUndefined();

    const cookie = browser.jar.header(new URL(origin))!;
    const ws = new WebSocket(`ws://127.0.0.1:${portA}/rooms/town-hall/ws`, { headers: { cookie, 'x-roomguard-user': 'mallory', 'x-roomguard-role': 'moderator' } });
    const first = await new Promise<Arrived>((resolve, reject) => {
      ws.once('message', (data) => resolve(JSON.parse(data.toString()) as Arrived));
      ws.once('error', reject);
    });
    ws.close();
    expect(first.headers['x-roomguard-user']).toBe('bob');
    expect(first.headers['x-roomguard-role']).toBe('participant');
  });
});

describe('WebSocket', () => {
  function openWs(path: string, headers: Record<string, string> = {}) {
    const ws = new WebSocket(`ws://127.0.0.1:${portA}${path}`, { headers });
    return new Promise<{ ws?: WebSocket; status?: number; reason?: string }>((resolve) => {
      ws.once('open', () => resolve({ ws }));
      ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0, reason: String(res.headers['x-roomguard-reason'] ?? '') }));
      ws.once('error', () => resolve({ status: -1 }));
    });
  }

  it('refuses an upgrade without a session before it reaches the upstream', async () => {
    const before = upstream.arrived.filter((x) => x.method === 'WS').length;
    const result = await openWs('/rooms/town-hall/ws');
    expect(result.status).toBe(401);
    expect(result.reason).toBe('RG_LOGIN_REQUIRED');
    const forged = await openWs('/rooms/town-hall/ws', { cookie: `roomguard_session=${'A'.repeat(43)}` });
    expect(forged.status).toBe(401);
    expect(upstream.arrived.filter((x) => x.method === 'WS').length).toBe(before);
  });

  it('refuses an upgrade into a room the session may not enter', async () => {
    const { browser } = await loginAs('carol');
    const result = await openWs('/rooms/staff-weekly/ws', { cookie: browser.jar.header(new URL(origin))! });
    expect(result.status).toBe(403);
    expect(result.reason).toBe('RG_POLICY_NOT_ALLOWED');
  });

  it('relays an allowed upgrade with identity headers, in both directions', async () => {
    const { browser } = await loginAs('alice');
    const result = await openWs('/rooms/town-hall/ws', { cookie: browser.jar.header(new URL(origin))! });
    const ws = result.ws!;
    expect(ws).toBeDefined();
    const messages: string[] = [];
    const got = (n: number) => new Promise<void>((resolve) => {
      const check = () => (messages.length >= n ? resolve() : undefined);
      ws.on('message', (d) => {
        messages.push(d.toString());
        check();
      });
    });
    const two = got(2);
    ws.send('hello');
    await two;
    ws.close();
    const handshake = JSON.parse(messages[0]!) as Arrived;
    expect(handshake.url).toBe('/rooms/town-hall/ws');
    expect(handshake.headers['x-roomguard-user']).toBe('alice');
    expect(handshake.headers['x-roomguard-room']).toBe('town-hall');
    expect(String(handshake.headers.cookie ?? '')).not.toContain('roomguard_session');
    expect(messages[1]).toBe('echo:hello');
  });
});

describe('room canonicalisation and path hygiene', () => {
  it.each([
    ['/rooms/Town-Hall', '/rooms/town-hall'],
    ['/rooms/TOWN-HALL?x=1', '/rooms/town-hall?x=1'],
    ['/rooms/%74own-hall', '/rooms/town-hall'], // first to the plain spelling of the path, then canonical
    ['/rooms/%EF%BD%94own-hall', '/rooms/town-hall'], // fullwidth ｔ, NFKC
    ['/rooms/Board/ws', '/rooms/board/ws'],
  ])('redirects %s to the canonical %s', async (path, expected) => {
    const res = await rawRequest(portA, path);
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe(expected);
  });

  it.each(['/rooms//town-hall', '/rooms/x/../town-hall', '/rooms/%2e%2e/town-hall', '/rooms/a%2fb', '/rooms/a%5cb', '/x/./y', '/rooms/town-hall/%2E'])(
    'refuses %s with 400 before any decision', async (path) => {
      const before = upstream.arrived.length;
      const res = await rawRequest(portA, path);
      expect(res.status).toBe(400);
      expect(res.body).toContain('RG_REQUEST_BAD_PATH');
      expect(upstream.arrived.length).toBe(before);
    });

  it('does not let case or encoding variants of a room path slip past the decision', async () => {
    const { browser } = await loginAs('carol', '/rooms/town-hall');
    const cookie = browser.jar.header(new URL(origin))!;
    const before = upstream.arrived.length;
    for (const path of ['/ROOMS/staff-weekly', '/Rooms/staff-weekly/', '/rooms/staff-weekly'.toUpperCase()]) {
      expect((await rawRequest(portA, path, { cookie })).status).toBe(400);
    }
    // Escaped unreserved characters are another spelling: redirected to the plain path, then judged there.
    const encoded = await rawRequest(portA, '/r%6foms/staff-weekly', { cookie });
    expect(encoded.status).toBe(302);
    expect(encoded.headers.location).toBe('/rooms/staff-weekly');
    expect((await rawRequest(portA, '/rooms/staff-weekly', { cookie })).status).toBe(403);
    expect((await rawRequest(portA, '/r%6foms/staff-weekly', { cookie }, 'POST')).status).toBe(400);
    expect(upstream.arrived.length).toBe(before);
  });

  it('refuses room names with characters rooms cannot have', async () => {
    const res = await rawRequest(portA, '/rooms/a@b');
    expect(res.status).toBe(400);
    expect(res.body).toContain('RG_ROOM_INVALID');
  });
});

describe('returnTo stays home', () => {
  it.each(['//evil.example', '/\\evil.example', 'https://evil.example/', 'https:evil.example', '/%2F%2Fevil.example', '/%5Cevil.example', '/%252F%252Fevil.example', 'javascript:alert(1)', '/\t/evil.example', 'evil', '/_roomguard/logout'])(
    'refuses returnTo=%s', async (value) => {
      const res = await fetch(`${origin}/_roomguard/login?returnTo=${encodeURIComponent(value)}`, { redirect: 'manual' });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('RG_RETURN_TO_INVALID');
    });

  it('accepts a same-origin path and sends the browser to the IdP', async () => {
    const res = await fetch(`${origin}/_roomguard/login?returnTo=${encodeURIComponent('/rooms/town-hall?a=1')}`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const target = new URL(res.headers.get('location')!);
    expect(target.origin).toBe(new URL(idp.issuer).origin);
    expect(target.searchParams.get('code_challenge_method')).toBe('S256');
    expect(target.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(target.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('logout', () => {
  it('needs the CSRF token, ends the session on every instance, clears site data and goes to the IdP', async () => {
    const { browser } = await loginAs('bob');
    const page = await browser.request(`${origin}/_roomguard/logout`);
    const html = await page.text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const forged = await browser.request(`${origin}/_roomguard/logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'csrf=wrong' });
    expect(forged.status).toBe(403);
    const crossSite = await browser.request(`${origin}/_roomguard/logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' }, body: `csrf=${csrf}` });
    expect(crossSite.status).toBe(403);
    const stillIn = await browser.request(`http://127.0.0.1:${portB}/rooms/town-hall`);
    expect(stillIn.status).toBe(200);
    await stillIn.arrayBuffer();

    const cookieBefore = browser.jar.header(new URL(origin))!;
    const out = await browser.request(`${origin}/_roomguard/logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin }, body: `csrf=${encodeURIComponent(csrf)}` });
    expect(out.status).toBe(303);
    expect(out.headers.get('clear-site-data')).toContain('"cookies"');
    const endSession = new URL(out.headers.get('location')!);
    expect(endSession.origin).toBe(new URL(idp.issuer).origin);
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${origin}/_roomguard/logged-out`);
    for (const port of [portA, portB]) {
      // Even a browser that kept the old cookie is out, on both instances.
      const res = await fetch(`http://127.0.0.1:${port}/rooms/town-hall`, { headers: { cookie: cookieBefore }, redirect: 'manual' });
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toMatch(/^\/_roomguard\/login/);
    }
  });
});

describe('https public URL', () => {
  it('uses __Host- cookies with Secure and sends HSTS', async () => {
    const login = await https.app.inject({ method: 'GET', url: '/_roomguard/login?returnTo=%2Frooms%2Ftown-hall' });
    expect(login.statusCode).toBe(302);
    expect(login.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    const binding = String(login.headers['set-cookie']);
    // The pending login, sealed (a compact JWE with direct encryption: header..iv.ciphertext.tag).
    expect(binding).toMatch(/^__Host-roomguard_session_login=[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+; Max-Age=\d+; Path=\/; HttpOnly; Secure; SameSite=Lax$/);

    // Drive the real IdP, then deliver its callback to the https gateway.
    const browser = new ScriptedBrowser();
    const page = await browser.follow(String(login.headers.location));
    const html = await page.final.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)![1]!.replace(/&amp;/g, '&');
    let res = await browser.request(new URL(action, page.final.url), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'login=alice&password=demo' });
    let location = new URL(res.headers.get('location')!, idp.url);
    while (location.origin !== HTTPS_ORIGIN) {
      res = await browser.request(location);
      location = new URL(res.headers.get('location')!, location);
    }
    const callback = await https.app.inject({ method: 'GET', url: location.pathname + location.search, headers: { cookie: binding.split(';')[0]! } });
    expect(callback.statusCode).toBe(302);
    const cookies = ([] as string[]).concat(callback.headers['set-cookie'] as string | string[]);
    const session = cookies.find((c) => c.startsWith('__Host-roomguard_session='))!;
    expect(session).toMatch(/^__Host-roomguard_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
    const room = await https.app.inject({ method: 'GET', url: '/rooms/town-hall', headers: { cookie: session.split(';')[0]! } });
    expect(room.statusCode).toBe(200);
    expect(JSON.parse(room.body).headers['x-roomguard-user']).toBe('alice');
  });
});

describe('health', () => {
  it('answers /healthz and /readyz with the checks', async () => {
    expect((await fetch(`${origin}/healthz`)).status).toBe(200);
    const ready = await fetch(`${origin}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { store: { ok: true }, idp: { ok: true }, policies: { ok: true } } });
  });

  it('answers unknown roomguard paths with a 404 page', async () => {
    const res = await fetch(`${origin}/_roomguard/nope`);
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('RG_NOT_FOUND');
  });
});

describe('hostile request lines', () => {
  it('answers a request URL that does not parse with a 400 page, not a 500', async () => {
    const res = await rawRequest(portA, '//[');
    expect(res.status).toBe(400);
    expect(res.body).toContain('RG_REQUEST_BAD_PATH');
  });
});
