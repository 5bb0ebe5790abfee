// Waiting for a condition instead of for a clock: polls until the condition holds and fails with what was
// awaited when it does not within the timeout. Inside a test body prefer vitest's `expect.poll` (it
// reports the last value); this is for helpers, launchers and the global setup, where no `expect` runs.

export interface UntilOptions {
  /** Give up after this many milliseconds (default 15 s). */
  timeout?: number;
  /** Look again after this many milliseconds (default 25). */
  interval?: number;
}

/** Resolves to the first truthy value of `check`; rejects naming `what` once `timeout` has passed. */
export async function until<T>(what: string, check: () => T | Promise<T>, options: UntilOptions = {}): Promise<NonNullable<T>> {
  const { timeout = 15_000, interval = 25 } = options;
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

/** Resolves once `event` settles, or after `timeout` ms without throwing: for bounded waits on an exit. */
export async function atMost(event: Promise<unknown>, timeout: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([event, new Promise((resolve) => (timer = setTimeout(resolve, timeout)))]);
  clearTimeout(timer);
}
