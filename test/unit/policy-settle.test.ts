// The settle rule on its own (pure): when a read of the policy directory may be put in force, and how
// long to wait otherwise. The real files and the real watcher: test/integration/policy-reload.test.ts.
import { describe, expect, it } from 'vitest';
import { COARSE_TIMESTAMP_MS, earliestOfState, settleWait, type SettleRead } from '../../src/policy/settle.js';

const SETTLE = 2000;
const NOW = 1_700_000_000_000;
const read = (fingerprint: string, readAt: number, changedAt: number, steady = true): SettleRead => ({ fingerprint, readAt, changedAt, steady });

describe('settleWait', () => {
  it('puts in force at once a directory untouched for longer than the settle period (start-up, SIGHUP)', () => {
    expect(settleWait(read('a', NOW, NOW - SETTLE - COARSE_TIMESTAMP_MS), undefined, SETTLE)).toBe(0);
  });

  it('waits for a directory changed within the settle period, even by the margin for coarse timestamps', () => {
    expect(settleWait(read('a', NOW, NOW - 10), undefined, SETTLE)).toBe(SETTLE);
    expect(settleWait(read('a', NOW, NOW - SETTLE - COARSE_TIMESTAMP_MS + 1), undefined, SETTLE)).toBe(SETTLE);
  });

  it('puts in force a read that an earlier read at least the settle period before saw the same', () => {
    const first = read('a', NOW, NOW);
    expect(settleWait(read('a', NOW + SETTLE, NOW), first, SETTLE)).toBe(0);
  });

  it('waits out the rest of the settle period when the earlier read is the same but too recent', () => {
    const first = read('a', NOW, NOW);
    expect(settleWait(read('a', NOW + 500, NOW), first, SETTLE)).toBe(SETTLE - 500);
  });

  it('starts over when the set changed between the reads (a file that grew, shrank or was replaced)', () => {
    const first = read('a', NOW, NOW);
    expect(settleWait(read('b', NOW + SETTLE, NOW + 100), first, SETTLE)).toBe(SETTLE);
  });

  it('does not trust a read during which a file changed, however old its timestamps claim to be', () => {
    const first = read('a', NOW, NOW - 60_000);
    expect(settleWait(read('a', NOW + SETTLE, NOW - 60_000, false), first, SETTLE)).toBe(SETTLE);
  });

  it('waits when the file system clock is ahead of ours, until two reads agree', () => {
    const ahead = read('a', NOW, NOW + 60_000);
    expect(settleWait(ahead, undefined, SETTLE)).toBe(SETTLE);
    expect(settleWait(read('a', NOW + SETTLE, NOW + 60_000), ahead, SETTLE)).toBe(0);
  });
});

describe('earliestOfState', () => {
  it('keeps the first read of an unchanged state, and takes the new read when the state changed or was not read steadily', () => {
    const first = read('a', NOW, NOW);
    expect(earliestOfState(read('a', NOW + 100, NOW), first)).toBe(first);
    const changed = read('b', NOW + 100, NOW + 50);
    expect(earliestOfState(changed, first)).toBe(changed);
    const unsteady = read('a', NOW + 100, NOW, false);
    expect(earliestOfState(unsteady, first)).toBe(unsteady);
    expect(earliestOfState(first, undefined)).toBe(first);
  });
});
