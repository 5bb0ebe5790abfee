// Reads the policy directory as it is on disk at one moment: which names count as policy files, their
// bytes, and enough of each file's identity (inode, size, times, content hash) to tell whether two reads
// saw the same set. Content is always read and hashed: a write through a memory mapping changes the bytes
// without a file-system event and often without any change of size or times. It judges no policy text (parse.ts and lint.ts do); it only refuses what must never be read
// as policy text: FIFOs and devices, oversized files, and symbolic links that leave the directory.
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync, realpathSync, statSync, type BigIntStats } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { MAX_YAML_BYTES } from '../config/yaml-source.js';

export const MAX_POLICY_FILES = 1000;

export interface PolicyFileRead {
  /** The name as listed in the directory. */
  name: string;
  path: string;
  /** The bytes read, when the file could be read as policy text (and the caller asked to keep them). */
  bytes?: Buffer;
  /** SHA-256 of the bytes read, when the file could be read as policy text. */
  sha256?: string;
  /** Why the file is refused (the whole set is then rejected). */
  problem?: string;
  /** 1 when the problem is about the file's content or kind; absent when the file could not be read at all. */
  problemLine?: 1;
  /** Links elsewhere (more than one name), worth an admin's look but no reason to refuse. */
  links: number;
  /** dev:ino:size:mtime:ctime of what was read (the link's target for a symbolic link). */
  identity: string;
}

export interface PolicyDirRead {
  dir: string;
  /** The directory after every symbolic link on the way is resolved; undefined when unreadable. */
  realDir?: string;
  /** dev:ino of the real directory: a replaced (renamed, re-linked) directory gets a new one. */
  dirIdentity: string;
  /** Why the directory itself cannot be read. */
  problem?: string;
  files: PolicyFileRead[];
  /** Names that look like policy files but are not read (editor backups, swap, lock and hidden files). */
  ignored: string[];
  /** False when a file's size or times changed while it was being read: this read saw no single state of it. */
  steady: boolean;
  /** Equal for two reads that saw the same names, inodes, sizes, times and contents (by hash). */
  fingerprint: string;
  /** When this read was taken (ms since the epoch). */
  readAt: number;
}

/**
 * A policy file is `NAME.yaml` or `NAME.yml`. Names starting with `.`, `#` or `~` are never read: editors
 * and tools put their swap, lock, autosave and temporary files there (`.board.yaml.swp`, `.#board.yaml`,
 * `#board.yaml#`, `~$board.yaml`, rsync's `.board.yaml.Xy12Ab`), and backups end in something else
 * (`board.yaml~`, `board.yaml.bak`).
 */
export function isPolicyFileName(name: string): boolean {
  return /\.ya?ml$/.test(name) && !/^[.#~]/.test(name);
}

/** Names an admin might take for policy files; `policy check` names them as ignored. */
function looksLikePolicyFile(name: string): boolean {
  return !isPolicyFileName(name) && /\.ya?ml/i.test(name);
}

function isInside(realDir: string, realPath: string): boolean {
  const rel = relative(realDir, realPath);
  // `..2024_01_01/board.yaml` (a Kubernetes ConfigMap's layout) is inside; `../x` and `..` are not.
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

const identityOf = (s: BigIntStats) => `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
const errorCode = (err: unknown) => (err as NodeJS.ErrnoException).code ?? (err as Error).message;

/**
 * Reads and hashes every policy file of `dir`. With `keepBytes: false` (the watcher's periodic look) the
 * bytes are only hashed, not kept: the fingerprint is the same either way.
 */
export function readPolicyDir(dir: string, options: { keepBytes?: boolean } = {}): PolicyDirRead {
  const keepBytes = options.keepBytes ?? true;
  const readAt = Date.now();
  const base = { dir, dirIdentity: '', files: [], ignored: [], steady: true, readAt };
  let realDir: string;
  let dirStat: BigIntStats;
  let names: string[];
  try {
    realDir = realpathSync(dir);
    dirStat = statSync(realDir, { bigint: true });
    names = readdirSync(realDir);
  } catch (err) {
    return sealed({ ...base, problem: `cannot read policy directory: ${errorCode(err)}` });
  }
  const policyNames = names.filter(isPolicyFileName).sort();
  const dirRead = { ...base, realDir, dirIdentity: `${dirStat.dev}:${dirStat.ino}`, ignored: names.filter(looksLikePolicyFile).sort() };
  if (policyNames.length > MAX_POLICY_FILES) return sealed({ ...dirRead, problem: `more than ${MAX_POLICY_FILES} policy files` });
  // One buffer for every file of this read: one byte more than the limit tells a file that grew past it.
  const buffer = Buffer.allocUnsafe(MAX_YAML_BYTES + 1);
  const files = policyNames.map((name) => readPolicyFile(realDir, name, join(dir, name), buffer, keepBytes));
  return sealed({ ...dirRead, files: files.map((f) => f.file), steady: files.every((f) => f.steady) });
}

function readPolicyFile(realDir: string, name: string, path: string, buffer: Buffer, keepBytes: boolean): { file: PolicyFileRead; steady: boolean } {
  const refused = (problem: string, stat?: BigIntStats, problemLine?: 1) => ({
    file: { name, path, problem, ...(problemLine ? { problemLine } : {}), links: 1, identity: stat ? identityOf(stat) : `refused:${problem}` },
    steady: true,
  });
  let target = join(realDir, name);
  try {
    if (lstatSync(target).isSymbolicLink()) {
      // Whoever can write a file outside the directory would otherwise change the policy through the link.
      const real = realpathSync(target);
      if (!isInside(realDir, real)) {
        return refused(`is a symbolic link to ${real}, outside the policy directory: whoever can write there could change this policy. Copy the file in, or point policies.dir at that directory`, undefined, 1);
      }
      target = real;
    }
    const stat = statSync(target, { bigint: true });
    // A FIFO or device named *.yaml would block the read (and with it every request) for ever.
    if (stat.isDirectory()) return refused('cannot read: EISDIR', stat);
    if (!stat.isFile()) return refused('not a regular file', stat, 1);
    if (stat.size > BigInt(MAX_YAML_BYTES)) return refused(`file is larger than ${MAX_YAML_BYTES} bytes`, stat, 1);
    return readSteadily(name, path, target, buffer, keepBytes);
  } catch (err) {
    return refused(`cannot read: ${errorCode(err)}`);
  }
}

/**
 * Reads one regular file and tells whether it stood still while it was read (same stat before and after).
 * A write through a memory mapping can change the bytes without moving the stat: only the settle rule's
 * second read, a settle period later, with the same hash, tells that the content stood still.
 */
function readSteadily(name: string, path: string, target: string, buffer: Buffer, keepBytes: boolean): { file: PolicyFileRead; steady: boolean } {
  // O_NONBLOCK: had the file been swapped for a FIFO since the stat, opening it must not hang.
  const fd = openSync(target, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const before = fstatSync(fd, { bigint: true });
    if (!before.isFile()) {
      return { file: { name, path, problem: 'not a regular file', problemLine: 1, links: 1, identity: identityOf(before) }, steady: false };
    }
    let length = 0;
    for (let n = -1; n !== 0 && length < buffer.length;) {
      n = readSync(fd, buffer, length, buffer.length - length, length);
      length += n;
    }
    const after = fstatSync(fd, { bigint: true });
    const steady = identityOf(before) === identityOf(after) && BigInt(length) === after.size;
    const file: PolicyFileRead = { name, path, links: Number(after.nlink), identity: identityOf(after) };
    if (length > MAX_YAML_BYTES) return { file: { ...file, problem: `file is larger than ${MAX_YAML_BYTES} bytes`, problemLine: 1 }, steady };
    const bytes = buffer.subarray(0, length);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    return { file: { ...file, sha256, ...(keepBytes ? { bytes: Buffer.from(bytes) } : {}) }, steady };
  } finally {
    closeSync(fd);
  }
}

function sealed(read: Omit<PolicyDirRead, 'fingerprint'>): PolicyDirRead {
  const entries = [read.realDir ?? '', read.dirIdentity, read.problem ?? '', ...read.files.map((f) => `${f.name}\0${f.identity}\0${f.problem ?? ''}\0${f.sha256 ?? ''}`)];
  return { ...read, fingerprint: createHash('sha256').update(entries.join('\n')).digest('hex') };
}
