// Guests end to end in real headless Chromium (issue 10), on the demo with its shipped town-hall policy:
// a moderator signs in and creates an invitation on the page; a second browser context without any login
// opens the link, reads the notice, enters a name and lands in the room as a guest (the demo room page
// shows the role and room roomguard vouched for), and cannot open any other room.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { runDemo, type RunningDemo } from '../../src/demo/run.js';
import { onFreePort } from '../helpers/ports.js';
import { launchChromium, signIn } from '../helpers/chromium.js';

let demo: RunningDemo;
let browser: Browser;

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'rg-demo-guests-'));
  // The demo's port is in its public URL and the IdP's redirect URI: a port free now, another if it was taken.
  demo = await onFreePort((port) => runDemo({ host: '127.0.0.1', port, dataDir, logLevel: 'silent', quiet: true }));
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await demo?.close();
});

function watchCsp(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (/Content Security Policy|Refused to/i.test(msg.text())) errors.push(msg.text());
  });
  return errors;
}

describe('guests in Chromium', () => {
  it('a moderator invites, a guest without an account joins town-hall under a pseudonym and nothing else', async () => {
    const moderatorContext = await browser.newContext();
    const moderator = await moderatorContext.newPage();
    const moderatorCsp = watchCsp(moderator);
    await moderator.goto(`${demo.url}/_roomguard/rooms/town-hall/invites`);
    await signIn(moderator, 'alice');
    await moderator.waitForURL(`${demo.url}/_roomguard/rooms/town-hall/invites`);
    expect(await moderator.getByRole('heading', { level: 1 }).textContent()).toBe('Guest invitations');
    await moderator.getByLabel('Valid for').fill('1d');
    await moderator.getByLabel('Number of uses').fill('2');
    await moderator.getByLabel('Note (for moderators, e.g. whom it is for)').fill('Parents evening');
    await moderator.getByRole('button', { name: 'Create invitation' }).click();
    const link = await moderator.getByLabel('Invitation link').inputValue();
    expect(link).toMatch(/\/_roomguard\/guest\/town-hall\?invite=[A-Za-z0-9_-]{32}$/);

    // A second context: no cookies, no login; a German-speaking guest.
    const guestContext = await browser.newContext({ locale: 'de-DE', extraHTTPHeaders: { 'accept-language': 'de-DE,de;q=0.9' } });
    const guest = await guestContext.newPage();
    const guestCsp = watchCsp(guest);
    await guest.goto(link);
    expect(await guest.locator('html').getAttribute('lang')).toBe('de');
    expect(await guest.getByRole('heading', { level: 1 }).textContent()).toBe('Als Gast teilnehmen');
    expect(await guest.locator('main').textContent()).toContain('Dieses Meeting wird nicht aufgezeichnet');
    // The name is required: the browser itself holds back an empty form.
    expect(await guest.getByLabel('Ihr Name, wie die anderen ihn sehen').getAttribute('required')).not.toBeNull();
    await guest.getByLabel('Ihr Name, wie die anderen ihn sehen').fill('Elternteil 5b');
    await guest.getByRole('button', { name: 'Ich habe den Hinweis gelesen: am Meeting teilnehmen' }).click();
    await guest.waitForURL(`${demo.url}/rooms/town-hall`);
    expect(await guest.locator('#role').textContent()).toBe('guest');
    expect(await guest.locator('#room').textContent()).toBe('town-hall');
    expect(await guest.locator('#who').textContent()).toBe('Elternteil 5b');
    await expect.poll(() => guest.locator('#status').textContent()).toContain('Connected');

    // The guest's session opens nothing else.
    const other = await guest.goto(`${demo.url}/rooms/staff-weekly`);
    expect(other?.status()).toBe(403);
    expect(await guest.locator('main').textContent()).toContain('RG_GUEST_WRONG_ROOM');
    const account = await guest.goto(`${demo.url}/_roomguard/account`);
    expect(account?.status()).toBe(403);
    expect(await guest.locator('main').textContent()).toContain('RG_GUEST_NOT_ALLOWED');

    // The moderator sees the use.
    await moderator.goto(`${demo.url}/_roomguard/rooms/town-hall/invites`);
    const table = await moderator.locator('table').textContent();
    expect(table).toContain('Parents evening');
    expect(table).toContain('1 / 2');
    expect(table).toContain('Elternteil 5b');
    expect(moderatorCsp).toEqual([]);
    expect(guestCsp).toEqual([]);
    await guestContext.close();
    await moderatorContext.close();
  });

  it('a revoked link tells the guest what happened and what to do next', async () => {
    const moderatorContext = await browser.newContext();
    const moderator = await moderatorContext.newPage();
    await moderator.goto(`${demo.url}/_roomguard/rooms/town-hall/invites`);
    await signIn(moderator, 'alice');
    await moderator.waitForURL(`${demo.url}/_roomguard/rooms/town-hall/invites`);
    await moderator.getByLabel('Note (for moderators, e.g. whom it is for)').fill('Withdrawn');
    await moderator.getByRole('button', { name: 'Create invitation' }).click();
    const link = await moderator.getByLabel('Invitation link').inputValue();
    await moderator.getByRole('button', { name: /^Revoke: Withdrawn$/ }).click();
    await moderator.waitForURL(/done=revoked/);
    expect(await moderator.getByRole('status').textContent()).toContain('revoked');

    const guestContext = await browser.newContext();
    const guest = await guestContext.newPage();
    const response = await guest.goto(link);
    expect(response?.status()).toBe(410);
    expect(await guest.getByRole('heading', { level: 1 }).textContent()).toBe('Invitation withdrawn');
    expect(await guest.locator('main').textContent()).toContain('ask the person who invited you for a new invitation');
    await guestContext.close();
    await moderatorContext.close();
  });
});
