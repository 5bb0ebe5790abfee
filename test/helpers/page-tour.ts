// A walk through every page roomguard shows participants, moderators and reviewers, in real Chromium
// against a fresh demo (its own IdP, store and audit log): the accessibility test runs axe-core at each
// stop, `npm run screenshots` photographs each. One walk per language and screen size.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { generate } from 'otplib';
import { runDemo } from '../../src/demo/run.js';
import { signIn } from './chromium.js';
import { onFreePort } from './ports.js';

export type Lang = 'de' | 'en';
export type Audience = 'participant' | 'moderator' | 'reviewer';

export const SCREENS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;
export type Screen = keyof typeof SCREENS;

export interface Stop {
  /** Short name of the page, e.g. `mfa-verify`. */
  name: string;
  audience: Audience;
  page: Page;
}

/** Every page the walk stops at, in order (the tests check that each was reached). */
export const TOUR = [
  'mfa-enrol-choice', 'mfa-totp-setup', 'mfa-recovery-codes', 'notice', 'account', 'mfa-webauthn-setup',
  'invites', 'invites-created', 'audit', 'audit-compliance', 'sign-out', 'mfa-verify', 'mfa-recovery', 'signed-out', 'refused',
  'audit-refused', 'guest-join', 'guest-refused',
] as const;

/**
 * Walks every page in `lang` on `screen`, calling `visit` at each (after the page has loaded). A fresh demo
 * per walk, so alice meets the enrolment pages each time.
 */
export async function walkPages(browser: Browser, lang: Lang, screen: Screen, visit: (stop: Stop) => Promise<void>): Promise<string[]> {
  const demo = await onFreePort((port) => runDemo({ host: '127.0.0.1', port, dataDir: mkdtempSync(join(tmpdir(), 'rg-tour-')), logLevel: 'silent', quiet: true }));
  const contexts: BrowserContext[] = [];
  const seen: string[] = [];
  const newPage = async () => {
    const context = await browser.newContext({
      locale: lang === 'de' ? 'de-DE' : 'en-GB',
      extraHTTPHeaders: { 'accept-language': lang },
      viewport: SCREENS[screen],
      ...(screen === 'phone' ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
    });
    contexts.push(context);
    return context.newPage();
  };
  const stop = async (name: (typeof TOUR)[number], audience: Audience, page: Page) => {
    await page.waitForLoadState('load');
    seen.push(name);
    await visit({ name, audience, page });
  };
  try {
    const link = await walkAsAlice(demo.url, await newPage(), stop);
    await walkAsAliceAgain(demo.url, await newPage(), stop);
    await walkAsCarol(demo.url, await newPage(), stop);
    const guest = await newPage();
    await guest.goto(link);
    await stop('guest-join', 'participant', guest);
    await guest.goto(`${demo.url}/_roomguard/guest/town-hall?invite=${'A'.repeat(32)}`);
    await stop('guest-refused', 'participant', guest);
  } finally {
    await Promise.all(contexts.map((c) => c.close()));
    await demo.close();
  }
  return seen;
}

type StopAt = (name: (typeof TOUR)[number], audience: Audience, page: Page) => Promise<void>;

/** alice, new: enrols an authenticator app for the board room, then her account, invitations, the audit log. Returns an invitation link. */
async function walkAsAlice(origin: string, page: Page, stop: StopAt): Promise<string> {
  await page.goto(`${origin}/rooms/board`);
  await signIn(page, 'alice');
  await page.waitForURL(/\/_roomguard\/mfa\?/);
  await stop('mfa-enrol-choice', 'participant', page);
  await page.locator('a[href*="/_roomguard/mfa/totp/setup"]').click();
  await page.waitForURL(/\/_roomguard\/mfa\/totp\/setup/);
  await stop('mfa-totp-setup', 'participant', page);
  const secret = (await page.locator('code.secret').textContent())!.replace(/\s+/g, '');
  await page.locator('#code').fill(await generate({ secret }));
  await page.locator('form[action="/_roomguard/mfa/totp/setup"] button[type=submit]').click();
  await page.waitForURL(/\/_roomguard\/mfa\/recovery-codes/);
  await stop('mfa-recovery-codes', 'participant', page);
  await page.locator('main a.button').click();
  await page.waitForURL(/\/_roomguard\/notice/);
  await stop('notice', 'participant', page);
  await page.goto(`${origin}/_roomguard/account`);
  await stop('account', 'participant', page);
  await page.goto(`${origin}/_roomguard/mfa/webauthn/setup?returnTo=%2F_roomguard%2Faccount`);
  await stop('mfa-webauthn-setup', 'participant', page);
  await page.goto(`${origin}/_roomguard/rooms/town-hall/invites`);
  await stop('invites', 'moderator', page);
  await page.locator('#invite-note').fill('Elternabend 5b');
  await page.locator('form[action="/_roomguard/rooms/town-hall/invites"] button[type=submit]').click();
  await page.waitForSelector('#invite-link');
  await stop('invites-created', 'moderator', page);
  const link = await page.locator('#invite-link').inputValue();
  await page.goto(`${origin}/_roomguard/audit`);
  await stop('audit', 'reviewer', page);
  await page.goto(`${origin}/_roomguard/audit/compliance`);
  await stop('audit-compliance', 'reviewer', page);
  await page.goto(`${origin}/_roomguard/logout`);
  await stop('sign-out', 'participant', page);
  return link;
}

/** alice in another browser: her factor is asked for, and the recovery-code way in offered. */
async function walkAsAliceAgain(origin: string, page: Page, stop: StopAt): Promise<void> {
  await page.goto(`${origin}/rooms/board`);
  await signIn(page, 'alice');
  await page.waitForURL(/\/_roomguard\/mfa\?/);
  await stop('mfa-verify', 'participant', page);
  await page.locator('a[href*="/_roomguard/mfa/recovery?"]').click();
  await page.waitForURL(/\/_roomguard\/mfa\/recovery\?/);
  await stop('mfa-recovery', 'participant', page);
  await page.goto(`${origin}/_roomguard/logged-out`);
  await stop('signed-out', 'participant', page);
}

/** carol, in no group: refused at the board room and at the reviewer page. */
async function walkAsCarol(origin: string, page: Page, stop: StopAt): Promise<void> {
  await page.goto(`${origin}/rooms/board`);
  await signIn(page, 'carol');
  await page.waitForURL(`${origin}/rooms/board`);
  await stop('refused', 'participant', page);
  await page.goto(`${origin}/_roomguard/audit`);
  await stop('audit-refused', 'reviewer', page);
}
