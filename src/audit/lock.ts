// One writer per chain: `<dir>/<instance>/.lock` names the process that writes the instance's chain,
// so a second server with the same instance name, or `roomguard audit purge` next to a running server,
// cannot fork the chain. The holder refreshes the file's time every 10 s; a lock is stale when its
// process is gone (same host) or it has not been refreshed for 30 s.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { open, readFile, stat, unlink, utimes } from 'node:fs/promises';

export const LOCK_FILE = '.lock';
const HEARTBEAT_MS = 10_000;
const STALE_MS = 30_000;

interface LockContent { pid: number; host: string; token: string; since: string }

/** Locks held by this process (a lock file naming our own pid is stale unless we hold it: containers reuse pid 1). */
const heldHere = new Set<string>();

export class InstanceLockedError extends Error {
  constructor(readonly file: string, readonly holder: { pid: number; host: string; ageSeconds: number }) {
    super(`${file}: the audit chain is being written by pid ${holder.pid} on ${holder.host} (refreshed ${holder.ageSeconds}s ago); ` +
      `only one process may write an instance's chain (if that process is gone, the lock expires ${STALE_MS / 1000}s after its last refresh)`);
    this.name = 'InstanceLockedError';
  }
}

export interface InstanceLock {
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
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

export async function acquireInstanceLock(instanceDir: string, now: () => number = Date.now): Promise<InstanceLock> {
  const file = join(instanceDir, LOCK_FILE);
  if (heldHere.has(file)) throw new InstanceLockedError(file, { pid: process.pid, host: hostname(), ageSeconds: 0 });
  const token = randomBytes(12).toString('hex');
  const content: LockContent = { pid: process.pid, host: hostname(), token, since: new Date(now()).toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o640);
      try {
        await handle.writeFile(`${JSON.stringify(content)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      const check = await readLock(file);
      if (check?.content?.token !== token) continue;
      heldHere.add(file);
      const timer = setInterval(() => {
        const t = new Date();
        utimes(file, t, t).catch(() => undefined);
      }, HEARTBEAT_MS);
      timer.unref();
      return {
        release: async () => {
          clearInterval(timer);
          heldHere.delete(file);
          const current = await readLock(file).catch(() => undefined);
          if (current?.content?.token === token) await unlink(file).catch(() => undefined);
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const existing = await readLock(file);
    if (!existing) continue;
    const holder = existing.content;
    const age = Date.now() - existing.mtimeMs;
    // An unreadable lock younger than 2 s is probably being written by its holder right now.
    const stale = holder
      ? age > STALE_MS || (holder.host === hostname() && (holder.pid === process.pid || !alive(holder.pid)))
      : age > 2000;
    if (!stale) throw new InstanceLockedError(file, { pid: holder?.pid ?? 0, host: holder?.host ?? 'unknown', ageSeconds: Math.round(age / 1000) });
    await unlink(file).catch(() => undefined);
  }
  throw new InstanceLockedError(file, { pid: 0, host: 'unknown', ageSeconds: 0 });
}
