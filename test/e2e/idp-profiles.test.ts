// Each `oidc.profile` end to end in Chromium: the real oidc-provider issues ID tokens and userinfo shaped
// like that IdP's (test/helpers/idp-shapes.ts); a member of `staff` signs in at its login page and lands in
// staff-weekly with the groups the profile reads, a non-member lands on the refusal page.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium, signIn } from '../helpers/chromium.js';
import { CASES, person } from '../helpers/idp-shapes.js';
import { startRig, type Rig } from '../helpers/rig.js';

vi.setConfig({ testTimeout: 60_000 });
let browser: Browser;
const rigs: Rig[] = [];
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await Promise.all(rigs.map((rig) => rig.close()));
});

describe.each(CASES)('oidc.profile: $profile in Chromium', (c) => {
  it('lets the member of staff into staff-weekly and shows the non-member the refusal', async () => {
    const rig = await startRig({ idp: { users: [person('inside', c.inside), person('outside', c.outside)] }, config: { oidc: { profile: c.profile, ...c.oidc } } });
    rigs.push(rig);
    for (const [login, allowed] of [['inside', true], ['outside', false]] as const) {
      const context = await browser.newContext({ locale: 'de-DE', extraHTTPHeaders: { 'accept-language': 'de' } });
      const page = await context.newPage();
      await page.goto(`${rig.origin}/rooms/staff-weekly`);
      await signIn(page, `${login}@login.example`);
      await page.waitForURL(`${rig.origin}/rooms/staff-weekly`);
      const text = (await page.locator('body').textContent()) ?? '';
      if (allowed) {
        // The echo upstream shows what reached it: the groups as the profile read them.
        const arrived = JSON.parse(text) as { headers: Record<string, string> };
        expect(arrived.headers['x-roomguard-groups']).toBe(c.expect.groups);
      } else {
        expect(await page.locator('html').getAttribute('lang')).toBe('de');
        expect(text).toMatch(/RG_POLICY_/);
      }
      await context.close();
    }
  });
});
