// Attempt limits for second factors (src/mfa/limiter.ts) against security-requirements.md E.36/E.37 and
// issue 3: failures counted per account within a window; maxFailures lock for `lockout`, each further
// lock within a day twice as long up to `maxLockout`; a success forgets earlier failures of that account;
// `hardLockAfter` consecutive failures lock until an admin unlocks; store keys carry no raw IP address
// (I.64). Per address (issue 15, class 6): a ceiling on how many different accounts are failing there,
// so one account can never lock out the others behind its address, while spraying across accounts is
// still stopped.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { AttemptLimiter, type LimiterSettings } from '../../src/mfa/limiter.js';
import { MemoryStore } from '../../src/store/memory.js';

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const YEAR = 365 * DAY;

// Issue 3 defaults: 5 failures in 5 min → 5 min lock with growing delays; 100 consecutive → hard lock.
const SETTINGS: LimiterSettings = { maxFailures: 5, windowMs: 5 * MIN, lockoutMs: 5 * MIN, maxLockoutMs: 1 * HOUR, hardLockAfter: 100, maxAccountsPerAddress: 4 };

const ALICE = 'a'.repeat(64); // callers pass userKey(sub), a hex hash
const BOB = 'b'.repeat(64);
const IP1 = '203.0.113.7';
const IP2 = '198.51.100.23';
const IP6 = '2001:db8::1';

/** A MemoryStore that records every key written (set, increment, add) so tests can inspect key names. */
class RecordingStore extends MemoryStore {
  readonly keys = new Set<string>();
  override async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.keys.add(key);
    return super.set(key, value, ttlMs);
  }
  override async increment(key: string, ttlMs: number): Promise<number> {
    this.keys.add(key);
    return super.increment(key, ttlMs);
  }
  override async add(key: string, value: string, ttlMs: number): Promise<boolean> {
    this.keys.add(key);
    return super.add(key, value, ttlMs);
  }
  override async addMember(key: string, member: string, ttlMs: number): Promise<void> {
    this.keys.add(key);
    this.keys.add(member);
    return super.addMember(key, member, ttlMs);
  }
}

const opened: MemoryStore[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

function setup(settings: LimiterSettings = SETTINGS) {
  const clock = { t: Date.UTC(2030, 0, 1, 9, 0, 0) };
  const now = () => clock.t;
  const store = new RecordingStore(now);
  opened.push(store);
  const limiter = new AttemptLimiter(store, settings, randomBytes(32), now);
  const advance = (ms: number) => {
    clock.t += ms;
  };
  const failTimes = async (n: number, user = ALICE, ip = IP1) => {
    let last;
    for (let i = 0; i < n; i++) last = await limiter.fail(user, ip);
    return last!;
  };
  return { clock, now, store, limiter, advance, failTimes };
}

describe('AttemptLimiter: temporary lock after maxFailures', () => {
  it('does not lock below maxFailures', async () => {
    const { limiter, failTimes } = setup();
    expect(await failTimes(SETTINGS.maxFailures - 1)).toEqual({ locked: false });
    expect(await limiter.state(ALICE, IP1)).toEqual({ locked: false });
  });

  it('locks the account on the maxFailures-th failure until now + lockout', async () => {
    const { limiter, failTimes, now } = setup();
    await failTimes(SETTINGS.maxFailures - 1);
    const at = now();
    const result = await limiter.fail(ALICE, IP1);
    expect(result).toEqual({ locked: true, hard: false, until: at + SETTINGS.lockoutMs });
    expect(await limiter.state(ALICE, IP1)).toEqual({ locked: true, hard: false, until: at + SETTINGS.lockoutMs });
  });

  it('stays locked until the lockout has passed, then unlocks by itself', async () => {
    const { limiter, failTimes, advance } = setup();
    await failTimes(SETTINGS.maxFailures);
    advance(SETTINGS.lockoutMs - 1);
    expect((await limiter.state(ALICE, IP1)).locked).toBe(true);
    advance(1);
    expect(await limiter.state(ALICE, IP1)).toEqual({ locked: false });
  });

  it('counts failures within the window only: failures spread over more than the window do not lock', async () => {
    const { limiter, failTimes, advance } = setup();
    await failTimes(SETTINGS.maxFailures - 1);
    advance(SETTINGS.windowMs + 1);
    expect(await limiter.fail(ALICE, IP1)).toEqual({ locked: false });
    expect(await limiter.state(ALICE, IP1)).toEqual({ locked: false });
  });

  it('after a lock ends, it takes another maxFailures failures to lock again', async () => {
    const { limiter, failTimes, advance } = setup();
    await failTimes(SETTINGS.maxFailures);
    advance(SETTINGS.lockoutMs);
    expect(await failTimes(SETTINGS.maxFailures - 1)).toEqual({ locked: false });
    expect((await limiter.fail(ALICE, IP1)).locked).toBe(true);
  });
});

describe('AttemptLimiter: growing lock durations', () => {
  it('makes the next lock within a day twice as long, then twice again', async () => {
    const { limiter, failTimes, advance, now } = setup();
    const durations: number[] = [];
    for (let round = 0; round < 3; round++) {
      await failTimes(SETTINGS.maxFailures - 1);
      const at = now();
      const result = await limiter.fail(ALICE, IP1);
      expect(result.locked).toBe(true);
      if (!result.locked || result.until === undefined) throw new Error('expected a timed lock');
      durations.push(result.until - at);
      advance(result.until - at);
      expect(await limiter.state(ALICE, IP1)).toEqual({ locked: false });
    }
    expect(durations).toEqual([SETTINGS.lockoutMs, 2 * SETTINGS.lockoutMs, 4 * SETTINGS.lockoutMs]);
  });

  it('caps the lock duration at maxLockout', async () => {
    const { limiter, failTimes, advance, now } = setup();
    const durations: number[] = [];
    for (let round = 0; round < 6; round++) {
      await failTimes(SETTINGS.maxFailures - 1);
      const at = now();
      const result = await limiter.fail(ALICE, IP1);
      if (!result.locked || result.until === undefined) throw new Error('expected a timed lock');
      durations.push(result.until - at);
      advance(result.until - at);
    }
    // 5, 10, 20, 40 min, then capped at 60 min.
    expect(durations).toEqual([5 * MIN, 10 * MIN, 20 * MIN, 40 * MIN, 60 * MIN, 60 * MIN]);
    expect(Math.max(...durations)).toBeLessThanOrEqual(SETTINGS.maxLockoutMs);
  });

  it('starts again at the base lockout when the previous lock is more than a day old', async () => {
    const { limiter, failTimes, advance, now } = setup();
    await failTimes(SETTINGS.maxFailures);
    advance(DAY + SETTINGS.lockoutMs);
    await failTimes(SETTINGS.maxFailures - 1);
    const at = now();
    expect(await limiter.fail(ALICE, IP1)).toEqual({ locked: true, hard: false, until: at + SETTINGS.lockoutMs });
  });
});

/** Distinct account keys, as the routes pass them (userKey(sub) is a hex hash). */
function accounts(n: number, tag = 'u'): string[] {
  return Array.from({ length: n }, (_, i) => `${tag}${i}`.padEnd(64, '0'));
}

describe('AttemptLimiter: per account', () => {
  it('locks the account: the same account from another address is refused too', async () => {
    const { limiter, failTimes } = setup();
    await failTimes(SETTINGS.maxFailures, ALICE, IP1);
    expect((await limiter.state(ALICE, IP2)).locked).toBe(true);
  });

  it('leaves other accounts alone, at the same address and at others', async () => {
    const { limiter, failTimes } = setup();
    await failTimes(SETTINGS.maxFailures, ALICE, IP1);
    expect(await limiter.state(BOB, IP1)).toEqual({ locked: false });
    expect(await limiter.state(BOB, IP2)).toEqual({ locked: false });
    expect(await limiter.reserve(BOB, IP1)).toBe(true);
  });

  it('counts failures per account across addresses: many addresses against one account lock it', async () => {
    const { limiter } = setup();
    const ips = Array.from({ length: SETTINGS.maxFailures }, (_, i) => `192.0.2.${i + 1}`);
    let last;
    for (const ip of ips) last = await limiter.fail(ALICE, ip);
    expect(last!.locked).toBe(true);
    expect((await limiter.state(ALICE, '192.0.2.200')).locked).toBe(true);
    // None of those addresses had more than one account failing, so other accounts from them are free.
    for (const ip of ips) expect(await limiter.state(BOB, ip)).toEqual({ locked: false });
  });

  it('reserve() refuses the attempt after maxFailures unchecked attempts of the account (parallel guesses)', async () => {
    const { limiter } = setup();
    for (let i = 0; i < SETTINGS.maxFailures; i++) expect(await limiter.reserve(ALICE, IP1)).toBe(true);
    expect(await limiter.reserve(ALICE, IP1)).toBe(false);
    expect(await limiter.reserve(ALICE, IP2)).toBe(false);
    // Another account at the same address is not held back by them.
    expect(await limiter.reserve(BOB, IP1)).toBe(true);
  });

  it('reserve() refuses an attempt that counts only after the lock reset the counters (it read "not locked" before)', async () => {
    const { limiter } = setup();
    // Five parallel guesses reserve and fail; a sixth read the lock state before the lock, and reserves only now.
    for (let i = 0; i < SETTINGS.maxFailures; i++) expect(await limiter.reserve(ALICE, IP1)).toBe(true);
    expect((await limiter.state(ALICE, IP1)).locked).toBe(false);
    for (let i = 0; i < SETTINGS.maxFailures; i++) await limiter.fail(ALICE, IP1);
    expect(await limiter.reserve(ALICE, IP1)).toBe(false);
  });
});

describe('AttemptLimiter: one account cannot lock out the others at its address', () => {
  /** Fails `user` from `ip` `n` times, waiting out every lock of that account as a patient attacker would. */
  async function failThroughLocks(ctx: ReturnType<typeof setup>, n: number, user: string, ip: string) {
    for (let i = 0; i < n; i++) {
      const state = await ctx.limiter.state(user, ip);
      if (state.locked && state.until !== undefined) ctx.advance(state.until - ctx.now());
      await ctx.limiter.reserve(user, ip);
      await ctx.limiter.fail(user, ip);
    }
  }

  it('an account failing again and again, through its own locks, never locks the address for another account', async () => {
    const ctx = setup();
    await failThroughLocks(ctx, 10 * SETTINGS.maxFailures, ALICE, IP1);
    expect((await ctx.limiter.state(ALICE, IP1)).locked).toBe(true);
    expect(await ctx.limiter.state(BOB, IP1)).toEqual({ locked: false });
    expect(await ctx.limiter.reserve(BOB, IP1)).toBe(true);
  });

  it('failing and succeeding in turn (an account with a factor of its own) does not lock the address either', async () => {
    const ctx = setup();
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < SETTINGS.maxFailures - 1; i++) {
        expect(await ctx.limiter.reserve(ALICE, IP1)).toBe(true);
        expect(await ctx.limiter.fail(ALICE, IP1)).toEqual({ locked: false });
      }
      expect(await ctx.limiter.reserve(ALICE, IP1)).toBe(true);
      await ctx.limiter.succeed(ALICE, IP1);
    }
    expect(await ctx.limiter.state(BOB, IP1)).toEqual({ locked: false });
  });

  it('neither do maxAccountsPerAddress - 1 accounts failing together', async () => {
    const ctx = setup();
    for (const user of accounts(SETTINGS.maxAccountsPerAddress - 1)) await failThroughLocks(ctx, 3 * SETTINGS.maxFailures, user, IP1);
    expect(await ctx.limiter.state(BOB, IP1)).toEqual({ locked: false });
  });
});

describe('AttemptLimiter: a ceiling per address against spraying across accounts', () => {
  it('locks the address for everyone once maxAccountsPerAddress different accounts are failing from it', async () => {
    const { limiter, now } = setup();
    const users = accounts(SETTINGS.maxAccountsPerAddress);
    for (const user of users.slice(0, -1)) expect(await limiter.fail(user, IP1)).toEqual({ locked: false });
    const at = now();
    expect(await limiter.fail(users.at(-1)!, IP1)).toEqual({ locked: true, hard: false, until: at + SETTINGS.lockoutMs, address: true });
    expect(await limiter.state(BOB, IP1)).toEqual({ locked: true, hard: false, until: at + SETTINGS.lockoutMs });
    // Only that address: the accounts (one failure each) are free elsewhere, and so is everyone else.
    for (const user of users) expect(await limiter.state(user, IP2)).toEqual({ locked: false });
    expect(await limiter.state(BOB, IP2)).toEqual({ locked: false });
  });

  it('reserve() refuses one account more than the ceiling before its attempt is checked (parallel spraying)', async () => {
    const { limiter } = setup();
    const users = accounts(SETTINGS.maxAccountsPerAddress);
    for (const user of users) expect(await limiter.reserve(user, IP1)).toBe(true);
    expect(await limiter.reserve(BOB, IP1)).toBe(false);
    // An account already counted is not one more.
    expect(await limiter.reserve(users[0]!, IP1)).toBe(true);
  });

  it('an account that succeeds no longer counts as failing there', async () => {
    const { limiter } = setup();
    const users = accounts(SETTINGS.maxAccountsPerAddress - 1);
    for (const user of users) await limiter.fail(user, IP1);
    await limiter.succeed(users[0]!, IP1);
    expect(await limiter.fail(BOB, IP1)).toEqual({ locked: false });
    expect(await limiter.state(ALICE, IP1)).toEqual({ locked: false });
  });

  it('a success of another account does not wipe out the failures of the others at that address', async () => {
    const { limiter } = setup();
    for (const user of accounts(SETTINGS.maxAccountsPerAddress - 1)) await limiter.fail(user, IP1);
    await limiter.succeed(ALICE, IP1);
    expect((await limiter.fail(BOB, IP1)).locked).toBe(true);
  });

  it('forgets accounts that failed in an earlier window', async () => {
    const { limiter, advance } = setup();
    for (const user of accounts(SETTINGS.maxAccountsPerAddress - 1)) await limiter.fail(user, IP1);
    advance(SETTINGS.windowMs);
    expect(await limiter.fail(BOB, IP1)).toEqual({ locked: false });
  });

  it('after an address lock ends, it takes maxAccountsPerAddress failing accounts again to lock it', async () => {
    // A lock shorter than the window: the accounts before it would still be in this window's count.
    const { limiter, advance } = setup({ ...SETTINGS, lockoutMs: MIN });
    for (const user of accounts(SETTINGS.maxAccountsPerAddress, 'a')) await limiter.fail(user, IP1);
    advance(MIN);
    expect(await limiter.state(BOB, IP1)).toEqual({ locked: false });
    // The lock took over from the count: the accounts before it no longer count.
    for (const user of accounts(SETTINGS.maxAccountsPerAddress - 1, 'b')) expect(await limiter.fail(user, IP1)).toEqual({ locked: false });
  });

  it('makes the next address lock within a day twice as long', async () => {
    const { limiter, advance, now } = setup();
    const first = await (async () => {
      let last;
      for (const user of accounts(SETTINGS.maxAccountsPerAddress, 'a')) last = await limiter.fail(user, IP1);
      return last!;
    })();
    expect(first).toMatchObject({ until: now() + SETTINGS.lockoutMs });
    advance(SETTINGS.lockoutMs);
    let last;
    for (const user of accounts(SETTINGS.maxAccountsPerAddress, 'b')) last = await limiter.fail(user, IP1);
    expect(last).toMatchObject({ locked: true, until: now() + 2 * SETTINGS.lockoutMs, address: true });
  });

  it('treats IPv6 addresses like IPv4 ones', async () => {
    const { limiter } = setup();
    for (const user of accounts(SETTINGS.maxAccountsPerAddress)) await limiter.fail(user, IP6);
    expect((await limiter.state(BOB, IP6)).locked).toBe(true);
    expect(await limiter.state(BOB, IP1)).toEqual({ locked: false });
  });
});

describe('AttemptLimiter: success forgets earlier failures', () => {
  it('after succeed(), maxFailures - 1 further failures do not lock', async () => {
    const { limiter, failTimes } = setup();
    await failTimes(SETTINGS.maxFailures - 1);
    await limiter.succeed(ALICE, IP1);
    expect(await failTimes(SETTINGS.maxFailures - 1)).toEqual({ locked: false });
    expect(await limiter.state(ALICE, IP1)).toEqual({ locked: false });
  });

  it('without succeed(), the same sequence does lock (control)', async () => {
    const { limiter, failTimes } = setup();
    await failTimes(SETTINGS.maxFailures - 1);
    expect((await limiter.fail(ALICE, IP1)).locked).toBe(true);
  });

  it('resets the consecutive count: hardLockAfter failures interrupted by a success do not hard-lock', async () => {
    const settings: LimiterSettings = { maxFailures: 1000, windowMs: 5 * MIN, lockoutMs: 5 * MIN, maxLockoutMs: HOUR, hardLockAfter: 10, maxAccountsPerAddress: 4 };
    const { limiter, failTimes } = setup(settings);
    await failTimes(9);
    await limiter.succeed(ALICE, IP1);
    expect(await failTimes(9)).toEqual({ locked: false });
    expect(await limiter.state(ALICE, IP1)).toEqual({ locked: false });
  });

  it('does not lift a hard lock', async () => {
    const settings: LimiterSettings = { maxFailures: 1000, windowMs: 5 * MIN, lockoutMs: 5 * MIN, maxLockoutMs: HOUR, hardLockAfter: 3, maxAccountsPerAddress: 4 };
    const { limiter, failTimes } = setup(settings);
    await failTimes(3);
    await limiter.succeed(ALICE, IP1);
    expect(await limiter.state(ALICE, IP1)).toEqual({ locked: true, hard: true });
  });
});

describe('AttemptLimiter: hard lock after hardLockAfter consecutive failures', () => {
  /** Fails like a patient attacker: waits out every temporary lock, so every failure is one the routes allow. */
  async function failPatiently(ctx: ReturnType<typeof setup>, n: number) {
    let last;
    for (let i = 0; i < n; i++) {
      const state = await ctx.limiter.state(ALICE, IP1);
      if (state.locked && state.hard) throw new Error(`hard-locked before failure ${i + 1}`);
      if (state.locked && state.until !== undefined) ctx.advance(state.until - ctx.now());
      last = await ctx.limiter.fail(ALICE, IP1);
    }
    return last!;
  }

  it('hard-locks on the 100th consecutive failure, not before, even when temporary locks were waited out', async () => {
    const ctx = setup();
    const ninetyNinth = await failPatiently(ctx, SETTINGS.hardLockAfter - 1);
    expect(ninetyNinth).not.toMatchObject({ hard: true });
    expect(await failPatiently(ctx, 1)).toEqual({ locked: true, hard: true });
    expect(await ctx.limiter.state(ALICE, IP1)).toEqual({ locked: true, hard: true });
  });

  it('counts consecutive failures across addresses', async () => {
    const settings: LimiterSettings = { maxFailures: 1000, windowMs: 5 * MIN, lockoutMs: 5 * MIN, maxLockoutMs: HOUR, hardLockAfter: 6, maxAccountsPerAddress: 4 };
    const { limiter } = setup(settings);
    for (let i = 1; i <= 5; i++) expect(await limiter.fail(ALICE, `192.0.2.${i}`)).toEqual({ locked: false });
    expect(await limiter.fail(ALICE, '192.0.2.6')).toEqual({ locked: true, hard: true });
  });

  it('does not expire with time', async () => {
    const ctx = setup();
    await failPatiently(ctx, SETTINGS.hardLockAfter);
    for (const wait of [HOUR, DAY, 31 * DAY, YEAR]) {
      ctx.advance(wait);
      expect(await ctx.limiter.state(ALICE, IP1)).toEqual({ locked: true, hard: true });
    }
  });

  it('applies from every address, for that account only', async () => {
    const ctx = setup();
    await failPatiently(ctx, SETTINGS.hardLockAfter);
    ctx.advance(2 * HOUR); // temporary locks have passed
    expect(await ctx.limiter.state(ALICE, IP2)).toEqual({ locked: true, hard: true });
    expect(await ctx.limiter.state(BOB, IP2)).toEqual({ locked: false });
  });

  it('is cleared by unlock(), after which the account starts from zero', async () => {
    const ctx = setup();
    await failPatiently(ctx, SETTINGS.hardLockAfter);
    ctx.advance(2 * HOUR);
    await ctx.limiter.unlock(ALICE);
    expect(await ctx.limiter.state(ALICE, IP2)).toEqual({ locked: false });
    // One more failure neither hard-locks again nor locks temporarily.
    expect(await ctx.limiter.fail(ALICE, IP2)).toEqual({ locked: false });
  });

  it('unlock() also clears a temporary account lock and its failure count', async () => {
    const { limiter, failTimes } = setup();
    await failTimes(SETTINGS.maxFailures, ALICE, IP1);
    await limiter.unlock(ALICE);
    expect(await limiter.state(ALICE, IP2)).toEqual({ locked: false });
  });

  it('unlock() of one account leaves another account’s hard lock in place', async () => {
    const settings: LimiterSettings = { maxFailures: 1000, windowMs: 5 * MIN, lockoutMs: 5 * MIN, maxLockoutMs: HOUR, hardLockAfter: 2, maxAccountsPerAddress: 4 };
    const { limiter, failTimes } = setup(settings);
    await failTimes(2, ALICE, IP1);
    await failTimes(2, BOB, IP2);
    await limiter.unlock(ALICE);
    expect(await limiter.state(BOB, IP2)).toEqual({ locked: true, hard: true });
  });
});

describe('AttemptLimiter: store keys', () => {
  it('contain no raw client address (IPv4 or IPv6), in any common spelling', async () => {
    const { store, limiter, failTimes } = setup();
    await failTimes(SETTINGS.maxFailures, ALICE, IP1);
    await failTimes(SETTINGS.maxFailures, BOB, IP6);
    await limiter.succeed(ALICE, IP1);
    expect(store.keys.size).toBeGreaterThan(0);
    const forbidden = [IP1, IP6, IP1.replaceAll('.', '_'), IP1.replaceAll('.', '-'), '2001:0db8', '20010db8', Buffer.from(IP1).toString('hex'), Buffer.from(IP1).toString('base64')];
    for (const key of store.keys) for (const f of forbidden) expect(key).not.toContain(f);
  });

  it('link no account key to an address: the address sets hold keyed hashes, not the account keys', async () => {
    const { store, failTimes } = setup();
    await failTimes(1, ALICE, IP1);
    const addressKeys = [...store.keys].filter((k) => k.startsWith('mfa:failing:'));
    expect(addressKeys).toHaveLength(1);
    expect(store.keys.has(ALICE.slice(0, 32))).toBe(false);
    for (const key of addressKeys) expect(await store.members(key)).not.toContain(ALICE);
    expect((await store.members(addressKeys[0]!))[0]).toMatch(/^[0-9a-f]{32}$/);
  });

  it('key addresses by a secret: two limiters with different address keys do not share address counters', async () => {
    const clock = { t: Date.UTC(2030, 0, 1) };
    const store = new RecordingStore(() => clock.t);
    opened.push(store);
    const a = new AttemptLimiter(store, SETTINGS, randomBytes(32), () => clock.t);
    const b = new AttemptLimiter(store, SETTINGS, randomBytes(32), () => clock.t);
    for (const user of accounts(SETTINGS.maxAccountsPerAddress)) await a.fail(user, IP1);
    for (let i = 0; i < SETTINGS.maxFailures; i++) await a.fail(ALICE, IP1);
    // Different key → the address appears under a different name, so b does not see a's address lock…
    expect(await b.state(BOB, IP1)).toEqual({ locked: false });
    // …while the account lock (not address-derived) is shared through the store.
    expect((await b.state(ALICE, IP2)).locked).toBe(true);
  });

  it('two limiters with the same address key share the address lock through the store (several instances)', async () => {
    const clock = { t: Date.UTC(2030, 0, 1) };
    const store = new RecordingStore(() => clock.t);
    opened.push(store);
    const key = randomBytes(32);
    const a = new AttemptLimiter(store, SETTINGS, key, () => clock.t);
    const b = new AttemptLimiter(store, SETTINGS, key, () => clock.t);
    for (const user of accounts(SETTINGS.maxAccountsPerAddress - 1)) await a.fail(user, IP1);
    // The last account fails through the other instance: both count into one set.
    expect((await b.fail(ALICE, IP1)).locked).toBe(true);
    expect((await a.state(BOB, IP1)).locked).toBe(true);
  });
});
