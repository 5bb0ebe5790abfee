// Forged and replayed WebAuthn ceremonies against src/mfa/webauthn.ts: a software authenticator
// (an ES256 key pair from node:crypto, CBOR by a small encoder below) signs registrations and assertions
// the way a real security key does, then an attacker bends one field at a time. Invariant 8.
import { beforeEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { MemoryStore } from '../../src/store/memory.js';
import { WebAuthnCeremonies } from '../../src/mfa/webauthn.js';
import type { UserFactors, WebAuthnFactor } from '../../src/mfa/factors.js';
import { b64u, FLAG_UP, FLAG_UV, SoftwareAuthenticator as GenericAuthenticator } from '../helpers/software-authenticator.js';

const RP = { id: 'meet.example.org', name: 'Example', origin: 'https://meet.example.org' };

/** A security key in software for this relying party (test/helpers/software-authenticator.ts). */
class SoftwareAuthenticator extends GenericAuthenticator {
  constructor() {
    super({ rp: RP });
  }
}

let store: MemoryStore;
let ceremonies: WebAuthnCeremonies;
let key: SoftwareAuthenticator;
let doc: UserFactors;
const SESSION = 'a'.repeat(64);

/** Registers `key` for the person through a real ceremony and returns the stored factor. */
async function enrol(): Promise<WebAuthnFactor> {
  const options = await ceremonies.registrationOptions(SESSION, doc, 'alice', 'Alice', 'preferred');
  const result = await ceremonies.register(SESSION, key.register(options.challenge), 'key', 0);
  expect(result).toBeDefined();
  doc.factors.push(result!.factor);
  return result!.factor;
}

async function challenge(userVerification: 'required' | 'preferred' = 'preferred', session = SESSION): Promise<string> {
  return (await ceremonies.authenticationOptions(session, doc, userVerification)).challenge;
}

beforeEach(() => {
  store = new MemoryStore();
  ceremonies = new WebAuthnCeremonies(store, RP, 60_000);
  key = new SoftwareAuthenticator();
  doc = { v: 1, factors: [], userHandle: b64u(randomBytes(32)) };
});

describe('WebAuthn registration', () => {
  it('accepts a well-formed registration (control for the refusals below)', async () => {
    const factor = await enrol();
    expect(factor.id).toBe(b64u(key.id));
  });

  it.each([
    ['another origin', { origin: 'https://evil.example' }],
    ['a look-alike origin', { origin: 'https://meet.example.org.evil.example' }],
    ['another RP ID', { rpId: 'evil.example' }],
    ['no user presence', { flags: FLAG_UV }],
  ])('refuses a registration from %s', async (_what, bend) => {
    const options = await ceremonies.registrationOptions(SESSION, doc, 'alice', 'Alice', 'preferred');
    expect(await ceremonies.register(SESSION, key.register(options.challenge, bend), 'key', 0)).toBeUndefined();
  });

  it('refuses a registration without user verification where it is required, and takes one with it', async () => {
    let options = await ceremonies.registrationOptions(SESSION, doc, 'alice', 'Alice', 'required');
    expect(await ceremonies.register(SESSION, key.register(options.challenge, { flags: FLAG_UP }), 'key', 0)).toBeUndefined();
    options = await ceremonies.registrationOptions(SESSION, doc, 'alice', 'Alice', 'required');
    expect(await ceremonies.register(SESSION, key.register(options.challenge, { flags: FLAG_UP | FLAG_UV }), 'key', 0)).toBeDefined();
  });

  it('refuses a registration for a challenge it never issued, and a replayed one', async () => {
    expect(await ceremonies.register(SESSION, key.register(b64u(randomBytes(32))), 'key', 0)).toBeUndefined();
    const options = await ceremonies.registrationOptions(SESSION, doc, 'alice', 'Alice', 'preferred');
    const response = key.register(options.challenge);
    expect(await ceremonies.register(SESSION, response, 'key', 0)).toBeDefined();
    expect(await ceremonies.register(SESSION, response, 'key', 0)).toBeUndefined();
  });
});

describe('WebAuthn assertions', () => {
  beforeEach(async () => {
    await enrol();
  });

  it('accepts a genuine assertion and reports the grown counter (control)', async () => {
    const result = await ceremonies.authenticate(SESSION, doc, key.assert(await challenge()));
    expect(result).toMatchObject({ ok: true, newCounter: 1, userVerified: true });
  });

  it.each([
    ['another origin', { origin: 'https://evil.example' }],
    ['the http origin of the same host', { origin: 'http://meet.example.org' }],
    ['another RP ID', { rpId: 'evil.example' }],
    ['a parent-domain RP ID', { rpId: 'example.org' }],
    ['a registration-type client data', { type: 'webauthn.create' }],
    ['no user presence', { flags: FLAG_UV }],
  ])('refuses an assertion with %s', async (_what, bend) => {
    expect(await ceremonies.authenticate(SESSION, doc, key.assert(await challenge(), bend))).toEqual({ ok: false, reason: 'invalid' });
  });

  it('refuses an assertion whose signature does not cover what it claims', async () => {
    const response = key.assert(await challenge(), { flags: FLAG_UP });
    const authData = Buffer.from(response.response.authenticatorData, 'base64url');
    authData[32] = authData[32]! | FLAG_UV; // claim user verification after signing
    response.response.authenticatorData = b64u(authData);
    expect((await ceremonies.authenticate(SESSION, doc, response)).ok).toBe(false);
  });

  it('uses a challenge once: the same assertion again is refused, also after a new challenge was issued', async () => {
    const response = key.assert(await challenge());
    expect((await ceremonies.authenticate(SESSION, doc, response)).ok).toBe(true);
    expect(await ceremonies.authenticate(SESSION, doc, response)).toEqual({ ok: false, reason: 'challenge' });
    await challenge();
    expect((await ceremonies.authenticate(SESSION, doc, response)).ok).toBe(false);
  });

  it('binds the challenge to the session that asked for it', async () => {
    const other = 'b'.repeat(64);
    const response = key.assert(await challenge('preferred', SESSION));
    expect(await ceremonies.authenticate(other, doc, response)).toEqual({ ok: false, reason: 'challenge' });
  });

  it('refuses an assertion without user verification where it is required, and takes one with it', async () => {
    expect(await ceremonies.authenticate(SESSION, doc, key.assert(await challenge('required'), { flags: FLAG_UP }))).toEqual({ ok: false, reason: 'invalid' });
    expect((await ceremonies.authenticate(SESSION, doc, key.assert(await challenge('required'), { flags: FLAG_UP | FLAG_UV }))).ok).toBe(true);
  });

  it('reports an assertion without user verification as unverified where it is only preferred', async () => {
    expect(await ceremonies.authenticate(SESSION, doc, key.assert(await challenge('preferred'), { flags: FLAG_UP }))).toMatchObject({ ok: true, userVerified: false });
  });

  it('refuses a counter that went back or stood still (a cloned key), and accepts one that grew', async () => {
    (doc.factors[0] as WebAuthnFactor).counter = 10;
    expect(await ceremonies.authenticate(SESSION, doc, key.assert(await challenge(), { counter: 5 }))).toEqual({ ok: false, reason: 'counter' });
    expect(await ceremonies.authenticate(SESSION, doc, key.assert(await challenge(), { counter: 10 }))).toEqual({ ok: false, reason: 'counter' });
    expect(await ceremonies.authenticate(SESSION, doc, key.assert(await challenge(), { counter: 11 }))).toMatchObject({ ok: true, newCounter: 11 });
  });

  it('refuses a credential that is not one of this person\'s', async () => {
    const stranger = new SoftwareAuthenticator();
    expect(await ceremonies.authenticate(SESSION, doc, stranger.assert(await challenge()))).toEqual({ ok: false, reason: 'unknown-credential' });
  });

  it('refuses an assertion signed by another key under this person\'s credential id', async () => {
    const stranger = new SoftwareAuthenticator();
    const forged = stranger.assert(await challenge());
    forged.id = forged.rawId = b64u(key.id);
    expect(await ceremonies.authenticate(SESSION, doc, forged)).toEqual({ ok: false, reason: 'invalid' });
  });
});

describe('WebAuthn answers of the wrong shape (as they arrive from the network)', () => {
  it('a registration of the wrong shape fails and spends its challenge; a well-formed one needs new options', async () => {
    const options = await ceremonies.registrationOptions(SESSION, doc, 'alice', 'Alice', 'preferred');
    const good = key.register(options.challenge);
    for (const bent of [undefined, 'text', [good], { ...good, response: { ...good.response, attestationObject: 42 } }, { ...good, type: 'password' }, { ...good, clientExtensionResults: undefined }]) {
      expect(await ceremonies.register(SESSION, bent, 'key', 0)).toBeUndefined();
    }
    expect(await ceremonies.register(SESSION, good, 'key', 0)).toBeUndefined();
    const again = await ceremonies.registrationOptions(SESSION, doc, 'alice', 'Alice', 'preferred');
    expect(await ceremonies.register(SESSION, key.register(again.challenge), 'key', 0)).toBeDefined();
  });

  it('drops extension outputs it did not ask for instead of refusing the answer', async () => {
    const options = await ceremonies.registrationOptions(SESSION, doc, 'alice', 'Alice', 'preferred');
    const response = { ...key.register(options.challenge), clientExtensionResults: { credProps: { rk: true }, prf: { enabled: false } } };
    expect(await ceremonies.register(SESSION, response, 'key', 0)).toBeDefined();
  });

  it('an assertion of the wrong shape under this person\'s credential id is invalid (counted by the step), one under no id of theirs unknown', async () => {
    await enrol();
    const good = key.assert(await challenge());
    const { signature: _signature, ...unsigned } = good.response;
    for (const bent of [{ ...good, response: unsigned }, { ...good, response: { ...good.response, signature: 7 } }, { ...good, rawId: undefined }]) {
      expect(await ceremonies.authenticate(SESSION, doc, bent)).toEqual({ ok: false, reason: 'invalid' });
      await challenge();
    }
    for (const bent of [undefined, 'text', { ...good, id: 5 }, { id: 'AAAA', rawId: 'AAAA', type: 'public-key', response: {} }]) {
      expect(await ceremonies.authenticate(SESSION, doc, bent)).toEqual({ ok: false, reason: 'unknown-credential' });
      await challenge();
    }
    expect((await ceremonies.authenticate(SESSION, doc, key.assert(await challenge()))).ok).toBe(true);
  });
});
