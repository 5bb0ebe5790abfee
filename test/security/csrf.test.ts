// CSRF on every state-changing route of roomguard itself, enumerated from the running fastify app: a new
// POST route under /_roomguard/ that forgets the token or the Origin check fails this test without
// anyone remembering to add a case. Real gateway, real IdP, real Redis.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ScriptedBrowser } from '../helpers/browser.js';
import { enrolTotp, loginAs } from './harness.js';
import { startRig, type Rig } from '../helpers/rig.js';

let rig: Rig;

/**
 * Routes that change state without a browser session and so without a CSRF token, each with why.
 * Anything else under /_roomguard/ that accepts POST must refuse a request without the session's token.
 */
const NOT_BROWSER_FORMS: Record<string, string> = {
  '/_roomguard/backchannel-logout': 'server-to-server from the IdP; authenticated by the IdP-signed logout token (test/integration/backchannel.test.ts)',
};

/** Rebuilds full paths from fastify's printRoutes tree (one route segment per line, 4 columns per level, the root at level 1). */
function postRoutes(tree: string): string[] {
  const stack: string[] = [];
  const out: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^([│ ├└─]*)(\S.*?) \(([A-Z, ]+)\)$/.exec(line.replace(/\s+$/, ''));
    if (!match) continue;
    const depth = match[1]!.length / 4 - 1;
    const path = (depth === 0 ? '' : stack[depth - 1]!) + match[2]!;
    stack[depth] = path;
    stack.length = depth + 1;
    if (match[3]!.split(/,\s*/).includes('POST')) out.push(path);
  }
  return out;
}

/** alice as audit reviewer (group board) with an authenticator app enrolled: the audit routes need both. */
let reviewer: { browser: ScriptedBrowser; csrf: string };

beforeAll(async () => {
  rig = await startRig({ store: inject('redisUrl'), config: { audit: { reviewers: ['board'] } } });
  const { browser } = await loginAs(rig.origin, 'alice');
  await enrolTotp(rig.origin, browser, '/_roomguard/account', '');
  const page = await (await browser.request(`${rig.origin}/_roomguard/logout`)).text();
  reviewer = { browser, csrf: /name="csrf" value="([^"]+)"/.exec(page)![1]! };
  expect((await browser.request(`${rig.origin}/_roomguard/audit`)).status).toBe(200);
});

afterAll(async () => {
  await rig?.close();
});

/** A fresh logged-in browser and its CSRF token (from the sign-out page, which every session can open). */
async function session(): Promise<{ browser: ScriptedBrowser; csrf: string }> {
  const { browser, final } = await loginAs(rig.origin, 'bob');
  await final.arrayBuffer();
  const page = await (await browser.request(`${rig.origin}/_roomguard/logout`)).text();
  return { browser, csrf: /name="csrf" value="([^"]+)"/.exec(page)![1]! };
}

function post(browser: ScriptedBrowser, path: string, fields: Record<string, string>, origin?: string) {
  return browser.request(`${rig.origin}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', ...(origin ? { origin } : {}) },
    body: new URLSearchParams({ returnTo: '/rooms/town-hall', room: '', ...fields }).toString(),
  });
}

const routes = () => postRoutes(rig.gateway.app.printRoutes({ method: 'POST', commonPrefix: false })).filter((p) => p.startsWith('/_roomguard/') && !p.includes('*'));

describe('CSRF on roomguard\'s own state-changing routes', () => {
  it('finds the POST routes (the enumeration itself works)', () => {
    expect(routes()).toEqual(expect.arrayContaining(['/_roomguard/logout', '/_roomguard/notice', '/_roomguard/mfa/totp', '/_roomguard/account/end-others']));
    expect(routes().length).toBeGreaterThanOrEqual(10);
  });

  it('every POST route without a token, with a wrong token, or from a foreign origin is refused with RG_CSRF; the right token from our origin passes the check', async () => {
    const checked: string[] = [];
    for (const path of routes()) {
      if (path in NOT_BROWSER_FORMS) continue;
      const { browser, csrf } = path.startsWith('/_roomguard/audit') ? reviewer : await session();
      for (const [label, fields, origin] of [
        ['no token', {}, undefined],
        ['a wrong token', { csrf: `${csrf.slice(0, -2)}${csrf.endsWith('AA') ? 'BB' : 'AA'}` }, undefined],
        ['another session\'s token', { csrf: (await session()).csrf }, undefined],
        ['a foreign Origin', { csrf }, 'https://evil.example'],
        ['Origin null', { csrf }, 'null'],
      ] as const) {
        const res = await post(browser, path, fields, origin);
        const body = await res.text();
        expect({ path, label, status: res.status, csrf: body.includes('RG_CSRF') }).toEqual({ path, label, status: 403, csrf: true });
      }
      // The deny side: with the token, from our own origin, the request gets past the CSRF check
      // (it may still fail for other reasons, e.g. missing fields, but not as CSRF).
      const ok = await post(browser, path, { csrf }, rig.origin);
      expect({ path, csrf: (await ok.text()).includes('RG_CSRF') }).toEqual({ path, csrf: false });
      checked.push(path);
    }
    expect(checked.length).toBeGreaterThanOrEqual(10);
  });

  it('the exempt back-channel route refuses a request without an IdP-signed logout token', async () => {
    const { browser } = await session();
    for (const path of Object.keys(NOT_BROWSER_FORMS)) {
      const res = await post(browser, path, { logout_token: 'x.y.z' });
      expect(res.status).toBe(400);
    }
    // ...and the session it came with is untouched.
    expect((await browser.request(`${rig.origin}/rooms/town-hall`)).status).toBe(200);
  });

  it('a GET to a state-changing path changes nothing (sign-out needs the POST)', async () => {
    const { browser } = await session();
    expect((await browser.request(`${rig.origin}/_roomguard/logout`)).status).toBe(200);
    expect((await browser.request(`${rig.origin}/rooms/town-hall`)).status).toBe(200);
  });
});
