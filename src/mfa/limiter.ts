// Attempt limits for second factors, shared by every instance through the store (NIST SP 800-63B
// §5.2.2): failures are counted per account and per client address within a window; too many lock
// for a while, each further lock within a day twice as long; 100 consecutive failures lock the
// account's second factor until an admin unlocks it. A success clears the counters of that account
// and that address, so earlier failures from there are forgotten.
import { createHmac } from 'node:crypto';
import type { Store } from '../store/store.js';

export interface LimiterSettings {
  maxFailures: number;
  windowMs: number;
  lockoutMs: number;
  maxLockoutMs: number;
  hardLockAfter: number;
}

export type LockState = { locked: false } | { locked: true; hard: boolean; until?: number };

const DAY_MS = 86_400_000;
const CONSECUTIVE_TTL_MS = 30 * DAY_MS;
const HARD_LOCK_TTL_MS = 10 * 365 * DAY_MS;

export class AttemptLimiter {
  readonly #store: Store;
  readonly #settings: LimiterSettings;
  readonly #addressKey: Buffer;
  readonly #now: () => number;

  /** `addressKey` keys the hash under which client addresses appear in store keys (no raw IPs there). */
  constructor(store: Store, settings: LimiterSettings, addressKey: Buffer, now: () => number = Date.now) {
    this.#store = store;
    this.#settings = settings;
    this.#addressKey = addressKey;
    this.#now = now;
  }

  #ip(ip: string): string {
    return createHmac('sha256', this.#addressKey).update(ip).digest('hex').slice(0, 32);
  }

  async state(user: string, ip: string): Promise<LockState> {
    // One round trip for the three locks: this is read on every second-factor page and attempt.
    const [hard, ...locks] = await this.#store.getMany([`mfa:hardlock:${user}`, `mfa:lock:acct:${user}`, `mfa:lock:ip:${this.#ip(ip)}`]);
    if (hard !== null) return { locked: true, hard: true };
    const now = this.#now();
    let until = 0;
    for (const lock of locks) {
      const value = Number(lock ?? 0);
      if (value > now) until = Math.max(until, value);
    }
    return until > 0 ? { locked: true, hard: false, until } : { locked: false };
  }

  /**
   * Counts an attempt before it is checked, so parallel guesses cannot outrun the limit: false when this
   * account or address already had maxFailures attempts without a success in the window.
   */
  async reserve(user: string, ip: string): Promise<boolean> {
    const s = this.#settings;
    const byAccount = await this.#store.increment(`mfa:tries:acct:${user}`, s.windowMs);
    const byAddress = await this.#store.increment(`mfa:tries:ip:${this.#ip(ip)}`, s.windowMs);
    return byAccount <= s.maxFailures && byAddress <= s.maxFailures;
  }

  /** Records a failure; returns the lock state it leads to. */
  async fail(user: string, ip: string): Promise<LockState> {
    const s = this.#settings;
    const consecutive = await this.#store.increment(`mfa:fail:consecutive:${user}`, CONSECUTIVE_TTL_MS);
    if (consecutive >= s.hardLockAfter) {
      await this.#store.set(`mfa:hardlock:${user}`, String(this.#now()), HARD_LOCK_TTL_MS);
      return { locked: true, hard: true };
    }
    let until = 0;
    for (const [scope, id] of [['acct', user], ['ip', this.#ip(ip)]] as const) {
      const failures = await this.#store.increment(`mfa:fail:${scope}:${id}`, s.windowMs);
      if (failures >= s.maxFailures) {
        const locks = await this.#store.increment(`mfa:locks:${scope}:${id}`, DAY_MS);
        const duration = Math.min(s.lockoutMs * 2 ** Math.min(locks - 1, 20), s.maxLockoutMs);
        const lockUntil = this.#now() + duration;
        await this.#store.set(`mfa:lock:${scope}:${id}`, String(lockUntil), duration);
        // The lock takes over from the counters; after it, counting starts afresh.
        await this.#store.deleteMany([`mfa:fail:${scope}:${id}`, `mfa:tries:${scope}:${id}`]);
        until = Math.max(until, lockUntil);
      }
    }
    return until > 0 ? { locked: true, hard: false, until } : { locked: false };
  }

  async succeed(user: string, ip: string): Promise<void> {
    const address = this.#ip(ip);
    await this.#store.deleteMany([`mfa:fail:consecutive:${user}`, `mfa:fail:acct:${user}`, `mfa:fail:ip:${address}`, `mfa:tries:acct:${user}`, `mfa:tries:ip:${address}`]);
  }

  /** Admin unlock (`roomguard mfa unlock`): clears hard and temporary locks of an account. */
  async unlock(user: string): Promise<void> {
    await this.#store.deleteMany([`mfa:hardlock:${user}`, `mfa:lock:acct:${user}`, `mfa:locks:acct:${user}`, `mfa:fail:acct:${user}`, `mfa:fail:consecutive:${user}`, `mfa:tries:acct:${user}`]);
  }
}
