// A person's second factors as stored: TOTP authenticators, WebAuthn credentials (passkeys, security
// keys) and hashed recovery codes. One sealed document per person (keyed by a hash of `sub`), so a
// store dump reveals neither secrets nor who has which factor.
import { randomBytes } from 'node:crypto';
import type { Store } from '../store/store.js';

export interface TotpFactor {
  kind: 'totp';
  id: string;
  name: string;
  /** Base32 secret (160 bits); sealed at rest by SealedStore (AES-256-GCM under secrets.encryptionKey). */
  secret: string;
  /** Last accepted TOTP time step: a code of this step or earlier is never accepted again. */
  lastTimeStep: number;
  createdAt: number;
  lastUsedAt?: number;
}

export interface WebAuthnFactor {
  kind: 'webauthn';
  /** Credential id, base64url. */
  id: string;
  name: string;
  /** COSE public key, base64url. */
  publicKey: string;
  counter: number;
  transports?: string[];
  /** `singleDevice` (security key) or `multiDevice` (synced passkey). */
  deviceType: string;
  backedUp: boolean;
  /** The authenticator model (AAGUID, lowercase with dashes; all zeros when it does not say). */
  aaguid?: string;
  /** Its attestation was verified at registration against the FIDO metadata's statement for that AAGUID. */
  attested?: boolean;
  createdAt: number;
  lastUsedAt?: number;
}

export type Factor = TotpFactor | WebAuthnFactor;

export interface UserFactors {
  v: 1;
  factors: Factor[];
  recovery?: { hashes: string[]; createdAt: number };
  /** Random WebAuthn user handle, stable per person (never the sub itself). */
  userHandle: string;
}

/** Factors unused this long disappear with their store key; every use renews it. */
const FACTOR_TTL_MS = 400 * 86_400_000;
const MAX_FACTORS = 20;

export { userKey } from '../identity/user-key.js';

export class FactorStore {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  #key(user: string): string {
    return `mfa:factors:${user}`;
  }

  async load(user: string): Promise<UserFactors> {
    const raw = await this.#store.get(this.#key(user));
    if (raw) {
      const parsed = JSON.parse(raw) as UserFactors;
      if (parsed.v === 1) return parsed;
    }
    return { v: 1, factors: [], userHandle: randomBytes(32).toString('base64url') };
  }

  async save(user: string, doc: UserFactors): Promise<void> {
    if (doc.factors.length > MAX_FACTORS) throw new RangeError(`at most ${MAX_FACTORS} factors per person`);
    if (doc.factors.length === 0 && !doc.recovery) {
      await this.#store.delete(this.#key(user));
      return;
    }
    await this.#store.set(this.#key(user), JSON.stringify(doc), FACTOR_TTL_MS);
  }

  async reset(user: string): Promise<void> {
    await this.#store.delete(this.#key(user));
  }
}

export function newFactorId(): string {
  return randomBytes(12).toString('base64url');
}

export const MAX_FACTORS_PER_PERSON = MAX_FACTORS;
