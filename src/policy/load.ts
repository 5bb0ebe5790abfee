// Loads every policy file of a directory into a PolicySet (all or nothing), and keeps a live set that
// reloads when the directory changes. A broken set is rejected whole; the previous set keeps serving.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join, relative } from 'node:path';
import { EventEmitter } from 'node:events';
import type { Problem } from '../config/yaml-source.js';
import { MAX_YAML_BYTES } from '../config/yaml-source.js';
import { parsePolicyText } from './parse.js';
import { lintPolicySet } from './lint.js';
import type { Policy, PolicySet } from './types.js';

export interface PolicyLoadResult {
  set?: PolicySet;
  problems: Problem[];
  files: Array<{ file: string; sha256: string }>;
}

const MAX_POLICY_FILES = 1000;

export function loadPolicyDir(dir: string, extraReserved: readonly string[] = []): PolicyLoadResult {
  const display = (path: string) => {
    const rel = relative(process.cwd(), path);
    return rel.startsWith('..') ? path : rel;
  };
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /\.ya?ml$/.test(n) && !n.startsWith('.')).sort();
  } catch (err) {
    return { problems: [{ file: display(dir), field: '', message: `cannot read policy directory: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }], files: [] };
  }
  if (names.length > MAX_POLICY_FILES) {
    return { problems: [{ file: display(dir), field: '', message: `more than ${MAX_POLICY_FILES} policy files` }], files: [] };
  }
  const problems: Problem[] = [];
  const policies: Policy[] = [];
  const files: PolicyLoadResult['files'] = [];
  for (const name of names) {
    const path = join(dir, name);
    const file = display(path);
    let text: string;
    try {
      const stat = statSync(path);
      // A FIFO or device named *.yaml would block the read (and with it every request) for ever.
      if (!stat.isFile() && !stat.isDirectory()) {
        problems.push({ file, line: 1, field: '', message: 'not a regular file' });
        continue;
      }
      if (stat.size > MAX_YAML_BYTES) {
        problems.push({ file, line: 1, field: '', message: `file is larger than ${MAX_YAML_BYTES} bytes` });
        continue;
      }
      text = readFileSync(path, 'utf8');
    } catch (err) {
      problems.push({ file, field: '', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      continue;
    }
    const result = parsePolicyText(file, text, extraReserved);
    problems.push(...result.problems);
    if (result.policy) {
      policies.push(result.policy);
      files.push({ file, sha256: result.policy.sha256 });
    }
  }
  if (problems.length === 0) problems.push(...lintPolicySet(policies));
  if (problems.length > 0) return { problems, files };
  const version = createHash('sha256').update(files.map((f) => `${f.file}\0${f.sha256}\n`).join('')).digest('hex');
  return { set: { policies, version }, problems, files };
}

export interface PolicyReloadEvent {
  ok: boolean;
  problems: Problem[];
  version?: string;
  files: Array<{ file: string; sha256: string }>;
}

/** The policy set in force, reloaded on directory changes (debounced) or on demand. */
export class LivePolicies extends EventEmitter<{ reload: [PolicyReloadEvent] }> {
  #set: PolicySet;
  #watcher?: FSWatcher;
  #timer?: NodeJS.Timeout;
  readonly dir: string;
  readonly #reserved: readonly string[];

  private constructor(dir: string, set: PolicySet, reserved: readonly string[]) {
    super();
    this.dir = dir;
    this.#set = set;
    this.#reserved = reserved;
  }

  /** Loads the directory; throws with every problem listed when the initial set is broken. */
  static open(dir: string, reserved: readonly string[] = []): LivePolicies {
    const result = loadPolicyDir(dir, reserved);
    if (!result.set) throw new PolicySetError(result.problems);
    return new LivePolicies(dir, result.set, reserved);
  }

  get current(): PolicySet {
    return this.#set;
  }

  /** Re-reads the directory. Keeps the old set when the new one has any problem. */
  reload(): PolicyReloadEvent {
    const result = loadPolicyDir(this.dir, this.#reserved);
    const event: PolicyReloadEvent = { ok: Boolean(result.set), problems: result.problems, files: result.files, ...(result.set ? { version: result.set.version } : {}) };
    if (result.set) this.#set = result.set;
    this.emit('reload', event);
    return event;
  }

  watch(debounceMs = 200): void {
    if (this.#watcher) return;
    this.#watcher = watch(this.dir, { persistent: false }, () => {
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => this.reload(), debounceMs);
      this.#timer.unref();
    });
    this.#watcher.on('error', () => undefined);
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#watcher?.close();
    this.#watcher = undefined;
  }
}

export class PolicySetError extends Error {
  readonly problems: Problem[];
  constructor(problems: Problem[]) {
    super(`policy set rejected with ${problems.length} problem(s)`);
    this.problems = problems;
  }
}
