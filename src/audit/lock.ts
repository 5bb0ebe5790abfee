// One writer per chain: `<dir>/<instance>/.lock` names the process that writes the instance's chain,
// so a second server with the same instance name, or `roomguard audit purge` next to a running server,
// cannot fork the chain. On the same machine a lock is taken over only when its process is gone, never
// because of its age (a paused VM or a blocked event loop is still the holder). Across machines (a shared
// file system) the holder cannot be asked, so a lock not refreshed for 30 s counts as abandoned; that is
// why the holder checks before and after each commit that the lock file is still its own (`check`, one
// stat call) and stops writing for good once it is not. Taking over a stale lock is one process's act: it
// first creates a claim on that very lock file exclusively, and removes the lock only while the path still
// holds the file it judged stale, so two starters can never both take it (nor one remove the other's).
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { readFileSync, readlinkSync, type Stats } from 'node:fs';
import { open, stat, unlink, type FileHandle } from 'node:fs/promises';
import { sha256Hex } from './chain.js';

export const LOCK_FILE = '.lock';
const HEARTBEAT_MS = 10_000;
/** Age after which the lock of a process on another machine counts as abandoned. */
export const STALE_MS = 30_000;

/**
 * Who holds a lock. `boot`, `pidns` and `start` (Linux) tell a live holder from a dead one whose pid was
 * reused, and a process in another container (another pid namespace) from one of ours.
 */
interface LockContent { pid: number; host: string; token: string; since: string; boot?: string; pidns?: string; start?: string }

/** Locks held by this process (a lock file naming our own pid is stale unless we hold it: containers reuse pid 1). */
const heldHere = new Set<string>();
/** Takeover claims this process is acting on right now (one naming our pid is otherwise an earlier process's). */
const claimingHere = new Set<string>();

export class InstanceLockedError extends Error {
  constructor(readonly file: string, readonly holder: { pid: number; host: string; ageSeconds: number; takingOver?: boolean }) {
    super(`${file}: the audit chain is ${holder.takingOver ? 'being taken over' : 'being written'} by pid ${holder.pid} on ${holder.host} ` +
      `(${holder.takingOver ? 'it found the lock of a process that has ended' : `refreshed ${holder.ageSeconds}s ago`}); ` +
      'only one process may write an instance\'s chain (a lock of a process on this machine is free once that process has ended; ' +
      `one of another machine, ${STALE_MS / 1000}s after its last refresh)`);
    this.name = 'InstanceLockedError';
  }
}

/** The lock file is no longer the one this process created: another process took the chain over. */
export class LockLostError extends Error {
  constructor(readonly file: string, detail: string) {
    super(`${file}: this process no longer holds the audit lock (${detail}); it has stopped writing the chain so that two writers cannot fork it`);
    this.name = 'LockLostError';
  }
}

export interface InstanceLock {
  /**
   * Resolves while the lock file at its path is still the file this process created (compared by
   * device and inode: one stat call, no read); rejects with LockLostError once it is not.
   */
  check(): Promise<void>;
  /** Set once a check (or the heartbeat) found the lock taken over or removed. */
  readonly lost: LockLostError | undefined;
  release(): Promise<void>;
}

function readOptional(read: () => string): string | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks after boot. */
function processStart(pid: number | 'self'): string | undefined {
  const stat = readOptional(() => readFileSync(`/proc/${pid}/stat`, 'utf8'));
  // The command name (field 2) is in parentheses and may contain spaces: count from the last ')'.
  const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields?.[19];
}

/** This process, as a lock file names it. Read once: none of it changes while the process lives. */
const self = {
  boot: readOptional(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()),
  pidns: readOptional(() => readlinkSync('/proc/self/ns/pid')),
  start: processStart('self'),
};

/** Whether a holder runs on this machine and in our pid namespace, so that its pid can be asked. */
function sameMachine(holder: LockContent): boolean {
  if (holder.host !== hostname()) return false;
  if (holder.boot !== undefined && self.boot !== undefined && holder.boot !== self.boot) return false;
  return !(holder.pidns !== undefined && self.pidns !== undefined && holder.pidns !== self.pidns);
}

/** Whether the process a lock names still runs (and is that process, not a later one with its pid). */
function holderAlive(holder: LockContent): boolean {
  // Our own pid: a lock this process holds was refused before (heldHere); any other is an earlier process's.
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (holder.start === undefined) return true;
  const start = processStart(holder.pid);
  return start === undefined || start === holder.start;
}

function isStale(holder: LockContent | undefined, ageMs: number): boolean {
  // An unreadable lock younger than 2 s is probably being written by its holder right now.
  if (!holder) return ageMs > 2000;
  // Another boot id under the same host name is another machine (or this one before a reboot, whose lock
  // has gone unrefreshed since): only age can tell, as for any other machine.
  if (sameMachine(holder)) return !holderAlive(holder);
  return ageMs > STALE_MS;
}

/** The lock file as one read saw it: which file it was (device, inode), its bytes and the holder they name. */
interface LockSnapshot {
  dev: number;
  ino: number;
  mtimeMs: number;
  bytes: Buffer;
  content?: LockContent;
}

/** Reads the lock through one open handle, so that identity and bytes are of the same file. */
async function readLock(file: string): Promise<LockSnapshot | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const [info, bytes] = await Promise.all([handle.stat(), handle.readFile()]);
    const snapshot: LockSnapshot = { dev: info.dev, ino: info.ino, mtimeMs: info.mtimeMs, bytes };
    try {
      snapshot.content = JSON.parse(bytes.toString('utf8')) as LockContent;
    } catch {
      // unreadable: judged by its age alone
    }
    return snapshot;
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function sameLockFile(a: LockSnapshot | undefined, b: LockSnapshot): boolean {
  // Inode numbers are reused once a file is gone: the bytes (a random token) tell a new lock from the old.
  return a !== undefined && a.dev === b.dev && a.ino === b.ino && a.bytes.equals(b.bytes);
}

/** Prefix of the claims on one lock file: every starter that judged that file stale names the same claims. */
function claimPrefix(file: string, stale: LockSnapshot): string {
  return `${file}.takeover-${sha256Hex(Buffer.concat([Buffer.from(`${stale.dev}:${stale.ino}\n`), stale.bytes])).slice(0, 16)}.`;
}

async function createExclusive(path: string, text: string): Promise<boolean> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'wx', 0o640);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return true;
}

/**
 * Removes a lock judged stale, unless another process is taking it over or already has. Only the process
 * whose claim file on that lock was created first (O_EXCL: exactly one) acts, and only while the path still
 * holds the very file judged stale: a starter that judged it stale a moment too late (another took it over
 * meanwhile) finds a new file there and leaves it alone. A claim left by a claimant that ended half-way is
 * stale by the lock's own rules; the next claim number is then taken, again by exactly one process.
 * Returns the live claimant when another process is taking the lock over right now.
 */
async function removeStaleLock(file: string, stale: LockSnapshot, claimant: LockContent): Promise<LockSnapshot | undefined> {
  const prefix = claimPrefix(file, stale);
  for (let n = 0; n < 8; n++) {
    const claim = `${prefix}${n}`;
    if (!(await createExclusive(claim, `${JSON.stringify(claimant)}\n`))) {
      const other = await readLock(claim);
      // Gone again: its claimant has finished the takeover, and the path holds something new.
      if (!other) return undefined;
      if (claimingHere.has(claim) || !isStale(other.content, Date.now() - other.mtimeMs)) return other;
      continue;
    }
    claimingHere.add(claim);
    try {
      // Nobody but this claimant removes the file judged stale; anything else at the path is left alone.
      if (sameLockFile(await readLock(file), stale)) {
        await unlink(file).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
        });
      }
    } finally {
      claimingHere.delete(claim);
      await removeClaims(prefix, n);
    }
    return undefined;
  }
  return undefined;
}

/** Removes this claim and those before it (their claimants had ended, or we would not hold claim n). */
async function removeClaims(prefix: string, upTo: number): Promise<void> {
  for (let n = upTo; n >= 0; n--) await unlink(`${prefix}${n}`).catch(() => undefined);
}

/**
 * The lock as held: the file stays open, so its inode cannot be reused by another file while we live,
 * and "is the file at the path still ours" is one stat compared with the open file's device and inode.
 */
function heldLock(file: string, handle: FileHandle, identity: { dev: number; ino: number }, token: string, onLost?: (err: LockLostError) => void): InstanceLock {
  let lost: LockLostError | undefined;
  let released = false;
  const loseIt = (detail: string): LockLostError => {
    if (!lost) {
      lost = new LockLostError(file, detail);
      onLost?.(lost);
    }
    return lost;
  };
  const check = async (): Promise<void> => {
    if (lost) throw lost;
    let info: Stats;
    try {
      info = await stat(file);
    } catch (err) {
      // With its folder the lock is away for a while (a volume unmounted, the folder moved): a write
      // failure the writer retries. A lock missing from a folder that is there was removed: never
      // re-create it, another process may have written the chain since.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && (await stat(dirname(file)).then(() => true, () => false))) throw loseIt('the lock file was removed');
      throw err;
    }
    if (info.dev !== identity.dev || info.ino !== identity.ino) throw loseIt('the lock file was replaced by another process');
  };
  // The heartbeat refreshes our own file (through its handle, so a lock file of a process that took
  // over is never refreshed by us) and notices a takeover even when nothing is written.
  const timer = setInterval(() => {
    const now = new Date();
    handle.utimes(now, now).catch(() => undefined);
    check().catch(() => undefined);
  }, HEARTBEAT_MS);
  timer.unref();
  return {
    check,
    get lost() {
      return lost;
    },
    release: async () => {
      if (released) return;
      released = true;
      clearInterval(timer);
      heldHere.delete(file);
      const current = await readLock(file).catch(() => undefined);
      if (current?.content?.token === token && current.dev === identity.dev && current.ino === identity.ino) await unlink(file).catch(() => undefined);
      await handle.close().catch(() => undefined);
    },
  };
}

export interface AcquireOptions {
  /** Called once when the lock is found taken over or removed (by a check or the heartbeat). */
  onLost?: (err: LockLostError) => void;
}

export async function acquireInstanceLock(instanceDir: string, options: AcquireOptions = {}): Promise<InstanceLock> {
  const file = join(instanceDir, LOCK_FILE);
  if (heldHere.has(file)) throw new InstanceLockedError(file, { pid: process.pid, host: hostname(), ageSeconds: 0 });
  const token = randomBytes(12).toString('hex');
  const content: LockContent = {
    pid: process.pid, host: hostname(), token, since: new Date().toISOString(),
    ...(self.boot !== undefined ? { boot: self.boot } : {}),
    ...(self.pidns !== undefined ? { pidns: self.pidns } : {}),
    ...(self.start !== undefined ? { start: self.start } : {}),
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    let handle: FileHandle | undefined;
    try {
      handle = await open(file, 'wx', 0o640);
      await handle.writeFile(`${JSON.stringify(content)}\n`);
      await handle.sync();
      const info = await handle.stat();
      const check = await readLock(file);
      if (check?.content?.token !== token) {
        await handle.close();
        continue;
      }
      heldHere.add(file);
      return heldLock(file, handle, { dev: info.dev, ino: info.ino }, token, options.onLost);
    } catch (err) {
      await handle?.close().catch(() => undefined);
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const existing = await readLock(file);
    if (!existing) continue;
    const holder = existing.content;
    const age = Date.now() - existing.mtimeMs;
    if (!isStale(holder, age)) throw new InstanceLockedError(file, { pid: holder?.pid ?? 0, host: holder?.host ?? 'unknown', ageSeconds: Math.round(age / 1000) });
    const claimant = await removeStaleLock(file, existing, content);
    if (claimant) throw new InstanceLockedError(file, { pid: claimant.content?.pid ?? 0, host: claimant.content?.host ?? 'unknown', ageSeconds: 0, takingOver: true });
  }
  throw new InstanceLockedError(file, { pid: 0, host: 'unknown', ageSeconds: 0 });
}
