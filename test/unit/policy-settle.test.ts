// The settle rule on its own (pure): when a read of the policy directory may be put in force, and how
// long to wait otherwise. The real files and the real watcher: test/integration/policy-reload.test.ts.
import { describe, expect, it } from 'vitest';
import { earliestOfState, settleWait, type SettleRead } from '../../src/policy/settle.js';

const SETTLE = 2000;
const NOW = 1_700_000_000_000;
const read = (fingerprint: string, readAt: number, steady = true): SettleRead => ({ fingerprint, readAt, steady });

describe('settleWait', () => {
  it('never puts a single read in force, however long ago its files last changed by their times (start-up and SIGHUP wait one settle period)', () => {
    // A write through a memory mapping leaves old times on a file still being written: they prove nothing.
    const untouchedForAnHour = { ...read('a', NOW), changedAt: NOW - 3_600_000 };
    expect(settleWait(untouchedForAnHour, undefined, SETTLE)).toBe(SETTLE);
  });

  it('puts in force a read that an earlier read at least the settle period before saw the same', () => {
    const first = read('a', NOW);
    expect(settleWait(read('a', NOW + SETTLE), first, SETTLE)).toBe(0);
  });

  it('waits out the rest of the settle period when the earlier read is the same but too recent', () => {
    const first = read('a', NOW);
    expect(settleWait(read('a', NOW + 500), first, SETTLE)).toBe(SETTLE - 500);
  });

  it('starts over when the set changed between the reads (a file that grew, shrank, was replaced, or whose bytes alone changed)', () => {
    const first = read('a', NOW);
    expect(settleWait(read('b', NOW + SETTLE), first, SETTLE)).toBe(SETTLE);
  });

  it('does not trust a read during which a file changed, nor count it as the earlier read', () => {
    const first = read('a', NOW);
    expect(settleWait(read('a', NOW + SETTLE, false), first, SETTLE)).toBe(SETTLE);
    expect(settleWait(read('a', NOW + SETTLE), read('a', NOW, false), SETTLE)).toBe(SETTLE);
  });
});

describe('earliestOfState', () => {
  it('keeps the first steady read of an unchanged state, and takes the new read when the state changed or either was not read steadily', () => {
    const first = read('a', NOW);
    expect(earliestOfState(read('a', NOW + 100), first)).toBe(first);
    const changed = read('b', NOW + 100);
    expect(earliestOfState(changed, first)).toBe(changed);
    const unsteady = read('a', NOW + 100, false);
    expect(earliestOfState(unsteady, first)).toBe(unsteady);
    const steadyAfter = read('a', NOW + 200);
    expect(earliestOfState(steadyAfter, unsteady)).toBe(steadyAfter);
    expect(earliestOfState(first, undefined)).toBe(first);
  });
});
