// One writer per chain: `<dir>/<instance>/.lock` names the process that writes the instance's chain,
// so a second server with the same instance name, or `roomguard audit purge` next to a running server,
// cannot fork the chain. On the same machine a lock is taken over only when its process is gone, never
// because of its age (a paused VM or a blocked event loop is still the holder). Across machines (a shared
// file system) the holder cannot be asked, so a lock not refreshed for 30 s counts as abandoned; that is
// why the holder checks before and after each commit that the lock file is still its own (`check`, one
// stat call) and stops writing for good once it is not.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { readFileSync, readlinkSync, type Stats } from 'node:fs';
import { open, readFile, stat, unlink, type FileHandle } from 'node:fs/promises';

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

export class InstanceLockedError extends Error {
  constructor(readonly file: string, readonly holder: { pid: number; host: string; ageSeconds: number }) {
    super(`${file}: the audit chain is being written by pid ${holder.pid} on ${holder.host} (refreshed ${holder.ageSeconds}s ago); ` +
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

async function readLock(file: string): Promise<{ content?: LockContent; mtimeMs: number } | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
    try {
      return { content: JSON.parse(text) as LockContent, mtimeMs: info.mtimeMs };
    } catch {
      return { mtimeMs: info.mtimeMs };
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
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
      if (current?.content?.token === token) await unlink(file).catch(() => undefined);
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
    await unlink(file).catch(() => undefined);
  }
  throw new InstanceLockedError(file, { pid: 0, host: 'unknown', ageSeconds: 0 });
}
