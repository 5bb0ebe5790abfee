// The demo as a participant sees it, in real headless Chromium: login at the embedded IdP, the room
// page with its WebSocket chat, a denial in German on a phone-sized screen, and sign-out.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { runDemo, type RunningDemo } from '../../src/demo/run.js';
import { onFreePort } from '../helpers/ports.js';
import { launchChromium, signIn } from '../helpers/chromium.js';

let demo: RunningDemo;
let browser: Browser;

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'rg-demo-'));
  // The demo's port is in its public URL and the IdP's redirect URI: a port free now, another if it was taken.
  demo = await onFreePort((port) => runDemo({ host: '127.0.0.1', port, dataDir, logLevel: 'silent', quiet: true }));
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await demo?.close();
});

describe('demo in Chromium', () => {
  it('alice signs in, lands in town-hall as moderator, and chats over the room WebSocket', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const cspErrors: string[] = [];
    page.on('console', (msg) => {
      if (/Content Security Policy|Refused to/i.test(msg.text())) cspErrors.push(msg.text());
    });
    await page.goto(`${demo.url}/rooms/town-hall`);
    expect(new URL(page.url()).origin).toBe(new URL(demo.idp.issuer).origin);
    await signIn(page, 'alice');
    // The town-hall policy has a notice, shown once before joining.
    await page.waitForURL(/\/_roomguard\/notice/);
    expect(await page.locator('main').textContent()).toContain('This meeting is not recorded');
    await page.getByRole('button', { name: 'Continue to the room' }).click();
    await page.waitForURL(`${demo.url}/rooms/town-hall`);
    await expect.poll(() => page.locator('h1').textContent()).toContain('town-hall');
    expect(await page.locator('#role').textContent()).toBe('moderator');
    expect(await page.locator('#room').textContent()).toBe('town-hall');
    await expect.poll(() => page.locator('#status').textContent()).toContain('Connected');
    await page.getByLabel('Message').fill('hello board');
    await page.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => page.locator('#log').textContent()).toContain('Alice Example: hello board');
    expect(cspErrors).toEqual([]);
    await context.close();
  });

  it('carol on a phone in German is told she may not enter the staff room, with a request id and a next step', async () => {
    const context = await browser.newContext({ locale: 'de-DE', extraHTTPHeaders: { 'accept-language': 'de-DE,de;q=0.9' }, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    await page.goto(`${demo.url}/rooms/staff-weekly`);
    await signIn(page, 'carol');
    await page.waitForURL(`${demo.url}/rooms/staff-weekly`);
    expect(await page.locator('html').getAttribute('lang')).toBe('de');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Sie dürfen diesen Raum nicht betreten');
    expect(await page.locator('main').textContent()).toContain('RG_POLICY_NOT_ALLOWED');
    expect(await page.locator('main').textContent()).toMatch(/Anfrage-Kennung\s*[0-9a-f]{16}/);
    // Readable without zooming: the card fits the phone's width.
    const width = await page.locator('main').evaluate((el) => el.getBoundingClientRect().width);
    expect(width).toBeLessThanOrEqual(390);
    await context.close();
  });

  it('signs out through the pages, and the room asks for a login again', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${demo.url}/rooms/town-hall`);
    await signIn(page, 'bob');
    await page.getByRole('button', { name: 'Continue to the room' }).click();
    await page.waitForURL(`${demo.url}/rooms/town-hall`);
    await page.getByRole('link', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    // The demo IdP asks to confirm ending its own session too ("Sign out", or "Continue" when its
    // own session is already gone).
    await page.getByRole('button', { name: /^(Sign out|Continue)$/ }).first().click();
    await page.waitForURL(`${demo.url}/_roomguard/logged-out`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('You are signed out');
    await page.goto(`${demo.url}/rooms/town-hall`);
    expect(new URL(page.url()).origin).toBe(new URL(demo.idp.issuer).origin);
    await expect.poll(() => page.getByLabel('Username').count()).toBe(1);
    await context.close();
  });
});
