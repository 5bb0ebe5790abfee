// WebAuthn ceremonies through @simplewebauthn/server: registration of passkeys and security keys and
// authentication with them. RP ID and origin come from publicUrl; challenges are random, single-use,
// bound to the session and expire (mfa.challengeTimeout). The signature counter must grow.
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import type { Store } from '../store/store.js';
import type { UserFactors, WebAuthnFactor } from './factors.js';
import { decodeAttestationObject } from '@simplewebauthn/server/helpers';
import './no-fetch.js';
import { credentialIdOf, isAuthenticationResponse, isRegistrationResponse } from './webauthn-json.js';

/** What a room's authenticator rule reads of a key (and the audit log names). */
export interface KeyFacts {
  aaguid: string;
  /** Backup eligible (a synced passkey), from the authenticator's BE flag. */
  synced: boolean;
  attested: boolean;
}

export function keyFactsOf(factor: WebAuthnFactor): KeyFacts {
  return { aaguid: factor.aaguid ?? '00000000-0000-0000-0000-000000000000', synced: factor.deviceType === 'multiDevice', attested: factor.attested === true };
}

export interface RelyingParty {
  id: string;
  name: string;
  origin: string;
}

export type Ceremony = 'register' | 'authenticate';

/** An attestation signed by a certificate chain (x5c), which the metadata's roots can vouch for; not `none` or self attestation. */
function attestedByCertificate(fmt: string, attestationObject: Uint8Array): boolean {
  if (fmt === 'none') return false;
  const statement = decodeAttestationObject(new Uint8Array(attestationObject)).get('attStmt');
  const x5c = statement.get('x5c');
  return Array.isArray(x5c) && x5c.length > 0;
}

export class WebAuthnCeremonies {
  readonly #store: Store;
  readonly #rp: RelyingParty;
  readonly #challengeTtlMs: number;

  constructor(store: Store, rp: RelyingParty, challengeTtlMs: number) {
    this.#store = store;
    this.#rp = rp;
    this.#challengeTtlMs = challengeTtlMs;
  }

  #challengeKey(ceremony: Ceremony, sessionHash: string): string {
    return `mfa:challenge:${ceremony}:${sessionHash}`;
  }

  /** `attestation`: ask the authenticator to prove its model (rooms with an AAGUID allow-list); otherwise none is asked. */
  async registrationOptions(sessionHash: string, doc: UserFactors, userName: string, displayName: string, userVerification: 'required' | 'preferred', attestation: 'direct' | 'none' = 'none'): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const options = await generateRegistrationOptions({
      rpName: this.#rp.name,
      rpID: this.#rp.id,
      userName,
      userDisplayName: displayName,
      userID: Buffer.from(doc.userHandle, 'base64url'),
      attestationType: attestation,
      excludeCredentials: doc.factors.filter((f): f is WebAuthnFactor => f.kind === 'webauthn').map((f) => ({ id: f.id, ...(f.transports ? { transports: f.transports } : {}) })),
      authenticatorSelection: { residentKey: 'preferred', userVerification },
      timeout: this.#challengeTtlMs,
    });
    // The user handle travels with the challenge, so the credential is stored under the handle the
    // authenticator received even when this person's factor document did not exist yet.
    await this.#store.set(this.#challengeKey('register', sessionHash), JSON.stringify({ challenge: options.challenge, userVerification, userHandle: doc.userHandle }), this.#challengeTtlMs);
    return options;
  }

  /**
   * Verifies a registration, as the browser sent it; the challenge is taken first, so it works once (a
   * malformed answer spends it too). Returns the factor and the user handle it was created for.
   */
  /**
   * `listed`: whether the FIDO metadata has a statement for an AAGUID — the MetadataService has then checked
   * the attestation against it during verification, so such a key counts as attested.
   */
  async register(sessionHash: string, response: unknown, name: string, now: number, listed: (aaguid: string) => boolean = () => false): Promise<{ factor: WebAuthnFactor; userHandle: string; userVerified: boolean } | undefined> {
    const pending = await this.#store.take(this.#challengeKey('register', sessionHash));
    if (!pending) return undefined;
    const { challenge, userVerification, userHandle } = JSON.parse(pending) as { challenge: string; userVerification: string; userHandle: string };
    if (!isRegistrationResponse(response)) return undefined;
    try {
      const result = await verifyRegistrationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: this.#rp.origin,
        expectedRPID: this.#rp.id,
        requireUserVerification: userVerification === 'required',
      });
      if (!result.verified) return undefined;
      const info = result.registrationInfo;
      const factor: WebAuthnFactor = {
        kind: 'webauthn',
        id: info.credential.id,
        name,
        publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
        counter: info.credential.counter,
        ...(info.credential.transports ? { transports: info.credential.transports } : {}),
        deviceType: info.credentialDeviceType,
        backedUp: info.credentialBackedUp,
        aaguid: info.aaguid.toLowerCase(),
        attested: attestedByCertificate(info.fmt, info.attestationObject) && listed(info.aaguid.toLowerCase()),
        createdAt: now,
      };
      return { factor, userHandle, userVerified: info.userVerified };
    } catch {
      return undefined;
    }
  }

  async authenticationOptions(sessionHash: string, doc: UserFactors, userVerification: 'required' | 'preferred'): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const options = await generateAuthenticationOptions({
      rpID: this.#rp.id,
      allowCredentials: doc.factors.filter((f): f is WebAuthnFactor => f.kind === 'webauthn').map((f) => ({ id: f.id, ...(f.transports ? { transports: f.transports } : {}) })),
      userVerification,
      timeout: this.#challengeTtlMs,
    });
    await this.#store.set(this.#challengeKey('authenticate', sessionHash), JSON.stringify({ challenge: options.challenge, userVerification }), this.#challengeTtlMs);
    return options;
  }

  /**
   * Verifies an assertion, as the browser sent it, against the person's own credentials. Returns the
   * credential with its new counter, or why it failed: `counter` marks a signature-counter regression (a
   * possibly cloned key); a malformed answer naming one of them is `invalid`, like a wrong signature.
   */
  async authenticate(sessionHash: string, doc: UserFactors, response: unknown): Promise<{ ok: true; factor: WebAuthnFactor; newCounter: number; userVerified: boolean } | { ok: false; reason: 'challenge' | 'unknown-credential' | 'counter' | 'invalid' }> {
    const pending = await this.#store.take(this.#challengeKey('authenticate', sessionHash));
    if (!pending) return { ok: false, reason: 'challenge' };
    const { challenge, userVerification } = JSON.parse(pending) as { challenge: string; userVerification: string };
    const id = credentialIdOf(response);
    const factor = doc.factors.find((f): f is WebAuthnFactor => f.kind === 'webauthn' && f.id === id);
    if (!factor) return { ok: false, reason: 'unknown-credential' };
    if (!isAuthenticationResponse(response)) return { ok: false, reason: 'invalid' };
    try {
      const result = await verifyAuthenticationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: this.#rp.origin,
        expectedRPID: this.#rp.id,
        credential: { id: factor.id, publicKey: Buffer.from(factor.publicKey, 'base64url'), counter: factor.counter, ...(factor.transports ? { transports: factor.transports } : {}) },
        requireUserVerification: userVerification === 'required',
      });
      if (!result.verified) return { ok: false, reason: 'invalid' };
      return { ok: true, factor, newCounter: result.authenticationInfo.newCounter, userVerified: result.authenticationInfo.userVerified };
    } catch (err) {
      return { ok: false, reason: /counter/i.test((err as Error).message) ? 'counter' : 'invalid' };
    }
  }
}
