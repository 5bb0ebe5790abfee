// Into a Jitsi room in real Chromium: login at the IdP, a second factor for the high-risk board room,
// the room notice, then the room page with a ?jwt= whose claims match the policy (checked with the
// verifier written from Prosody's contract). The upstream records requests in place of Jitsi's web.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { EchoUpstream } from '../helpers/upstream.js';
import { startRig, type Rig } from '../helpers/rig.js';
import { enrolAuthenticatorApp, launchChromium, signIn } from '../helpers/chromium.js';
import { prosodyAllowsJoin, type ProsodySettings } from '../helpers/prosody.js';

const JWT_SECRET = 'jitsi-e2e-app-secret-shared-with-prosody-0123';
const prosody: ProsodySettings = { appSecret: JWT_SECRET, signatureAlgorithm: 'HS256', acceptedIssuers: ['roomguard'], acceptedAudiences: ['jitsi'], domainVerification: true, domain: 'meet.jitsi' };

let rig: Rig;
let upstream: EchoUpstream;
let browser: Browser;
let origin: string;

beforeAll(async () => {
  rig = await startRig({ config: { backend: { type: 'jitsi', jitsi: { appId: 'roomguard', appSecret: JWT_SECRET, audience: 'jitsi', domain: 'meet.jitsi' } } } });
  ({ upstream, origin } = rig);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await rig?.close();
});

function tokenOf(page: Page): string {
  const token = new URL(page.url()).searchParams.get('jwt');
  if (!token) throw new Error(`no ?jwt= in ${page.url()}`);
  return token;
}

describe('Jitsi rooms in Chromium', () => {
  it('alice reaches the board room after her second factor, with a moderator token for exactly board', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${origin}/board`);
    await signIn(page, 'alice');
    await page.waitForURL(/\/_roomguard\/mfa\?/);
    await enrolAuthenticatorApp(page);
    await page.getByRole('button', { name: 'Continue to the room' }).click();
    await page.waitForURL(/\/board\?jwt=/);
    const verdict = prosodyAllowsJoin(tokenOf(page), prosody, { room: 'board' }, Date.now() / 1000);
    expect(verdict).toMatchObject({ ok: true, moderator: true });
    expect(prosodyAllowsJoin(tokenOf(page), prosody, { room: 'town-hall' }, Date.now() / 1000)).toMatchObject({ ok: false });
    expect(await page.locator('body').textContent()).toContain('"url":"/board?jwt=');
    await context.close();
  });

  it('bob gets a participant token for town-hall and is refused the board without any token', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${origin}/town-hall`);
    await signIn(page, 'bob');
    await page.getByRole('button', { name: 'Continue to the room' }).click();
    await page.waitForURL(/\/town-hall\?jwt=/);
    expect(prosodyAllowsJoin(tokenOf(page), prosody, { room: 'town-hall' }, Date.now() / 1000)).toMatchObject({ ok: true, moderator: false });
    const res = await page.goto(`${origin}/board`);
    expect(res!.status()).toBe(403);
    expect(page.url()).not.toContain('jwt=');
    await context.close();
  });
});
