// Phishing-resistant rooms as policy and decision (issue 20 §1): `mfa.phishingResistant` counts only
// WebAuthn with user verification — no authenticator code, no recovery code, no IdP — and
// `mfa.authenticators` only attested keys of listed models, device-bound where allowSynced is false;
// broken fields are refused with file:line. And the FIDO metadata blob: only one signed under its root.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decide } from '../../src/policy/decide.js';
import { parsePolicyText } from '../../src/policy/parse.js';
import { formatProblem, type Problem } from '../../src/config/yaml-source.js';
import type { Policy, PolicySet, Subject } from '../../src/policy/types.js';
import type { Identity } from '../../src/identity/types.js';
import { loadAuthenticatorMetadata } from '../../src/mfa/metadata.js';
import { testMetadata } from '../helpers/fido-metadata.js';

const yaml = (...lines: string[]) => lines.join('\n') + '\n';
const A = 'ee882879-721c-4913-9775-3dfcce97072a';
const B = 'cb69481e-8ff7-4039-93ec-0a2729a154a8';
const BASE = ['rooms: [court]', 'allow:', '  - anyone: true', 'mfa:'];

function policy(...lines: string[]): Policy {
  const { policy: parsed, problems } = parsePolicyText('policies/court.yaml', yaml(...BASE, ...lines));
  if (!parsed) throw new Error(problems.map(formatProblem).join('\n'));
  return parsed;
}
function problemsOf(...lines: string[]): Problem[] {
  const result = parsePolicyText('policies/court.yaml', yaml(...BASE, ...lines));
  expect(result.policy).toBeUndefined();
  return result.problems;
}
const judge: Identity = { sub: 'judge', iss: 'https://id.example.org', emailVerified: true, groups: [] };
const NOW = Date.UTC(2026, 11, 10, 9, 0);
const at = NOW - 60_000;
const decideWith = (p: Policy, mfa: Subject['mfa']) => decide({ identity: judge, ...(mfa ? { mfa } : {}) }, 'court', { policies: [p], version: 't' } as PolicySet, NOW);

describe('mfa.phishingResistant', () => {
  const room = policy('  phishingResistant: true');

  it('requires a passkey with user verification and counts nothing else', () => {
    expect(room.mfa).toMatchObject({ required: true, methods: ['webauthn'], userVerification: 'required', phishingResistant: true });
    expect(decideWith(room, { method: 'webauthn', at, uv: true }).outcome).toBe('allow');
    for (const other of [{ method: 'totp', at }, { method: 'recovery', at }, { method: 'idp', at }, { method: 'webauthn', at, uv: false }, undefined] as const) {
      expect(decideWith(room, other).reasons, JSON.stringify(other)).toEqual(['RG_MFA_REQUIRED']);
    }
  });

  it('refuses methods, userVerification or required that contradict it, with their lines', () => {
    expect(problemsOf('  phishingResistant: true', '  methods: [webauthn, totp]')).toContainEqual(expect.objectContaining({ line: 6, field: 'mfa.methods' }));
    expect(problemsOf('  phishingResistant: true', '  userVerification: preferred')).toContainEqual(expect.objectContaining({ line: 6, field: 'mfa.userVerification' }));
    expect(problemsOf('  phishingResistant: true', '  required: false')).toContainEqual(expect.objectContaining({ line: 6, field: 'mfa.required' }));
    expect(problemsOf('  phishingResistant: yes please')).toContainEqual(expect.objectContaining({ line: 5, field: 'mfa.phishingResistant' }));
  });
});

describe('mfa.authenticators', () => {
  const room = policy('  phishingResistant: true', '  authenticators:', `    aaguids: [${A.toUpperCase()}, ${B}]`, '    allowSynced: false');
  const key = { method: 'webauthn' as const, at, uv: true, aaguid: A, synced: false, attested: true };

  it('admits an attested, device-bound key of a listed model (AAGUIDs read case-insensitively)', () => {
    expect(room.mfa.authenticators).toEqual({ aaguids: [A, B], allowSynced: false });
    expect(decideWith(room, key).outcome).toBe('allow');
  });

  it('refuses a synced key, an unlisted model, a model only claimed, and a key that does not say', () => {
    for (const bent of [{ synced: true }, { aaguid: '00000000-0000-0000-0000-000000000000' }, { attested: false }, { synced: undefined }, { aaguid: undefined }]) {
      expect(decideWith(room, { ...key, ...bent }), JSON.stringify(bent)).toMatchObject({ outcome: 'mfa', reasons: ['RG_MFA_AUTHENTICATOR_REFUSED'] });
    }
  });

  it('with allowSynced alone takes any device-bound passkey, attested or not', () => {
    const bound = policy('  phishingResistant: true', '  authenticators: { allowSynced: false }');
    expect(decideWith(bound, { method: 'webauthn', at, uv: true, aaguid: '00000000-0000-0000-0000-000000000000', synced: false, attested: false }).outcome).toBe('allow');
    expect(decideWith(bound, { method: 'webauthn', at, uv: true, synced: true }).reasons).toEqual(['RG_MFA_AUTHENTICATOR_REFUSED']);
  });

  it('refuses a broken rule with file:line and field', () => {
    const problems = problemsOf('  phishingResistant: true', '  authenticators:', '    aaguids: [not-an-aaguid]', '    allowSynced: maybe', '    vendor: acme');
    expect(problems).toContainEqual(expect.objectContaining({ file: 'policies/court.yaml', line: 7, field: 'mfa.authenticators.aaguids[0]', message: expect.stringMatching(/not an AAGUID/) }));
    expect(problems).toContainEqual(expect.objectContaining({ line: 8, field: 'mfa.authenticators.allowSynced' }));
    expect(problems).toContainEqual(expect.objectContaining({ line: 9, field: 'mfa.authenticators.vendor' }));
    expect(problemsOf('  authenticators: { allowSynced: false }')).toContainEqual(expect.objectContaining({ line: 5, field: 'mfa.authenticators', message: expect.stringMatching(/phishingResistant/) }));
    expect(problemsOf('  phishingResistant: true', '  authenticators: {}')).toContainEqual(expect.objectContaining({ line: 6, field: 'mfa.authenticators' }));
  });
});

describe('the FIDO metadata blob (mfa.metadata)', () => {
  it('is read under its root, leaving out models whose attestation key is compromised', async () => {
    const mds = await testMetadata({ [A]: 'Key A', [B]: 'Key B' }, { compromised: [B] });
    const loaded = await loadAuthenticatorMetadata({ metadata: mds.blobFile, metadataRoot: mds.rootFile });
    expect([...loaded.names]).toEqual([[A, 'Key A']]);
    expect(loaded.serial).toBe(7);
  });

  it('is refused when signed under another root, when not file:, or when it is not a blob', async () => {
    const mds = await testMetadata({ [A]: 'Key A' });
    const other = await testMetadata({ [A]: 'Key A' });
    await expect(loadAuthenticatorMetadata({ metadata: mds.blobFile, metadataRoot: other.rootFile })).rejects.toThrow(/not a FIDO metadata blob signed under/);
    // Without a root of its own the blob must be signed under the FIDO Alliance's root, which a test blob is not.
    await expect(loadAuthenticatorMetadata({ metadata: mds.blobFile })).rejects.toThrow(/FIDO Alliance's root/);
    await expect(loadAuthenticatorMetadata({ metadata: 'https://mds.fidoalliance.org/' })).rejects.toThrow(/must be file:/);
    writeFileSync(join(mds.dir, 'garbage.jwt'), 'not a jwt');
    await expect(loadAuthenticatorMetadata({ metadata: `file:${join(mds.dir, 'garbage.jwt')}`, metadataRoot: mds.rootFile })).rejects.toThrow(/not a FIDO metadata blob/);
  });
});
