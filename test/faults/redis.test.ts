// Redis killed and restarted (without persistence) in the middle of a login, a second-factor step and a
// join, against a real gateway and IdP. Nothing is admitted while the store is away, and what it held is
// cleanly gone afterwards: a login redirect, never a 500 or a half-valid session.
// (The 503 page and /readyz while Redis is down: test/integration/redis-store.test.ts.)
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScriptedBrowser } from '../helpers/browser.js';
import { loginAs } from '../security/harness.js';
import { startRig, type Rig } from '../helpers/rig.js';
import { startRedis, type PrivateRedis } from '../helpers/redis-servers.js';

let redis: PrivateRedis;
let rig: Rig;

beforeAll(async () => {
  redis = await startRedis('faults');
  rig = await startRig({ store: redis.url });
});

afterAll(async () => {
  await rig?.close();
  await redis?.stop();
});

async function readyAgain(): Promise<void> {
  await expect.poll(async () => (await fetch(`${rig.origin}/readyz`)).status, { timeout: 15_000, interval: 200 }).toBe(200);
}

describe('Redis killed and restarted', () => {
  it('refuses a logged-in participant\'s join while Redis is down (503, nothing upstream), and after the restart the session is cleanly gone', async () => {
    const { browser } = await loginAs(rig.origin, 'bob');
    expect((await browser.request(`${rig.origin}/rooms/town-hall`)).status).toBe(200);
    await redis.kill();
    try {
      const before = rig.upstream.arrived.length;
      const res = await browser.request(`${rig.origin}/rooms/town-hall`);
      expect(res.status).toBe(503);
      const page = await res.text();
      expect(page).toContain('RG_STORE_UNAVAILABLE');
      expect(page).toContain(res.headers.get('x-request-id')!);
      expect(rig.upstream.arrived.length).toBe(before);
    } finally {
      await redis.restart();
    }
    await readyAgain();
    const after = await browser.request(`${rig.origin}/rooms/town-hall`);
    expect(after.status).toBe(302);
    expect(after.headers.get('location')).toMatch(/^\/_roomguard\/login\?/);
  });

  it('completes a login started before a Redis restart: its pending state lives in the browser, not the store', async () => {
    const browser = new ScriptedBrowser();
    const start = await browser.follow(`${rig.origin}/rooms/town-hall`);
    await redis.kill();
    await redis.restart();
    await readyAgain();
    const done = await browser.submitLogin(start.final, 'bob', 'demo');
    expect(done.final.status).toBe(200);
    expect(browser.jar.get('roomguard_session')).toBeDefined();
    const again = await loginAs(rig.origin, 'bob');
    expect(again.final.status).toBe(200);
  });

  it('refuses a second-factor step while Redis is down without admitting, and the room stays closed after the restart', async () => {
    const { browser } = await loginAs(rig.origin, 'alice');
    const returnTo = '/rooms/board';
    const setup = await (await browser.request(`${rig.origin}/_roomguard/mfa/totp/setup?${new URLSearchParams({ returnTo, room: 'board' })}`)).text();
    const secret = /<code class="secret"[^>]*>([^<]+)<\/code>/.exec(setup)![1]!.replace(/\s+/g, '');
    const csrf = /name="csrf" value="([^"]+)"/.exec(setup)![1]!;
    const before = rig.upstream.arrived.length;
    await redis.kill();
    try {
      const res = await browser.request(`${rig.origin}/_roomguard/mfa/totp/setup`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ csrf, returnTo, room: 'board', code: await generate({ secret }), name: 'Phone' }).toString(),
      });
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('RG_STORE_UNAVAILABLE');
      expect((await browser.request(`${rig.origin}/rooms/board`)).status).toBe(503);
    } finally {
      await redis.restart();
    }
    await readyAgain();
    const board = await browser.request(`${rig.origin}/rooms/board`);
    expect(board.status).toBe(302);
    expect(board.headers.get('location')).toMatch(/^\/_roomguard\/login\?/);
    expect(rig.upstream.arrived.length).toBe(before);
  });
});
