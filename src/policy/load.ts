// Loads every policy file of a directory into a PolicySet (all or nothing), and keeps a live set that
// reloads when the directory changes. Only a set that has stood still for the settle period is put in
// force (settle.ts), so a file caught half-written never judges a room; a broken set is rejected whole;
// either way the previous set keeps serving.
import { createHash } from 'node:crypto';
import { statSync, watch, type FSWatcher } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { EventEmitter } from 'node:events';
import type { Problem } from '../config/yaml-source.js';
import { parsePolicyText } from './parse.js';
import { lintPolicySet } from './lint.js';
import { readPolicyDir, type PolicyDirRead } from './read-dir.js';
import { earliestOfState, settleWait } from './settle.js';
import type { Policy, PolicySet } from './types.js';

export interface PolicyLoadResult {
  set?: PolicySet;
  problems: Problem[];
  files: Array<{ file: string; sha256: string }>;
  /** Worth an admin's look, no reason to refuse: files that are ignored, hard links, a linked directory. */
  notices: Problem[];
}

/** How long a changed set must stand still before it is put in force when the caller does not say (the config default of policies.settle is the same). */
const DEFAULT_SETTLE_MS = 2000;
const DEFAULT_DEBOUNCE_MS = 200;
/**
 * The watcher misses a directory replaced behind a symbolic link, events on some mounts, and every write
 * through a memory mapping (no event, and times that move only at the first write to a clean page): a
 * periodic look that reads and hashes every file catches all three. 1000 policy files of 4 KiB took
 * 25–75 ms to read and hash on a shared two-core machine (docs/policies.md): every 5 s is about 1% of a core.
 */
const DEFAULT_POLL_MS = 5000;
/** A look that took d ms waits at least this many times d before the next: a huge directory costs at most ~1% of a core. */
const POLL_COST_FACTOR = 100;
/** A directory that never stands still this long is given up on (SIGHUP and start-up must end). */
const giveUpAfter = (settleMs: number) => Math.max(5000, 5 * settleMs);

const display = (path: string) => {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
};

/** Reads the directory once, as it is now, and judges it (`policy check`, `policy explain`, the guests CLI). */
export function loadPolicyDir(dir: string, extraReserved: readonly string[] = []): PolicyLoadResult {
  return judgePolicyRead(readPolicyDir(dir), extraReserved);
}

/** Parses and lints what one read saw. */
function judgePolicyRead(read: PolicyDirRead, extraReserved: readonly string[] = []): PolicyLoadResult {
  const notices = noticesOf(read);
  if (read.problem) return { problems: [{ file: display(read.dir), field: '', message: read.problem }], files: [], notices };
  const problems: Problem[] = [];
  const policies: Policy[] = [];
  const files: PolicyLoadResult['files'] = [];
  for (const entry of read.files) {
    const file = display(entry.path);
    if (entry.problem !== undefined || entry.bytes === undefined) {
      problems.push({ file, ...(entry.problemLine ? { line: entry.problemLine } : {}), field: '', message: entry.problem ?? 'not read' });
      continue;
    }
    const result = parsePolicyText(file, entry.bytes.toString('utf8'), extraReserved);
    problems.push(...result.problems);
    if (result.policy) {
      policies.push(result.policy);
      files.push({ file, sha256: result.policy.sha256 });
    }
  }
  if (problems.length === 0) problems.push(...lintPolicySet(policies));
  if (problems.length > 0) return { problems, files, notices };
  const version = createHash('sha256').update(files.map((f) => `${f.file}\0${f.sha256}\n`).join('')).digest('hex');
  return { set: { policies, version }, problems, files, notices };
}

function noticesOf(read: PolicyDirRead): Problem[] {
  const notices: Problem[] = [];
  const note = (file: string, message: string) => notices.push({ file: display(file), field: '', message });
  if (read.realDir !== undefined && read.realDir !== resolve(read.dir)) note(read.dir, `resolves to ${read.realDir}`);
  if (!read.steady) note(read.dir, 'a file changed while it was being read; check again once it is written');
  for (const f of read.files) {
    if (f.links > 1) note(f.path, `has ${f.links} names (hard links): a change through any of them changes this policy`);
  }
  for (const name of read.ignored) note(join(read.dir, name), 'ignored: not a policy file name (NAME.yaml or NAME.yml, not starting with ".", "#" or "~")');
  return notices;
}

export interface PolicyReloadEvent {
  ok: boolean;
  problems: Problem[];
  version?: string;
  files: Array<{ file: string; sha256: string }>;
}

export interface LivePoliciesOptions {
  /** Room names the backend routes itself, which no policy may name. */
  reserved?: readonly string[];
  /** How long a changed set must stand still before it is put in force (policies.settle). */
  settleMs?: number;
}

export interface WatchOptions {
  /** How soon after a file-system event the directory is looked at. */
  debounceMs?: number;
  /** How often the directory is looked at without an event. */
  pollMs?: number;
}

/** The policy set in force, reloaded on directory changes once they have settled, or on demand. */
export class LivePolicies extends EventEmitter<{ reload: [PolicyReloadEvent] }> {
  readonly dir: string;
  #set: PolicySet;
  /** The last read that was judged (put in force or rejected). */
  #seen: PolicyDirRead;
  #lastOk = true;
  /** The first read of a change still settling. */
  #earlier?: PolicyDirRead;
  readonly #reserved: readonly string[];
  readonly #settleMs: number;
  #debounceMs = DEFAULT_DEBOUNCE_MS;
  #watcher?: FSWatcher;
  /** dev:ino of the directory the watcher listens to. */
  #watchedDir = '';
  #timer?: NodeJS.Timeout;
  #dueAt = 0;
  #poll?: NodeJS.Timeout;
  #pollMs = DEFAULT_POLL_MS;
  #closed = false;

  private constructor(dir: string, set: PolicySet, read: PolicyDirRead, options: Required<LivePoliciesOptions>) {
    super();
    this.dir = dir;
    this.#set = set;
    this.#seen = read;
    this.#reserved = options.reserved;
    this.#settleMs = options.settleMs;
  }

  /** Loads the directory once it has settled; throws with every problem listed when that set is broken. */
  static async open(dir: string, options: LivePoliciesOptions = {}): Promise<LivePolicies> {
    const settled = { reserved: options.reserved ?? [], settleMs: options.settleMs ?? DEFAULT_SETTLE_MS };
    const read = await readSettled(dir, settled.settleMs);
    const result = judgeSettled(read, settled.reserved, settled.settleMs);
    if (!result.set) throw new PolicySetError(result.problems);
    return new LivePolicies(dir, result.set, read.read, settled);
  }

  get current(): PolicySet {
    return this.#set;
  }

  /** Re-reads the directory once it has settled. Keeps the old set when the new one has any problem. */
  async reload(): Promise<PolicyReloadEvent> {
    const read = await readSettled(this.dir, this.#settleMs);
    return this.#apply(read.read, judgeSettled(read, this.#reserved, this.#settleMs), { announceUnchanged: true });
  }

  watch(options: WatchOptions = {}): void {
    if (this.#closed || this.#poll) return;
    this.#debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
    this.#pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    this.#arm();
    this.#lookIn(this.#pollMs);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#poll);
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  /** (Re)attaches the watcher to the directory now at `dir` (after a rename or a swapped link, a new one). */
  #arm(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
    this.#watchedDir = '';
    try {
      const stat = statSync(this.dir, { bigint: true });
      this.#watcher = watch(this.dir, { persistent: false }, () => this.#schedule(this.#debounceMs));
      this.#watcher.on('error', () => {
        this.#watchedDir = '';
      });
      this.#watchedDir = `${stat.dev}:${stat.ino}`;
    } catch {
      // No directory to watch right now; the poll looks again.
    }
  }

  /** Looks at the directory soon; a look already due sooner stands, so a stream of events cannot starve it. */
  #schedule(ms: number): void {
    const due = Date.now() + ms;
    if (this.#closed || (this.#timer && this.#dueAt <= due)) return;
    clearTimeout(this.#timer);
    this.#dueAt = due;
    this.#timer = setTimeout(() => this.#check(), ms);
    this.#timer.unref();
  }

  #lookIn(ms: number): void {
    if (this.#closed) return;
    this.#poll = setTimeout(() => this.#lookAgain(), ms);
    this.#poll.unref();
  }

  /**
   * The poll: reads and hashes every file (content, not only stat data, which a write through a memory
   * mapping need not move) and starts a check when anything differs from what was judged last.
   */
  #lookAgain(): void {
    const started = performance.now();
    if (!this.#timer && !this.#closed) {
      const look = readPolicyDir(this.dir, { keepBytes: false });
      if (look.fingerprint !== this.#seen.fingerprint || look.dirIdentity !== this.#watchedDir) this.#schedule(0);
    }
    this.#lookIn(Math.max(this.#pollMs, POLL_COST_FACTOR * (performance.now() - started)));
  }

  #check(): void {
    this.#timer = undefined;
    if (this.#closed) return;
    const read = readPolicyDir(this.dir);
    if (read.dirIdentity !== '' && read.dirIdentity !== this.#watchedDir) this.#arm();
    if (read.fingerprint === this.#seen.fingerprint) {
      this.#earlier = undefined;
      return;
    }
    const wait = settleWait(read, this.#earlier, this.#settleMs);
    if (wait > 0) {
      this.#earlier = earliestOfState(read, this.#earlier);
      this.#schedule(wait);
      return;
    }
    this.#earlier = undefined;
    this.#apply(read, judgePolicyRead(read, this.#reserved), { announceUnchanged: false });
  }

  /** Puts a judged read in force (or records its rejection) and tells the listeners. */
  #apply(read: PolicyDirRead, result: PolicyLoadResult, options: { announceUnchanged: boolean }): PolicyReloadEvent {
    const event: PolicyReloadEvent = { ok: Boolean(result.set), problems: result.problems, files: result.files, ...(result.set ? { version: result.set.version } : {}) };
    if (this.#closed) return event;
    // A touched file, or one rewritten with the same text, changes nothing worth a record.
    const unchanged = result.set !== undefined && result.set.version === this.#set.version && this.#lastOk;
    this.#seen = read;
    this.#lastOk = result.set !== undefined;
    if (result.set) this.#set = result.set;
    if (!unchanged || options.announceUnchanged) this.emit('reload', event);
    return event;
  }
}

/** Reads the directory until one read has settled, or gives up after a while of constant change. */
async function readSettled(dir: string, settleMs: number): Promise<{ read: PolicyDirRead; settled: boolean }> {
  const giveUpAt = Date.now() + giveUpAfter(settleMs);
  let earlier: PolicyDirRead | undefined;
  for (;;) {
    const read = readPolicyDir(dir);
    const wait = settleWait(read, earlier, settleMs);
    if (wait === 0) return { read, settled: true };
    if (read.readAt + wait > giveUpAt) return { read, settled: false };
    earlier = earliestOfState(read, earlier);
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

function judgeSettled(read: { read: PolicyDirRead; settled: boolean }, reserved: readonly string[], settleMs: number): PolicyLoadResult {
  if (read.settled) return judgePolicyRead(read.read, reserved);
  const message = `the policy files kept changing for longer than ${giveUpAfter(settleMs) / 1000} s (nothing stood still for policies.settle); the set was not loaded`;
  return { problems: [{ file: display(read.read.dir), field: '', message }], files: [], notices: [] };
}

export class PolicySetError extends Error {
  readonly problems: Problem[];
  constructor(problems: Problem[]) {
    super(`policy set rejected with ${problems.length} problem(s)`);
    this.problems = problems;
  }
}
