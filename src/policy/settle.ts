// When may a read of the policy directory be put in force? Only once the set has stood still for the
// settle period, so that a file rewritten in place (truncate, write part, pause, write the rest; or line
// by line through a memory mapping) is not judged half-written. Pure: reads and times are passed in.
//
// Standing still is judged by content alone: two reads at least the settle period apart must have seen
// the same names, inodes, sizes, times and bytes (by hash). No shortcut by file times ("nothing changed
// for a while by ctime"): a write through a memory mapping moves them only at the first write to a clean
// page, so old times do not prove a finished file. The cost is one settle period at start-up and SIGHUP.
//
// What this covers: a writer whose pauses are all shorter than the settle period (scp, `cat > file` from
// a pipe, editors that rewrite in place, mmap writers, several files written one after another). What it
// cannot cover: a writer that pauses longer; no portable way tells such a pause from a finished file.
// Write-then-rename (docs/policies.md) is the answer for those, and the settle period is what is left for
// everyone else.

/** What the settle rule needs of a read (see read-dir.ts). */
export interface SettleRead {
  fingerprint: string;
  readAt: number;
  steady: boolean;
}

/**
 * 0 when `read` may be put in force; otherwise how long to wait before reading again. A read is settled
 * when an earlier read at least `settleMs` before it saw exactly the same set (names, inodes, sizes,
 * times, content hashes), and neither was taken while a file changed under it.
 */
export function settleWait(read: SettleRead, earlier: SettleRead | undefined, settleMs: number): number {
  if (!read.steady) return settleMs;
  const sameAsEarlier = earlier !== undefined && earlier.steady && earlier.fingerprint === read.fingerprint;
  const apart = sameAsEarlier ? read.readAt - earlier.readAt : 0;
  if (sameAsEarlier && apart >= settleMs) return 0;
  return Math.max(1, settleMs - apart);
}

/** The read to compare the next one with: the oldest steady read of the current state. */
export function earliestOfState<R extends SettleRead>(read: R, earlier: R | undefined): R {
  return earlier !== undefined && earlier.steady && read.steady && earlier.fingerprint === read.fingerprint ? earlier : read;
}
