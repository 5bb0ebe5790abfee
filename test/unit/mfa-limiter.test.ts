// Attempt limits for second factors (src/mfa/limiter.ts) against security-requirements.md E.36/E.37 and
// issue 3: failures counted per account and per client address within a window; maxFailures lock for
// `lockout`, each further lock within a day twice as long up to `maxLockout`; a success forgets earlier
// failures of that account and address; `hardLockAfter` consecutive failures lock until an admin unlocks;
// store keys carry no raw IP address (I.64).
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
const SETTINGS: LimiterSettings = { maxFailures: 5, windowMs: 5 * MIN, lockoutMs: 5 * MIN, maxLockoutMs: 1 * HOUR, hardLockAfter: 100 };

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

describe('AttemptLimiter: per account and per address', () => {
  it('locks the address: another account tried from the same address is refused too', async () => {
    const { limiter, failTimes } = setup();
    await failTimes(SETTINGS.maxFailures, ALICE, IP1);
    expect((await limiter.state(BOB, IP1)).locked).toBe(true);
  });

  it('locks the account: the same account from another address is refused too', async () => {
    const { limiter, failTimes } = setup();
    await failTimes(SETTINGS.maxFailures, ALICE, IP1);
    expect((await limiter.state(ALICE, IP2)).locked).toBe(true);
  });

  it('leaves other accounts at other addresses alone', async () => {
    const { limiter, failTimes } = setup();
    await failTimes(SETTINGS.maxFailures, ALICE, IP1);
    expect(await limiter.state(BOB, IP2)).toEqual({ locked: false });
  });

  it('counts failures per address across accounts: one address trying many accounts gets locked', async () => {
    const { limiter } = setup();
    const users = Array.from({ length: SETTINGS.maxFailures }, (_, i) => String(i).repeat(64).slice(0, 64));
    let last;
    for (const user of users) last = await limiter.fail(user, IP1);
    expect(last!.locked).toBe(true);
    expect((await limiter.state('f'.repeat(64), IP1)).locked).toBe(true);
    // None of those accounts reached maxFailures itself, so from elsewhere they are free.
    for (const user of users) expect(await limiter.state(user, IP2)).toEqual({ locked: false });
  });

  it('counts failures per account across addresses: many addresses against one account lock it', async () => {
    const { limiter } = setup();
    const ips = Array.from({ length: SETTINGS.maxFailures }, (_, i) => `192.0.2.${i + 1}`);
    let last;
    for (const ip of ips) last = await limiter.fail(ALICE, ip);
    expect(last!.locked).toBe(true);
    expect((await limiter.state(ALICE, '192.0.2.200')).locked).toBe(true);
    // None of those addresses reached maxFailures itself, so other accounts from them are free.
    for (const ip of ips) expect(await limiter.state(BOB, ip)).toEqual({ locked: false });
  });

  it('treats IPv6 addresses like IPv4 ones', async () => {
    const { limiter, failTimes } = setup();
    await failTimes(SETTINGS.maxFailures, ALICE, IP6);
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

  it('clears that address’s counter, so another account from that address starts fresh', async () => {
    const { limiter, failTimes } = setup();
    const charlie = 'c'.repeat(64);
    await failTimes(SETTINGS.maxFailures - 1, BOB, IP1); // the address counter is now at max - 1
    await limiter.succeed(ALICE, IP1);
    // Had the address counter survived, this failure from IP1 would reach maxFailures for the address.
    expect(await limiter.fail(charlie, IP1)).toEqual({ locked: false });
    expect(await limiter.state(charlie, IP1)).toEqual({ locked: false });
  });

  it('without a success at that address, the next account’s failure there locks the address (control)', async () => {
    const { limiter, failTimes } = setup();
    const charlie = 'c'.repeat(64);
    await failTimes(SETTINGS.maxFailures - 1, BOB, IP1);
    expect((await limiter.fail(charlie, IP1)).locked).toBe(true);
  });

  it('a success elsewhere does not clear the failures counted for another address', async () => {
    const { limiter, failTimes } = setup();
    const charlie = 'c'.repeat(64);
    await failTimes(SETTINGS.maxFailures - 1, BOB, IP1);
    await limiter.succeed(ALICE, IP2);
    expect((await limiter.fail(charlie, IP1)).locked).toBe(true);
  });

  it('resets the consecutive count: hardLockAfter failures interrupted by a success do not hard-lock', async () => {
    const settings: LimiterSettings = { maxFailures: 1000, windowMs: 5 * MIN, lockoutMs: 5 * MIN, maxLockoutMs: HOUR, hardLockAfter: 10 };
    const { limiter, failTimes } = setup(settings);
    await failTimes(9);
    await limiter.succeed(ALICE, IP1);
    expect(await failTimes(9)).toEqual({ locked: false });
    expect(await limiter.state(ALICE, IP1)).toEqual({ locked: false });
  });

  it('does not lift a hard lock', async () => {
    const settings: LimiterSettings = { maxFailures: 1000, windowMs: 5 * MIN, lockoutMs: 5 * MIN, maxLockoutMs: HOUR, hardLockAfter: 3 };
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
    const settings: LimiterSettings = { maxFailures: 1000, windowMs: 5 * MIN, lockoutMs: 5 * MIN, maxLockoutMs: HOUR, hardLockAfter: 6 };
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
    const settings: LimiterSettings = { maxFailures: 1000, windowMs: 5 * MIN, lockoutMs: 5 * MIN, maxLockoutMs: HOUR, hardLockAfter: 2 };
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

  it('key addresses by a secret: two limiters with different address keys do not share address counters', async () => {
    const clock = { t: Date.UTC(2030, 0, 1) };
    const store = new RecordingStore(() => clock.t);
    opened.push(store);
    const a = new AttemptLimiter(store, SETTINGS, randomBytes(32), () => clock.t);
    const b = new AttemptLimiter(store, SETTINGS, randomBytes(32), () => clock.t);
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
    for (let i = 0; i < SETTINGS.maxFailures; i++) await a.fail(ALICE, IP1);
    expect((await b.state(BOB, IP1)).locked).toBe(true);
  });
});
