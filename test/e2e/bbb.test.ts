// Into a BigBlueButton room in real Chromium: login, a second factor for the high-risk board room, then
// a signed join URL that the BBB API (written from bbb-web's rules) accepts, as MODERATOR.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { Gateway } from '../../src/gateway/server.js';
import { startRig, type Rig } from '../helpers/rig.js';
import { startFakeBbb, type FakeBbb } from '../helpers/bbb-server.js';
import { enrolAuthenticatorApp, launchChromium, signIn } from '../helpers/chromium.js';

const BBB_SECRET = 'bbb-e2e-shared-secret-0123456789';
let rig: Rig<Gateway, FakeBbb>;
let bbb: FakeBbb;
let browser: Browser;
let origin: string;

beforeAll(async () => {
  bbb = await startFakeBbb(BBB_SECRET);
  rig = await startRig({ upstream: bbb, config: { backend: { type: 'bbb', upstream: bbb.url, bbb: { secret: BBB_SECRET, checksum: 'sha512' } } } });
  ({ origin } = rig);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await rig?.close();
  await bbb?.close();
});

describe('BBB rooms in Chromium', () => {
  it('alice joins the board meeting as moderator through a join URL BBB accepts', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${origin}/rooms/board`);
    await signIn(page, 'alice');
    await page.waitForURL(/\/_roomguard\/mfa\?/);
    await enrolAuthenticatorApp(page);
    await page.getByRole('button', { name: 'Continue to the room' }).click();
    await page.waitForURL(/\/html5client\/join\?sessionToken=/);
    expect(await page.locator('#client').textContent()).toBe('/html5client/join');
    const join = bbb.calls.find((c) => c.call === 'join');
    expect(join?.valid).toBe(true);
    expect(join?.query).toMatch(/checksum=[0-9a-f]{128}$/);
    expect(bbb.joins).toEqual([expect.objectContaining({ meetingID: 'rg-board', role: 'MODERATOR', fullName: 'Alice Example' })]);
    await context.close();
  });
});
