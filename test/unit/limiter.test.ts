// Second-factor attempt limits (NIST SP 800-63B §5.2.2) with an injected clock: per account and per
// address, growing locks, reset on success, hard lock after consecutive failures until an admin unlocks.
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory.js';
import { AttemptLimiter } from '../../src/mfa/limiter.js';

const MIN = 60_000;
const settings = { maxFailures: 5, windowMs: 5 * MIN, lockoutMs: 5 * MIN, maxLockoutMs: 60 * MIN, hardLockAfter: 100 };

class RecordingStore extends MemoryStore {
  readonly keys = new Set<string>();
  override async set(key: string, value: string, ttl: number) {
    this.keys.add(key);
    return super.set(key, value, ttl);
  }
  override async increment(key: string, ttl: number) {
    this.keys.add(key);
    return super.increment(key, ttl);
  }
}

function setup() {
  let now = Date.UTC(2026, 10, 26, 9, 0, 0);
  const store = new RecordingStore(() => now);
  const limiter = new AttemptLimiter(store, settings, Buffer.alloc(32, 7), () => now);
  return { store, limiter, advance: (ms: number) => (now += ms), now: () => now };
}

async function failTimes(limiter: AttemptLimiter, user: string, ip: string, n: number) {
  let last;
  for (let i = 0; i < n; i++) last = await limiter.fail(user, ip);
  return last;
}

describe('AttemptLimiter', () => {
  it('locks an account after maxFailures for lockout, then lets it try again', async () => {
    const { limiter, advance, now } = setup();
    expect(await failTimes(limiter, 'u1', '192.0.2.1', 4)).toEqual({ locked: false });
    const lock = await limiter.fail('u1', '192.0.2.1');
    expect(lock).toEqual({ locked: true, hard: false, until: now() + 5 * MIN });
    expect(await limiter.state('u1', '192.0.2.1')).toMatchObject({ locked: true, hard: false });
    advance(5 * MIN + 1);
    expect(await limiter.state('u1', '192.0.2.1')).toEqual({ locked: false });
  });

  it('doubles each further lock within a day, up to maxLockout', async () => {
    const { limiter, advance, now } = setup();
    const durations: number[] = [];
    for (let round = 0; round < 6; round++) {
      const lock = await failTimes(limiter, 'u2', `198.51.100.${round}`, 5);
      durations.push((lock as { until: number }).until - now());
      advance(61 * MIN);
    }
    expect(durations).toEqual([5, 10, 20, 40, 60, 60].map((m) => m * MIN));
  });

  it('counts per address too: another account from the same address is locked, the account from elsewhere is not', async () => {
    const { limiter } = setup();
    for (let i = 0; i < 5; i++) await limiter.fail(`user-${i}`, '203.0.113.9');
    expect(await limiter.state('fresh-user', '203.0.113.9')).toMatchObject({ locked: true });
    expect(await limiter.state('fresh-user', '203.0.113.10')).toEqual({ locked: false });
    expect(await limiter.state('user-0', '203.0.113.10')).toEqual({ locked: false });
  });

  it('forgets failures of the account and the address after a success', async () => {
    const { limiter } = setup();
    await failTimes(limiter, 'u3', '192.0.2.3', 4);
    await limiter.succeed('u3', '192.0.2.3');
    expect(await failTimes(limiter, 'u3', '192.0.2.3', 4)).toEqual({ locked: false });
  });

  it('hard-locks after hardLockAfter consecutive failures; time does not lift it, unlock does', async () => {
    const { limiter, advance } = setup();
    let state;
    for (let i = 0; i < 100; i++) {
      state = await limiter.fail('u4', `10.0.${Math.floor(i / 4)}.${i % 4}`);
      advance(6 * MIN);
    }
    expect(state).toEqual({ locked: true, hard: true });
    advance(30 * 24 * 60 * MIN);
    expect(await limiter.state('u4', '10.9.9.9')).toEqual({ locked: true, hard: true });
    await limiter.unlock('u4');
    expect(await limiter.state('u4', '10.9.9.9')).toEqual({ locked: false });
  });

  it('keeps raw client addresses out of store keys', async () => {
    const { limiter, store } = setup();
    await failTimes(limiter, 'u5', '192.0.2.55', 5);
    expect([...store.keys].some((k) => k.includes('192.0.2.55'))).toBe(false);
    expect([...store.keys].some((k) => k.startsWith('mfa:fail:ip:') || k.startsWith('mfa:lock:ip:'))).toBe(true);
  });
});
