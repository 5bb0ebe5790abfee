// Admin operations on a person's second factors (`roomguard mfa list|reset|unlock --user SUB`). A reset
// removes every factor and recovery code: do it only after proving the person's identity as strongly as
// at enrolment (docs/mfa.md). The person then enrols anew after a fresh IdP login.
import { hkdfSync } from 'node:crypto';
import type { Store } from '../store/store.js';
import { FactorStore, userKey } from './factors.js';
import { AttemptLimiter, type LimiterSettings } from './limiter.js';

export interface FactorSummary {
  user: string;
  factors: Array<{ kind: string; name: string; createdAt: string; lastUsedAt?: string; deviceType?: string }>;
  recoveryCodesLeft: number;
  hardLocked: boolean;
}

export class MfaAdmin {
  readonly #factors: FactorStore;
  readonly #limiter: AttemptLimiter;
  readonly #store: Store;

  constructor(store: Store, limits: LimiterSettings, encryptionKey: Buffer) {
    this.#store = store;
    this.#factors = new FactorStore(store);
    this.#limiter = new AttemptLimiter(store, limits, Buffer.from(hkdfSync('sha256', encryptionKey, Buffer.alloc(0), 'roomguard address hash v1', 32)));
  }

  async list(sub: string): Promise<FactorSummary> {
    const user = userKey(sub);
    const doc = await this.#factors.load(user);
    return {
      user: sub,
      factors: doc.factors.map((f) => ({
        kind: f.kind, name: f.name, createdAt: new Date(f.createdAt).toISOString(),
        ...(f.lastUsedAt ? { lastUsedAt: new Date(f.lastUsedAt).toISOString() } : {}),
        ...(f.kind === 'webauthn' ? { deviceType: f.deviceType } : {}),
      })),
      recoveryCodesLeft: doc.recovery?.hashes.length ?? 0,
      hardLocked: (await this.#store.get(`mfa:hardlock:${user}`)) !== null,
    };
  }

  async reset(sub: string): Promise<number> {
    const user = userKey(sub);
    const count = (await this.#factors.load(user)).factors.length;
    await this.#factors.reset(user);
    await this.#limiter.unlock(user);
    return count;
  }

  async unlock(sub: string): Promise<void> {
    await this.#limiter.unlock(userKey(sub));
  }
}
