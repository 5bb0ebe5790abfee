// A risk: high room allows at most 15 minutes of idleness (on top of the gateway's own limit). The
// request that finds the session too idle counts as activity itself, so the lapse must be remembered:
// every later request into such a room is refused until a login at the IdP itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { ScriptedBrowser } from '../helpers/browser.js';
import { startRig, type Rig } from '../helpers/rig.js';

const POLICIES = fileURLToPath(new URL('../fixtures/policies-high-idle', import.meta.url));
let rig: Rig;
let origin: string;
let offset = 0;

beforeAll(async () => {
  rig = await startRig({
    policiesDir: POLICIES,
    // The IdP's password login counts as the room's second factor here (oidc.trustAmr), so only idleness matters.
    config: { oidc: { trustAmr: ['pwd'] } },
    gateway: { now: () => Date.now() + offset },
  });
  ({ origin } = rig);
});

afterAll(async () => {
  await rig?.close();
});

async function enter(user: string) {
  offset = 0;
  const browser = new ScriptedBrowser({ accept: 'text/html' });
  const start = await browser.follow(`${origin}/rooms/secret`);
  const done = await browser.submitLogin(start.final, user, 'demo');
  expect(done.final.status).toBe(200);
  return browser;
}

describe('the idle limit of a risk: high room', () => {
  it('keeps admitting a session used within 15 minutes', async () => {
    const browser = await enter('carol');
    offset = 10 * 60_000;
    expect((await browser.request(`${origin}/rooms/secret`)).status).toBe(200);
    offset = 20 * 60_000; // 10 minutes after the last request
    expect((await browser.request(`${origin}/rooms/secret`)).status).toBe(200);
  });

  it('after 20 idle minutes sends the person to a fresh IdP login, and keeps doing so on every retry', async () => {
    const browser = await enter('bob');
    offset = 20 * 60_000; // beyond the room's 15 minutes, within the gateway's 30
    for (let attempt = 0; attempt < 3; attempt++) {
      const res = await browser.request(`${origin}/rooms/secret`);
      expect(res.status).toBe(302);
      const location = new URL(res.headers.get('location')!, origin);
      expect(location.pathname).toBe('/_roomguard/login');
      expect(location.searchParams.get('fresh')).toBe('1');
    }
    // Rooms without such a limit still admit the session (it is within the gateway's 30 minutes).
    expect((await browser.request(`${origin}/anything/else`)).status).toBe(200);
  });
});
