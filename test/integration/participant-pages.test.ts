// What a participant reads on the way in, through a running gateway: the session list names browser,
// system and network (never a place), and a guest's refusal offers nothing that leads to the IdP login.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { signInThrough } from '../helpers/browser.js';
import { startRig, type Rig } from '../helpers/rig.js';

const FIREFOX_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0';

let rig: Rig;
beforeAll(async () => {
  rig = await startRig({ config: { ui: { timeZone: 'Europe/Berlin' } } });
});
afterAll(() => rig?.close());

it('lists each session as browser and system, with its network and last use in the configured zone', async () => {
  const { browser } = await signInThrough(rig.origin, 'bob', '/rooms/staff-weekly', { 'user-agent': FIREFOX_WINDOWS });
  const page = await (await browser.request(`${rig.origin}/_roomguard/account?lang=en`)).text();
  expect(page).toContain('<strong>Firefox</strong> on Windows <strong>(this session)</strong>');
  expect(page).toContain('network <code>127.0.0.0/24</code>');
  expect(page).toMatch(/last used \d{1,2} \w{3} \d{4}, \d\d:\d\d CE?S?T/);
  expect(page).not.toContain('Gecko/20100101');
});

it('refuses an unknown guest invitation without a way into the IdP login', async () => {
  const response = await fetch(`${rig.origin}/_roomguard/guest/town-hall?invite=${'A'.repeat(32)}&lang=de`);
  const page = await response.text();
  expect(page).toContain('RG_GUEST_INVITE_UNKNOWN');
  expect(page).not.toContain('href="/"');
  expect(page).not.toContain('/_roomguard/login');
  expect(page).not.toContain(new URL(rig.idp.issuer).host);
});
