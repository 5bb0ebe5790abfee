// When may a read of the policy directory be put in force? Only once the set has stood still for the
// settle period, so that a file rewritten in place (truncate, write part, pause, write the rest) is not
// judged half-written. Pure: reads and times are passed in.
//
// What this covers: a writer whose pauses are all shorter than the settle period (scp, `cat > file` from
// a pipe, editors that rewrite in place, several files written one after another). What it cannot cover:
// a writer that pauses longer; no portable way tells such a pause from a finished file. Write-then-rename
// (docs/policies.md) is the answer for those, and the settle period is what is left for everyone else.

/** What the settle rule needs of a read (see read-dir.ts). */
export interface SettleRead {
  fingerprint: string;
  changedAt: number;
  readAt: number;
  steady: boolean;
}

/**
 * Status-change times are stored with coarse ticks on some file systems (1 s on ext3 and many network
 * mounts), so a change can look up to that much older than it is.
 */
export const COARSE_TIMESTAMP_MS = 1000;

/**
 * 0 when `read` may be put in force; otherwise how long to wait before reading again. A read is settled
 * when an earlier read at least `settleMs` before it saw exactly the same set (names, inodes, sizes,
 * times, bytes), or — so that an old, untouched directory loads at once at start-up and on SIGHUP —
 * when nothing in it has changed for the settle period by its own status-change times.
 */
export function settleWait(read: SettleRead, earlier: SettleRead | undefined, settleMs: number): number {
  if (!read.steady) return settleMs;
  const sameAsEarlier = earlier !== undefined && earlier.fingerprint === read.fingerprint;
  const apart = sameAsEarlier ? read.readAt - earlier.readAt : 0;
  if (sameAsEarlier && apart >= settleMs) return 0;
  if (read.readAt - read.changedAt >= settleMs + COARSE_TIMESTAMP_MS) return 0;
  return Math.max(1, settleMs - apart);
}

/** The read to compare the next one with: the oldest read of the current state. */
export function earliestOfState<R extends SettleRead>(read: R, earlier: R | undefined): R {
  return earlier !== undefined && earlier.fingerprint === read.fingerprint && read.steady ? earlier : read;
}
