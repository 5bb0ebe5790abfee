// The WebSocket tracker's answer to a gap in the session bus: every tracked session is looked up in the
// store at once, and a gap reported while such a lookup is under way starts another (that lookup may
// have read the store before the event it stands in for). The gateway's real path is in
// test/integration/bus-gap.test.ts; here the timing between a gap and a store read is held by hand.
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { SocketTracker } from '../../src/gateway/proxy.js';
import type { GatewayContext } from '../../src/gateway/context.js';

const ALICE = 'a'.repeat(64);
const BOB = 'b'.repeat(64);

class FakeSocket extends EventEmitter {
  destroyed = false;
  destroy(): this {
    if (!this.destroyed) {
      this.destroyed = true;
      this.emit('close');
    }
    return this;
  }
}

/** Sessions whose store reads the test answers itself; the bus is up, so only gaps prompt a look. */
function fakeContext() {
  const gapListeners = new Set<() => void>();
  const reads: Array<{ hashes: string[]; answer: (live: Set<string>) => void }> = [];
  const sessions = {
    endsAreReported: true,
    onEnded: () => () => undefined,
    onEventsMissed: (listener: () => void) => (gapListeners.add(listener), () => gapListeners.delete(listener)),
    existing: (hashes: string[]) => new Promise<Set<string>>((answer) => reads.push({ hashes, answer })),
  };
  const ctx = { sessions, rooms: { onChange: () => () => undefined }, deps: { metrics: { websockets: { inc: () => undefined, dec: () => undefined } } } } as unknown as GatewayContext;
  return { ctx, reads, gap: () => gapListeners.forEach((listener) => listener()) };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('WebSockets after a gap in the session bus', () => {
  it('looks up every tracked session at once and closes the sockets of those that ended', async () => {
    const { ctx, reads, gap } = fakeContext();
    const tracker = new SocketTracker(ctx);
    const [alice, bob] = [new FakeSocket(), new FakeSocket()];
    tracker.track(ALICE, alice as unknown as Socket);
    tracker.track(BOB, bob as unknown as Socket);
    gap();
    await settle();
    expect(reads.map((r) => r.hashes.sort())).toEqual([[ALICE, BOB]]);
    reads[0]!.answer(new Set([BOB]));
    await settle();
    expect({ alice: alice.destroyed, bob: bob.destroyed }).toEqual({ alice: true, bob: false });
    tracker.stop();
  });

  it('a gap during a lookup starts another, whose answer counts', async () => {
    const { ctx, reads, gap } = fakeContext();
    const tracker = new SocketTracker(ctx);
    const alice = new FakeSocket();
    tracker.track(ALICE, alice as unknown as Socket);
    gap(); // the bus dropped: a lookup starts
    await settle();
    expect(reads).toHaveLength(1);
    // Alice logs out elsewhere while the bus is away; the bus comes back (a second gap) before the first
    // lookup answers, and that lookup had read her session before the logout.
    gap();
    reads[0]!.answer(new Set([ALICE]));
    await settle();
    expect(alice.destroyed).toBe(false);
    expect(reads).toHaveLength(2);
    reads[1]!.answer(new Set());
    await settle();
    expect(alice.destroyed).toBe(true);
    tracker.stop();
  });

  it('without a gap, a session checked a moment ago is not looked up again (the bus reports endings)', async () => {
    // The tracker's poll timer and clock are vitest's: one tick passes without waiting for it.
    vi.useFakeTimers();
    try {
      const { ctx, reads } = fakeContext();
      const tracker = new SocketTracker(ctx);
      tracker.track(ALICE, new FakeSocket() as unknown as Socket);
      await vi.advanceTimersByTimeAsync(1100); // one tick of the poll timer
      expect(reads).toHaveLength(0);
      tracker.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
