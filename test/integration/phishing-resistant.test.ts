// Phishing-resistant rooms (issue 20 §1) through the real gateway with real Redis and the real IdP:
// `mfa.phishingResistant` counts only passkeys and security keys with user verification and offers no
// authenticator app; `mfa.authenticators` takes only the listed models — their packed attestation verified
// against a FIDO metadata blob stored locally (mfa.metadata) — and refuses synced passkeys. A software
// authenticator signs the ceremonies; the audit log names each key's AAGUID and whether it is synced.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryAudit } from '../../src/audit/query.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import { startRig, startServeRig, type Rig } from '../helpers/rig.js';
import { testMetadata, type TestMetadata } from '../helpers/fido-metadata.js';
import { SoftwareAuthenticator } from '../helpers/software-authenticator.js';
import { DEMO_USERS, type DemoUser } from '../../src/demo/idp.js';

const MODEL_A = '0a0a0a0a-1111-4222-8333-444444444444';
const MODEL_B = '0b0b0b0b-1111-4222-8333-444444444444';
const UNLISTED = '0c0c0c0c-1111-4222-8333-444444444444';
const aaguid = (text: string) => Buffer.from(text.replaceAll('-', ''), 'hex');
const HTML = { accept: 'text/html' };

let rig: Rig;
let mds: TestMetadata;
const users: DemoUser[] = [...DEMO_USERS, ...['dora', 'emil', 'fritz', 'gina', 'hans', 'ida', 'jan'].map((sub) => ({ sub, password: 'demo', email: `${sub}@example.org`, name: sub, groups: [] }))];

function policies(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rg-pr-'));
  writeFileSync(join(dir, 'vault.yaml'), ['rooms: [vault]', 'allow:', '  - anyone: true', 'mfa:', '  phishingResistant: true', '  authenticators:', `    aaguids: [${MODEL_A}, ${MODEL_B}]`, '    allowSynced: false', ''].join('\n'));
  writeFileSync(join(dir, 'keys.yaml'), ['rooms: [keys]', 'allow:', '  - anyone: true', 'mfa:', '  phishingResistant: true', ''].join('\n'));
  return dir;
}

beforeAll(async () => {
  // Model B's attestation key is reported compromised: the blob's statement for it is not used.
  mds = await testMetadata({ [MODEL_A]: 'Test Security Key A', [MODEL_B]: 'Test Security Key B' }, { compromised: [MODEL_B] });
  rig = await startRig({ publicHost: 'localhost', policiesDir: policies(), idp: { users }, config: { mfa: { metadata: mds.blobFile, metadataRoot: mds.rootFile } } });
});
afterAll(() => rig?.close());

/** Signs in, is sent to the second-factor step of the room, and returns the step page with its CSRF token. */
async function toStep(user: string, room: string) {
  const browser = new ScriptedBrowser(HTML);
  const start = await browser.follow(`${rig.origin}/rooms/${room}`);
  const done = await browser.submitLogin(start.final, user, 'demo');
  expect(new URL(done.final.url).pathname).toBe('/_roomguard/mfa');
  const page = await done.final.text();
  return { browser, page };
}

async function json(browser: ScriptedBrowser, path: string, csrf: string, body: Record<string, unknown>) {
  const res = await browser.request(`${rig.origin}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-roomguard-csrf': csrf }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Enrols `key` for the room through the real ceremony; the answer of the registration call. */
async function enrol(user: string, room: string, key: SoftwareAuthenticator) {
  const { browser } = await toStep(user, room);
  const setup = await (await browser.request(`${rig.origin}/_roomguard/mfa/webauthn/setup?${new URLSearchParams({ returnTo: `/rooms/${room}`, room })}`)).text();
  const csrf = /data-csrf="([^"]+)"/.exec(setup)![1]!;
  const step = { returnTo: `/rooms/${room}`, room };
  const options = await json(browser, '/_roomguard/mfa/webauthn/register/options', csrf, step);
  expect(options.status).toBe(200);
  const origin = new URL(rig.origin);
  const answer = await json(browser, '/_roomguard/mfa/webauthn/register', csrf, { ...step, name: 'key', response: key.register(String(options.body.challenge), { origin: origin.origin, rpId: origin.hostname }) });
  return { browser, setup, options: options.body, answer };
}

describe('a room that takes only listed security keys, attested against the FIDO metadata', () => {
  it('offers passkeys only, and names the accepted models on the page', async () => {
    const { page } = await toStep('dora', 'vault');
    expect(page).not.toContain('/_roomguard/mfa/totp/setup');
    expect(page).toContain('/_roomguard/mfa/webauthn/setup');
    expect(page).toContain('<li>Test Security Key A</li>');
    // B's statement was left out (compromised): the page can only show its AAGUID.
    expect(page).toContain(`<li>${MODEL_B}</li>`);
    expect(page).toContain('Passkeys synced through a cloud account are not accepted here');
  });

  it('admits with a device-bound key of a listed model whose packed attestation verifies, and audits its AAGUID', async () => {
    const key = new SoftwareAuthenticator({ aaguid: aaguid(MODEL_A), attestation: mds.attestation });
    const { browser, options, answer } = await enrol('emil', 'vault', key);
    expect((options as { attestation?: string }).attestation).toBe('direct');
    expect(answer.status).toBe(200);
    expect((await browser.follow(`${rig.origin}/rooms/vault`)).final.status).toBe(200);
    const enrolled = await queryAudit(rig.auditDir, { type: 'mfa.enrolled' });
    expect(enrolled.find((r) => r.actor && 'sub' in r.actor && r.actor.sub === 'emil')?.details).toMatchObject({ method: 'webauthn', aaguid: MODEL_A, synced: false, attested: true });
  });

  it('refuses the same model claimed without attestation, a synced passkey, an unlisted and a compromised model', async () => {
    const cases: Array<[string, SoftwareAuthenticator]> = [
      ['fritz', new SoftwareAuthenticator({ aaguid: aaguid(MODEL_A) })],
      ['gina', new SoftwareAuthenticator({ aaguid: aaguid(MODEL_A), attestation: mds.attestation, synced: true })],
      ['hans', new SoftwareAuthenticator({ aaguid: aaguid(UNLISTED), attestation: mds.attestation })],
      ['ida', new SoftwareAuthenticator({ aaguid: aaguid(MODEL_B), attestation: mds.attestation })],
    ];
    for (const [user, key] of cases) {
      const { browser, answer } = await enrol(user, 'vault', key);
      expect(answer, user).toEqual({ status: 422, body: { error: 'RG_MFA_AUTHENTICATOR_REFUSED' } });
      expect(new URL((await browser.follow(`${rig.origin}/rooms/vault`)).final.url).pathname, user).toBe('/_roomguard/mfa');
    }
    const refused = await queryAudit(rig.auditDir, { type: 'mfa.failure' });
    const gina = refused.find((r) => r.actor && 'sub' in r.actor && r.actor.sub === 'gina');
    expect(gina).toMatchObject({ reason: 'RG_MFA_AUTHENTICATOR_REFUSED', details: { aaguid: MODEL_A, synced: true, attested: true } });
  });

  it('refuses a packed attestation of a listed model signed by a key the metadata does not vouch for', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    // The genuine certificate of model A, but a signature by another key: the ceremony itself fails.
    const forged = new SoftwareAuthenticator({ aaguid: aaguid(MODEL_A), attestation: { key: privateKey, certificate: mds.attestation.certificate } });
    expect((await enrol('jan', 'vault', forged)).answer.status).toBe(400);
    expect(new X509Certificate(mds.attestation.certificate).subject).toContain('Authenticator Attestation');
  });
});

describe('a phishing-resistant room without a model list', () => {
  it('takes any passkey that verifies the user, and no authenticator app', async () => {
    const { page } = await toStep('carol', 'keys');
    expect(page).not.toContain('/_roomguard/mfa/totp/setup');
    expect(page).not.toContain('accepts only these security keys');
    const { browser, options, answer } = await enrol('carol', 'keys', new SoftwareAuthenticator({ synced: true }));
    expect((options as { attestation?: string }).attestation).toBe('none');
    expect(answer.status).toBe(200);
    expect((await browser.follow(`${rig.origin}/rooms/keys`)).final.status).toBe(200);
  });
});

describe('phishing-resistant rooms through roomguard serve', () => {
  const JITSI = { appId: 'roomguard', appSecret: 'jitsi-app-secret-shared-with-prosody-0123456789', audience: 'jitsi', domain: 'meet.jitsi', tenants: false, tokenTtl: '10m', userFields: ['name'], features: [] };
  const BBB = { secret: '639259d4-9dd8-4b25-bf01-95f9567eaf4b', checksum: 'sha256', meetingIdPrefix: 'rg-', joinTtl: '60s' };
  const backends = { generic: { config: {}, path: '/rooms/vault' }, jitsi: { config: { backend: { type: 'jitsi', jitsi: JITSI } }, path: '/vault' }, bbb: { config: { backend: { type: 'bbb', bbb: BBB } }, path: '/rooms/vault' } } as const;

  for (const [name, backend] of Object.entries(backends)) {
    it(`${name}: sends the room to the passkey-only step, listing the models from the metadata read at start`, async () => {
      const served = await startServeRig({ publicHost: 'localhost', policiesDir: policies(), idp: { users }, config: { ...backend.config, mfa: { metadata: mds.blobFile, metadataRoot: mds.rootFile } } });
      try {
        const browser = new ScriptedBrowser(HTML);
        const start = await browser.follow(`${served.origin}${backend.path}`);
        const done = await browser.submitLogin(start.final, 'dora', 'demo');
        expect(new URL(done.final.url).pathname).toBe('/_roomguard/mfa');
        const page = await done.final.text();
        expect(page).toContain('<li>Test Security Key A</li>');
        expect(page).not.toContain('/_roomguard/mfa/totp/setup');
      } finally {
        await served.close();
      }
    }, 120_000);
  }

  it('does not start with a blob that is not signed under the configured root, and says which file', async () => {
    const other = await testMetadata({ [MODEL_A]: 'Test Security Key A' });
    const refused = await startServeRig({ policiesDir: policies(), config: { mfa: { metadata: mds.blobFile, metadataRoot: other.rootFile } } }).then(async (started) => {
      await started.close();
      return undefined;
    }, (err: unknown) => err as Error);
    expect(refused?.message).toMatch(/roomguard serve exited \(1\)/);
    expect(refused?.message).toContain(`mfa.metadata ${mds.blobFile.slice('file:'.length)}: not a FIDO metadata blob signed under`);
  }, 120_000);
});
