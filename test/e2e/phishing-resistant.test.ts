// Phishing-resistant rooms in real Chromium (issue 20 §1), with Chromium's virtual authenticator through
// the CDP WebAuthn domain: it sets the backup flags of a synced passkey when told to, and signs a packed
// attestation with its own test certificate. A room that refuses synced passkeys takes the device-bound
// one and not the synced one; a room with a model list refuses Chromium's key, whose attestation no
// metadata vouches for, although it names a listed AAGUID.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { queryAudit } from '../../src/audit/query.js';
import { DEMO_USERS } from '../../src/demo/idp.js';
import { launchChromium, signIn } from '../helpers/chromium.js';
import { startRig, type Rig } from '../helpers/rig.js';
import { testMetadata } from '../helpers/fido-metadata.js';

/** The AAGUID Chromium's virtual authenticator reports. */
const CHROMIUM_AAGUID = '01020304-0506-0708-0102-030405060708';
const users = [...DEMO_USERS, ...['kim', 'lea', 'max'].map((sub) => ({ sub, password: 'demo', email: `${sub}@example.org`, name: sub, groups: [] as string[] }))];

let rig: Rig;
let browser: Browser;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rg-pr-e2e-'));
  writeFileSync(join(dir, 'bound.yaml'), 'rooms: [bound]\nallow:\n  - anyone: true\nmfa:\n  phishingResistant: true\n  authenticators: { allowSynced: false }\n');
  writeFileSync(join(dir, 'listed.yaml'), `rooms: [listed]\nallow:\n  - anyone: true\nmfa:\n  phishingResistant: true\n  authenticators: { aaguids: [${CHROMIUM_AAGUID}] }\n`);
  // A metadata blob that lists another model only: nothing vouches for Chromium's attestation certificate.
  const mds = await testMetadata({ '0a0a0a0a-1111-4222-8333-444444444444': 'Test Security Key A' });
  rig = await startRig({ publicHost: 'localhost', policiesDir: dir, idp: { users }, config: { mfa: { metadata: mds.blobFile, metadataRoot: mds.rootFile } } });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await rig?.close();
});

/** A fresh browser with one virtual platform authenticator (user verification on), synced or device-bound. */
async function pageWithAuthenticator(synced: boolean): Promise<Page> {
  const context = await browser.newContext({ locale: 'en-GB', extraHTTPHeaders: { 'accept-language': 'en' } });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true, defaultBackupEligibility: synced, defaultBackupState: synced },
  });
  return page;
}

/** Signs in to the room, lands on the step (passkeys only), and creates a passkey. */
async function createPasskeyFor(page: Page, user: string, room: string): Promise<void> {
  await page.goto(`${rig.origin}/rooms/${room}`);
  await signIn(page, user);
  await page.waitForURL(/\/_roomguard\/mfa\?/);
  // The step offers passkeys only: one way to set up.
  expect(await page.getByRole('link', { name: 'Set up' }).count()).toBe(1);
  await page.getByRole('link', { name: 'Set up' }).click();
  await page.waitForURL(/\/_roomguard\/mfa\/webauthn\/setup/);
  await page.getByRole('button', { name: 'Create passkey' }).click();
}

const auditOf = async (sub: string, type: 'mfa.enrolled' | 'mfa.failure') =>
  (await queryAudit(rig.auditDir, { type })).find((r) => r.actor && 'sub' in r.actor && r.actor.sub === sub);

describe('a room that refuses synced passkeys, in Chromium', () => {
  it('takes a device-bound passkey and lets the person in', async () => {
    const page = await pageWithAuthenticator(false);
    await createPasskeyFor(page, 'kim', 'bound');
    // A first factor brings recovery codes, shown once; then the room.
    await page.waitForURL(/\/_roomguard\/mfa\/recovery-codes/);
    await page.getByRole('link', { name: 'I have saved my recovery codes' }).click();
    await page.waitForURL(`${rig.origin}/rooms/bound`);
    expect((await auditOf('kim', 'mfa.enrolled'))?.details).toMatchObject({ method: 'webauthn', synced: false, aaguid: CHROMIUM_AAGUID });
    await page.context().close();
  });

  it('refuses a synced passkey, says so on the page, and names the key in the audit log', async () => {
    const page = await pageWithAuthenticator(true);
    await createPasskeyFor(page, 'lea', 'bound');
    await page.getByRole('alert').waitFor({ state: 'visible' });
    expect(await page.locator('main').textContent()).toContain('Passkeys synced through a cloud account are not accepted here');
    expect(page.url()).toContain('/_roomguard/mfa/webauthn/setup');
    expect(await auditOf('lea', 'mfa.failure')).toMatchObject({ reason: 'RG_MFA_AUTHENTICATOR_REFUSED', details: { synced: true, aaguid: CHROMIUM_AAGUID } });
    await page.context().close();
  });
});

describe('a room with a model list, in Chromium', () => {
  it('refuses Chromium\'s key: it names a listed AAGUID, but no metadata vouches for its attestation', async () => {
    const page = await pageWithAuthenticator(false);
    await createPasskeyFor(page, 'max', 'listed');
    await page.getByRole('alert').waitFor({ state: 'visible' });
    expect(await page.locator('main').textContent()).toContain(CHROMIUM_AAGUID);
    expect(await auditOf('max', 'mfa.failure')).toMatchObject({ reason: 'RG_MFA_AUTHENTICATOR_REFUSED', details: { aaguid: CHROMIUM_AAGUID, attested: false, synced: false } });
    await page.context().close();
  });
});
