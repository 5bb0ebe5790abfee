// Headless Debian Chromium through playwright-core (never a downloaded browser). Fails with the
// package name when Chromium is missing, so a missing install step is loud, not a silent skip.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { generate } from 'otplib';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} not found: the end-to-end tests need Debian's Chromium (apt-get install chromium)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Signs in at the demo IdP's login page with the demo password. */
export async function signIn(page: Page, user: string): Promise<void> {
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill('demo');
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/**
 * On roomguard's second-factor page for a person without factors: sets up an authenticator app (reading
 * the key from the page), passes the recovery codes page and returns the codes.
 */
export async function enrolAuthenticatorApp(page: Page): Promise<{ secret: string; codes: string[] }> {
  await page.getByRole('link', { name: 'Set up' }).nth(1).click();
  const secret = (await page.locator('code.secret').textContent())!.replace(/\s+/g, '');
  await page.getByLabel('6-digit code').fill(await generate({ secret }));
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.waitForURL(/\/_roomguard\/mfa\/recovery-codes/);
  const codes = await page.locator('ol.codes code').allTextContents();
  await page.getByRole('link', { name: 'I have saved my recovery codes' }).click();
  return { secret, codes };
}
