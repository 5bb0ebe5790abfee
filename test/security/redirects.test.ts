// Redirects stay home (invariant 7) on every roomguard route that takes a returnTo, not only the login
// page (test/integration/gateway.test.ts), and the OIDC state cannot be tampered with. A property test
// adds: whatever safeReturnTo accepts resolves to the public origin and never into roomguard's own
// state-changing paths. Real gateway, real IdP, real Redis.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { safeReturnTo } from '../../src/identity/return-to.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import { rawRequest } from '../helpers/raw-http.js';
import { loginAs } from './harness.js';
import { startRig, type Rig } from '../helpers/rig.js';

let rig: Rig;
let bob: ScriptedBrowser;

beforeAll(async () => {
  rig = await startRig({ store: inject('redisUrl') });
  bob = (await loginAs(rig.origin, 'bob')).browser;
});

afterAll(async () => {
  await rig?.close();
});

const EVIL = ['//evil.example', '/\\evil.example', 'https:evil.example', 'https://evil.example/', '/%2F%2Fevil.example', '/%5Cevil.example', '/%0d%0aSet-Cookie:%20x=1', '/%0aLocation:%20https://evil.example', 'http://127.0.0.1.evil.example/', '/.//evil.example'];

/** Where the response sends the browser, resolved against the gateway (undefined without a redirect). */
function destination(res: Response): URL | undefined {
  const location = res.headers.get('location');
  return location ? new URL(location, rig.origin) : undefined;
}

describe('returnTo on every route that takes one', () => {
  const routes: Array<[string, (value: string) => Promise<Response>]> = [
    ['GET /_roomguard/login', (v) => bob.request(`${rig.origin}/_roomguard/login?${new URLSearchParams({ returnTo: v })}`)],
    ['GET /_roomguard/mfa', (v) => bob.request(`${rig.origin}/_roomguard/mfa?${new URLSearchParams({ returnTo: v, room: 'board' })}`)],
    ['GET /_roomguard/mfa/totp/setup', (v) => bob.request(`${rig.origin}/_roomguard/mfa/totp/setup?${new URLSearchParams({ returnTo: v, room: '' })}`)],
    ['GET /_roomguard/notice', (v) => bob.request(`${rig.origin}/_roomguard/notice?${new URLSearchParams({ returnTo: v, room: 'town-hall' })}`)],
    ['POST /_roomguard/notice', async (v) => {
      const page = await (await bob.request(`${rig.origin}/_roomguard/logout`)).text();
      const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1]!;
      return bob.request(`${rig.origin}/_roomguard/notice`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf, room: 'town-hall', returnTo: v }).toString() });
    }],
  ];

  it.each(routes)('%s refuses every off-site returnTo with RG_RETURN_TO_INVALID and never redirects off-site', async (_route, send) => {
    for (const value of EVIL) {
      const res = await send(value);
      const body = await res.text();
      expect({ value, status: res.status, code: body.includes('RG_RETURN_TO_INVALID') }).toEqual({ value, status: 400, code: true });
      expect(destination(res)?.origin ?? rig.origin).toBe(rig.origin);
      expect(res.headers.getSetCookie().some((c) => c.startsWith('x='))).toBe(false);
    }
  });

  it.each(routes)('%s accepts a same-origin path (the deny side)', async (_route, send) => {
    const res = await send('/rooms/town-hall?a=1');
    expect(res.status).not.toBe(400);
    await res.arrayBuffer();
  });
});

describe('OIDC state and callback tampering', () => {
  /** Drives the IdP for a fresh login and stops at the callback URL it sends the browser to. */
  async function callbackFor(browser: ScriptedBrowser, user: string): Promise<URL> {
    const start = await browser.follow(`${rig.origin}/_roomguard/login?returnTo=%2Frooms%2Ftown-hall`);
    const html = await start.final.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)![1]!.replace(/&amp;/g, '&');
    let res = await browser.request(new URL(action, start.final.url), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `login=${user}&password=demo` });
    let location = new URL(res.headers.get('location')!, rig.idp.url);
    while (!location.pathname.endsWith('/_roomguard/callback')) {
      res = await browser.request(location);
      location = new URL(res.headers.get('location')!, location);
    }
    return location;
  }

  it.each([
    ['a changed state', (u: URL) => u.searchParams.set('state', `${u.searchParams.get('state')!.slice(0, -2)}AA`)],
    ['no state', (u: URL) => u.searchParams.delete('state')],
    ['a repeated state', (u: URL) => u.searchParams.append('state', 'x')],
    ['an over-long state', (u: URL) => u.searchParams.set('state', 'A'.repeat(5000))],
    ['a changed code', (u: URL) => u.searchParams.set('code', 'forged')],
  ])('refuses a callback with %s and creates no session', async (_what, tamper) => {
    const browser = new ScriptedBrowser();
    const callback = await callbackFor(browser, 'carol');
    tamper(callback);
    const res = await browser.request(callback);
    // 400 when roomguard refuses the state itself; 502 RG_LOGIN_FAILED when the IdP or openid-client refuses the rest.
    const body = await res.text();
    expect({ status: res.status, code: /RG_LOGIN_STATE_UNKNOWN|RG_REQUEST_INVALID/.test(body) || (res.status === 502 && body.includes('RG_LOGIN_FAILED')) }).toMatchObject({ code: true });
    expect([400, 502]).toContain(res.status);
    expect(browser.jar.get('roomguard_session')).toBeUndefined();
  });

  it('refuses a callback replayed with a copy of the pending-login cookie, and makes no second session', async () => {
    const browser = new ScriptedBrowser();
    const callback = await callbackFor(browser, 'carol');
    const copied = browser.jar.header(callback)!;
    const first = await browser.request(callback);
    expect(first.status).toBe(302);
    // The browser was told to drop the pending login; a copy kept from before still fails.
    expect(browser.jar.get('roomguard_session_login')).toBeUndefined();
    const replay = await fetch(callback, { redirect: 'manual', headers: { cookie: copied.split('; ').filter((c) => c.startsWith('roomguard_session_login=')).join('; ') } });
    expect([400, 502]).toContain(replay.status);
    expect(replay.headers.getSetCookie().some((c) => c.startsWith('roomguard_session='))).toBe(false);
  });

  it('completes two logins started in one browser at once (two tabs), each returning where it started', async () => {
    const browser = new ScriptedBrowser();
    const tabA = await browser.follow(`${rig.origin}/_roomguard/login?returnTo=%2Frooms%2Ftown-hall`);
    const tabB = await browser.follow(`${rig.origin}/_roomguard/login?returnTo=%2Frooms%2Fstaff-weekly`);
    const doneB = await browser.submitLogin(tabB.final, 'bob', 'demo');
    expect(doneB.hops.find((h) => h.url.pathname === '/_roomguard/callback')?.location).toBe('/rooms/staff-weekly');
    const doneA = await browser.submitLogin(tabA.final, 'bob', 'demo');
    expect(doneA.hops.find((h) => h.url.pathname === '/_roomguard/callback')?.location).toBe('/rooms/town-hall');
    expect(browser.jar.get('roomguard_session_login')).toBeUndefined();
  });

  it('sends the IdP the configured redirect URI whatever Host the request names', async () => {
    const res = await rawRequest(rig.port, '/_roomguard/login?returnTo=%2F', { host: 'evil.example' });
    expect(res.status).toBe(302);
    const target = new URL(String(res.headers.location));
    expect(target.searchParams.get('redirect_uri')).toBe(`${rig.origin}/_roomguard/callback`);
  });
});

describe('safeReturnTo (property)', () => {
  const PUBLIC = new URL('https://meet.example.org');
  const pieces = fc.constantFrom('/', '//', '\\', '%2f', '%2F', '%5c', '%252f', '.', '..', '%2e', ':', 'https:', 'evil.example', '@', '?', '#', '%0d', '%0a', '\t', 'rooms', 'a', '_roomguard', 'logout', '%', '%25', ';', ' ', 'ｅ', '／', '＼');
  it('never accepts a value that leaves the origin or lands on roomguard\'s own sign-in or sign-out', () => {
    fc.assert(fc.property(fc.array(pieces, { maxLength: 10 }).map((p) => p.join('')), (value) => {
      const accepted = safeReturnTo(value, PUBLIC);
      if (accepted === undefined) return;
      const resolved = new URL(accepted, PUBLIC);
      expect(resolved.origin).toBe(PUBLIC.origin);
      expect(accepted.startsWith('/')).toBe(true);
      expect(accepted.startsWith('//')).toBe(false);
      expect(decodeURIComponent(resolved.pathname)).not.toMatch(/^\/_roomguard\/(login|logout|callback)/);
    }), { numRuns: 5000 });
  });
});
