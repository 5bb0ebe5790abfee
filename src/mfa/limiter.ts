// Attempt limits for second factors, shared by every instance through the store (NIST SP 800-63B
// §5.2.2). Two scopes, each against its own attack:
// - per account (every address): failures within a window lock the account's second factor for a
//   while, each further lock within a day twice as long; 100 consecutive failures lock it until an
//   admin unlocks. This stops guessing against one account, from one address or many.
// - per client address, a ceiling on how many *different accounts* are failing from it at once. This
//   stops spraying codes across many accounts from one address; and since one account counts once
//   however often it fails, one account alone can never lock out the others behind its address (a
//   school or office behind one NAT address).
// Callers count only real guesses: an attempt against a factor the account has (mfa-routes.ts).
import { createHmac } from 'node:crypto';
import type { Store } from '../store/store.js';

export interface LimiterSettings {
  maxFailures: number;
  windowMs: number;
  lockoutMs: number;
  maxLockoutMs: number;
  hardLockAfter: number;
  /** Different accounts that may be failing from one address within a window before it is locked for everyone. */
  maxAccountsPerAddress: number;
}

export type LockState = { locked: false } | { locked: true; hard: boolean; until?: number; /** This failure locked the client address (too many accounts failing there). */ address?: true };

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

  /** The account as a member of an address's set: keyed, so the store links no account to an address. */
  #member(user: string): string {
    return createHmac('sha256', this.#addressKey).update(`account\n${user}`).digest('hex').slice(0, 32);
  }

  /**
   * The set of accounts failing from an address in the current window. One set per window (its number
   * is in the key), so an account that failed once and went away drops out when the window ends.
   */
  #failingKey(ip: string): string {
    return `mfa:failing:ip:${this.#ip(ip)}:${Math.floor(this.#now() / this.#settings.windowMs)}`;
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
   * account already had maxFailures attempts without a success in the window, or when this account would
   * be one more than maxAccountsPerAddress accounts failing from this address.
   */
  async reserve(user: string, ip: string): Promise<boolean> {
    const s = this.#settings;
    const byAccount = await this.#store.increment(`mfa:tries:acct:${user}`, s.windowMs);
    if (byAccount > s.maxFailures) return false;
    if (!(await this.#reserveAt(user, ip))) return false;
    // A lock resets the counters (fail() below): an attempt that read "not locked" before the lock and
    // counts only now would start a fresh count. fail() sets the lock before it resets, so an attempt that
    // sees a reset counter sees the lock here.
    return !(await this.state(user, ip)).locked;
  }

  /**
   * Counts the account as failing from the address until it succeeds, unless that makes one account more
   * than the ceiling allows; a refused account is not left in the count. Two new accounts racing for the
   * last place may both be refused, never both admitted.
   */
  async #reserveAt(user: string, ip: string): Promise<boolean> {
    const key = this.#failingKey(ip);
    const me = this.#member(user);
    const before = await this.#store.members(key);
    if (before.includes(me)) return true;
    if (before.length >= this.#settings.maxAccountsPerAddress) return false;
    await this.#store.addMember(key, me, this.#settings.windowMs);
    if ((await this.#store.members(key)).length <= this.#settings.maxAccountsPerAddress) return true;
    await this.#store.removeMember(key, me);
    return false;
  }

  /** Adds the account to the address's failing set (once, however often); returns how many accounts it holds. */
  async #failingAt(user: string, ip: string): Promise<number> {
    const key = this.#failingKey(ip);
    await this.#store.addMember(key, this.#member(user), this.#settings.windowMs);
    return (await this.#store.members(key)).length;
  }

  /** Records a failed guess; returns the lock state it leads to. */
  async fail(user: string, ip: string): Promise<LockState> {
    const s = this.#settings;
    const consecutive = await this.#store.increment(`mfa:fail:consecutive:${user}`, CONSECUTIVE_TTL_MS);
    if (consecutive >= s.hardLockAfter) {
      await this.#store.set(`mfa:hardlock:${user}`, String(this.#now()), HARD_LOCK_TTL_MS);
      return { locked: true, hard: true };
    }
    let until = 0;
    let address = false;
    const byAccount = await this.#store.increment(`mfa:fail:acct:${user}`, s.windowMs);
    if (byAccount >= s.maxFailures) {
      until = await this.#lock('acct', user);
      // The lock takes over from the counters; after it, counting starts afresh.
      await this.#store.deleteMany([`mfa:fail:acct:${user}`, `mfa:tries:acct:${user}`]);
    }
    if ((await this.#failingAt(user, ip)) >= s.maxAccountsPerAddress) {
      until = Math.max(until, await this.#lock('ip', this.#ip(ip)));
      address = true;
      await this.#store.delete(this.#failingKey(ip));
    }
    if (until === 0) return { locked: false };
    return { locked: true, hard: false, until, ...(address ? { address: true as const } : {}) };
  }

  /** Locks an account or address; each further lock within a day lasts twice as long, up to maxLockout. */
  async #lock(scope: 'acct' | 'ip', id: string): Promise<number> {
    const s = this.#settings;
    const locks = await this.#store.increment(`mfa:locks:${scope}:${id}`, DAY_MS);
    const duration = Math.min(s.lockoutMs * 2 ** Math.min(locks - 1, 20), s.maxLockoutMs);
    const until = this.#now() + duration;
    await this.#store.set(`mfa:lock:${scope}:${id}`, String(until), duration);
    return until;
  }

  /**
   * A confirmed factor: the account's failures are forgotten and it no longer counts as failing from this
   * address. Other accounts' failures at the address stay counted: a success of one's own account must not
   * wipe out the evidence of spraying from the same address.
   */
  async succeed(user: string, ip: string): Promise<void> {
    await this.#store.deleteMany([`mfa:fail:consecutive:${user}`, `mfa:fail:acct:${user}`, `mfa:tries:acct:${user}`]);
    await this.#store.removeMember(this.#failingKey(ip), this.#member(user));
  }

  /** Admin unlock (`roomguard mfa unlock`): clears hard and temporary locks of an account. */
  async unlock(user: string): Promise<void> {
    await this.#store.deleteMany([`mfa:hardlock:${user}`, `mfa:lock:acct:${user}`, `mfa:locks:acct:${user}`, `mfa:fail:acct:${user}`, `mfa:fail:consecutive:${user}`, `mfa:tries:acct:${user}`]);
  }
}
