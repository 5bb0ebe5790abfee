// @simplewebauthn/server never reaches the network from roomguard (attack report F2): the FIDO blob's
// signing chain and a listed model's attestation chain both name revocation lists (as real certificates
// do), served by a local listener that counts every request; loading the blob and registering a key of
// that model leave it untouched. Revocation comes only from the blob's statusReports.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadAuthenticatorMetadata } from '../../src/mfa/metadata.js';
import { WebAuthnCeremonies } from '../../src/mfa/webauthn.js';
import { MemoryStore } from '../../src/store/memory.js';
import { testMetadata, type TestMetadata } from '../helpers/fido-metadata.js';
import { SoftwareAuthenticator } from '../helpers/software-authenticator.js';

const AAGUID = '11111111-2222-3333-4444-555555555555';
const REVOKED = '99999999-2222-3333-4444-555555555555';
const RP = { id: 'meet.example.org', name: 'Example', origin: 'https://meet.example.org' };
const requests: string[] = [];
let server: Server;
let mds: TestMetadata;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const crl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  mds = await testMetadata({ [AAGUID]: 'Listed Key', [REVOKED]: 'Revoked Key' }, { crl, compromised: [REVOKED] });
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('FIDO metadata without the network', () => {
  it('loads a blob whose certificates name revocation lists without requesting any of them', async () => {
    const loaded = await loadAuthenticatorMetadata({ metadata: mds.blobFile, metadataRoot: mds.rootFile });
    expect(loaded.names.get(AAGUID)).toBe('Listed Key');
    // Revocation comes from the blob itself: the model reported compromised is left out.
    expect(loaded.names.has(REVOKED)).toBe(false);
    expect(requests).toEqual([]);
  });

  it('registers a key of a listed model, its attestation chain naming revocation lists, without any request', async () => {
    const loaded = await loadAuthenticatorMetadata({ metadata: mds.blobFile, metadataRoot: mds.rootFile });
    const ceremonies = new WebAuthnCeremonies(new MemoryStore(), RP, 60_000);
    const key = new SoftwareAuthenticator({ aaguid: Buffer.from(AAGUID.replace(/-/g, ''), 'hex'), attestation: mds.attestation, rp: RP });
    const session = 'b'.repeat(64);
    const options = await ceremonies.registrationOptions(session, { v: 1, factors: [], userHandle: Buffer.alloc(32, 1).toString('base64url') }, 'alice', 'Alice', 'required', 'direct');
    const result = await ceremonies.register(session, key.register(options.challenge), 'key', Date.now(), (aaguid) => loaded.names.has(aaguid));
    expect(result?.factor.attested).toBe(true);
    expect(requests).toEqual([]);
  });

  it('has replaced the library\'s fetch in both its module builds (loaded here last, after the tests above)', async () => {
    const { webauthnFetchBlocked } = await import('../../src/mfa/no-fetch.js');
    expect(webauthnFetchBlocked()).toBe(true);
  });
});
