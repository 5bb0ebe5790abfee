// Second factors as alice meets them in real Chromium: the board room asks for a second factor; she
// enrols an authenticator app (the test reads the key from the page and computes the code), keeps her
// recovery codes, joins; later signs in with a recovery code; adds a passkey through Chromium's virtual
// authenticator and joins with it. Screenshots of each page, in English and German, go to
// test-artifacts/ (not committed).
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { generate } from 'otplib';
import { runDemo, type RunningDemo } from '../../src/demo/run.js';
import { onFreePort } from '../helpers/ports.js';
import { launchChromium, signIn } from '../helpers/chromium.js';

const ARTIFACTS = new URL('../../test-artifacts/mfa/', import.meta.url).pathname;
let demo: RunningDemo;
let browser: Browser;
let recoveryCodes: string[] = [];

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'rg-mfa-'));
  // The demo's port is in its public URL and the IdP's redirect URI: a port free now, another if it was taken.
  demo = await onFreePort((port) => runDemo({ host: '127.0.0.1', port, dataDir, logLevel: 'silent', quiet: true }));
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await demo?.close();
});

async function shot(page: Page, name: string) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

async function newContext(lang: 'en' | 'de', mobile = false): Promise<BrowserContext> {
  return browser.newContext({
    locale: lang === 'de' ? 'de-DE' : 'en-GB',
    extraHTTPHeaders: { 'accept-language': lang },
    ...(mobile ? { viewport: { width: 360, height: 780 }, isMobile: true, hasTouch: true } : {}),
  });
}

async function enterBoard(page: Page) {
  await page.getByRole('button', { name: /Continue to the room|Weiter zum Raum/ }).click();
  await page.waitForURL(`${demo.url}/rooms/board`);
  expect(await page.locator('#role').textContent()).toBe('moderator');
}

describe('second factors in Chromium', () => {
  it('enrols an authenticator app on a phone-sized screen, shows recovery codes once, and admits alice to the board room', async () => {
    const context = await newContext('en', true);
    const page = await context.newPage();
    await page.goto(`${demo.url}/rooms/board`);
    await signIn(page, 'alice');
    await page.waitForURL(/\/_roomguard\/mfa\?/);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Set up a second factor');
    await shot(page, 'enrol-choice-en');
    await page.getByRole('link', { name: 'Set up' }).nth(1).click();
    await page.waitForURL(/\/_roomguard\/mfa\/totp\/setup/);
    expect(await page.locator('.qr svg').count()).toBe(1);
    await shot(page, 'totp-setup-en');
    const secret = (await page.locator('code.secret').textContent())!.replace(/\s+/g, '');
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);

    await page.getByLabel('6-digit code').fill('000000');
    await page.getByRole('button', { name: 'Confirm' }).click();
    expect(await page.getByRole('alert').textContent()).toContain('That code is not right');

    await page.getByLabel('6-digit code').fill(await generate({ secret }));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.waitForURL(/\/_roomguard\/mfa\/recovery-codes/);
    await shot(page, 'recovery-codes-en');
    recoveryCodes = await page.locator('ol.codes code').allTextContents();
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    await page.getByRole('link', { name: 'I have saved my recovery codes' }).click();
    await page.waitForURL(/\/_roomguard\/notice/);
    await shot(page, 'notice-en');
    await enterBoard(page);

    // Shown once: the codes page does not show them again.
    await page.goto(`${demo.url}/_roomguard/mfa/recovery-codes?returnTo=%2F`);
    expect(new URL(page.url()).pathname).not.toBe('/_roomguard/mfa/recovery-codes');
    await context.close();
  });

  it('in German, a new session asks for the second factor and accepts a recovery code exactly once', async () => {
    const context = await newContext('de');
    const page = await context.newPage();
    await page.goto(`${demo.url}/rooms/board`);
    await signIn(page, 'alice');
    await page.waitForURL(/\/_roomguard\/mfa\?/);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Bestätigen Sie, dass Sie es sind');
    expect(await page.getByLabel('6-stelliger Code').getAttribute('autocomplete')).toBe('one-time-code');
    await shot(page, 'verify-de');
    await page.getByRole('link', { name: /Wiederherstellungscode verwenden/ }).click();
    await page.getByLabel('Wiederherstellungscode').fill(recoveryCodes[0]!.toUpperCase());
    await shot(page, 'recovery-de');
    await page.getByRole('button', { name: 'Bestätigen' }).click();
    await enterBoard(page);
    await context.close();

    const again = await (await newContext('de')).newPage();
    await again.goto(`${demo.url}/rooms/board`);
    await signIn(again, 'alice');
    await again.waitForURL(/\/_roomguard\/mfa\?/);
    await again.getByRole('link', { name: /Wiederherstellungscode verwenden/ }).click();
    await again.getByLabel('Wiederherstellungscode').fill(recoveryCodes[0]!);
    await again.getByRole('button', { name: 'Bestätigen' }).click();
    expect(await again.getByRole('alert').textContent()).toContain('ungültig oder wurde schon verwendet');
    await again.context().close();
  });

  it('adds a passkey through the virtual authenticator and joins with it', async () => {
    const context = await newContext('en');
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    await page.goto(`${demo.url}/_roomguard/account`);
    await signIn(page, 'alice');
    await page.waitForURL(`${demo.url}/_roomguard/account`);
    await shot(page, 'account-en');
    await page.getByRole('link', { name: 'Add passkey or security key' }).click();
    // Adding a factor needs a current second factor: alice confirms with a recovery code first.
    await page.waitForURL(/\/_roomguard\/mfa\?/);
    await page.getByRole('link', { name: /recovery code/ }).click();
    await page.getByLabel('Recovery code').fill(recoveryCodes[1]!);
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.waitForURL(/\/_roomguard\/mfa\/webauthn\/setup/);
    await shot(page, 'passkey-setup-en');
    await page.getByLabel('Name for this factor').fill('Laptop passkey');
    await page.getByRole('button', { name: 'Create passkey' }).click();
    await page.waitForURL(`${demo.url}/_roomguard/account`);
    expect(await page.locator('main').textContent()).toContain('Laptop passkey');

    // A new session in the same browser: the board room accepts the passkey.
    await page.goto(`${demo.url}/_roomguard/logout`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: /^(Sign out|Continue)$/ }).first().click();
    await page.waitForURL(`${demo.url}/_roomguard/logged-out`);
    await page.goto(`${demo.url}/rooms/board`);
    await signIn(page, 'alice');
    await page.waitForURL(/\/_roomguard\/mfa\?/);
    await shot(page, 'verify-passkey-en');
    await page.getByRole('button', { name: 'Use passkey or security key' }).click();
    await page.waitForURL(/\/_roomguard\/notice|\/rooms\/board$/);
    await enterBoard(page);
    await context.close();
  });
});

describe('audit reviewer page in Chromium', () => {
  it('refuses a person outside the reviewer groups', async () => {
    const context = await newContext('en');
    const page = await context.newPage();
    await page.goto(`${demo.url}/_roomguard/audit`);
    await signIn(page, 'bob');
    await page.waitForURL(`${demo.url}/_roomguard/audit`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('For audit reviewers only');
    expect(await page.locator('main').textContent()).toContain('RG_AUDIT_FORBIDDEN');
    await context.close();
  });

  it('shows alice (board-chair) the log after her second factor, filters by room and exports CSV', async () => {
    const context = await newContext('en');
    const page = await context.newPage();
    await page.goto(`${demo.url}/_roomguard/audit`);
    await signIn(page, 'alice');
    // The reviewer page demands a recent second factor.
    await page.waitForURL(/\/_roomguard\/mfa\?/);
    await page.getByRole('link', { name: /recovery code/ }).click();
    await page.getByLabel('Recovery code').fill(recoveryCodes[2]!);
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.waitForURL(/\/_roomguard\/audit/);
    await shot(page, 'audit-en');
    const text = await page.locator('body').textContent();
    expect(text).toContain('board');
    expect(await page.locator('table.records tbody tr').count()).toBeGreaterThan(3);
    await page.getByLabel('Room', { exact: true }).fill('board');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/room=board/);
    const rooms = await page.locator('table.records tbody tr').allTextContents();
    expect(rooms.length).toBeGreaterThan(0);
    for (const row of rooms) expect(row).toContain('board');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download as CSV' }).click()]);
    const csvPath = join(ARTIFACTS, 'audit.csv');
    await download.saveAs(csvPath);
    const { readFileSync } = await import('node:fs');
    const csv = readFileSync(csvPath, 'utf8');
    expect(csv.split('\r\n')[0]).toContain('room');
    expect(csv).toContain('board');
    await page.goto(`${demo.url}/_roomguard/audit?lang=de`);
    await shot(page, 'audit-de');
    await context.close();
  });
});
