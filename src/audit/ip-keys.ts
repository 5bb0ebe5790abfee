// Daily keys for `audit.ip: hmac`: one random 256-bit key per UTC day in `<dir>/keys/<YYYY-MM-DD>.key`
// (mode 0600), shared by the instances writing into the same directory, deleted after 7 days so that
// old address hashes can no longer be linked to an address (security requirement I.64).
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { KEYS_DIR, utcDay } from './chain.js';

export const IP_KEY_DAYS = 7;
const KEY_PATTERN = /^(\d{4}-\d{2}-\d{2})\.key$/;

export class DailyIpKeys {
  readonly #dir: string;
  #cached: { day: string; key: Buffer } | undefined;

  constructor(auditDir: string) {
    this.#dir = join(auditDir, KEYS_DIR);
  }

  /** The key of a UTC day, created (atomically, first writer wins) when it does not exist yet. */
  async keyFor(day: string): Promise<Buffer> {
    if (this.#cached?.day === day) return this.#cached.key;
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const file = join(this.#dir, `${day}.key`);
    let key = await readKey(file);
    if (!key) {
      const tmp = join(this.#dir, `.${day}.key.${process.pid}.${randomBytes(6).toString('hex')}`);
      const handle = await open(tmp, 'wx', 0o600);
      try {
        await handle.writeFile(`${randomBytes(32).toString('hex')}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      try {
        await link(tmp, file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      } finally {
        await unlink(tmp).catch(() => undefined);
      }
      key = await readKey(file);
      if (!key) throw new Error(`audit: the address key ${file} is unreadable`);
    }
    this.#cached = { day, key };
    return key;
  }
}

async function readKey(file: string): Promise<Buffer | undefined> {
  try {
    const text = (await readFile(file, 'utf8')).trim();
    return /^[0-9a-f]{64}$/.test(text) ? Buffer.from(text, 'hex') : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Days whose key is past the 7 days (today's key and the 6 before it are kept). */
export async function expiredIpKeyDays(auditDir: string, now: number): Promise<string[]> {
  const oldestKept = utcDay(now - (IP_KEY_DAYS - 1) * 86_400_000);
  let names: string[];
  try {
    names = await readdir(join(auditDir, KEYS_DIR));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names.map((n) => KEY_PATTERN.exec(n)?.[1]).filter((d): d is string => d !== undefined && d < oldestKept).sort();
}

export async function deleteIpKey(auditDir: string, day: string): Promise<void> {
  await unlink(join(auditDir, KEYS_DIR, `${day}.key`)).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}
