// Puts the order of file-system steps in a test's hands, to replay a race exactly instead of hoping the
// machine's load produces it. A test file routes `node:fs/promises` through `fsGates.wrap` (vi.mock); then
// a step on a path can be held until the test releases it, or failed with an error, and `settled()` waits
// until every step that was let go has finished, so the code under test is waiting only on held steps.
import type { FileHandle } from 'node:fs/promises';

type FsPromises = typeof import('node:fs/promises');

/** Module functions whose first argument is the path they act on. */
const PATH_STEPS = [
  'access', 'appendFile', 'chmod', 'copyFile', 'link', 'lstat', 'mkdir', 'open', 'readdir', 'readFile',
  'rename', 'rm', 'rmdir', 'stat', 'truncate', 'unlink', 'utimes', 'writeFile',
] as const;

/** FileHandle methods, named after the path the handle was opened with. */
const HANDLE_STEPS = new Set(['appendFile', 'close', 'datasync', 'read', 'readFile', 'stat', 'sync', 'truncate', 'utimes', 'write', 'writeFile']);

export interface HeldStep {
  /** Resolves once the step was called (and is now waiting for `release`). */
  readonly reached: Promise<void>;
  release(): void;
}

interface Rule {
  step: string;
  path: string;
  error?: NodeJS.ErrnoException;
  reached: () => void;
  release: () => void;
  released: Promise<void>;
}

export class FsGates {
  #rules: Rule[] = [];
  /** Rules whose step was reached and is waiting for its release. */
  #held: Rule[] = [];
  /** Steps running for real right now (not those held). */
  #running = 0;
  #handles: Array<{ path: string; handle: FileHandle }> = [];

  /** Holds the next `step` on `path` (a module function or a handle method) until `release()`. */
  hold(step: string, path: string): HeldStep {
    let reached!: () => void;
    let release!: () => void;
    const reachedP = new Promise<void>((resolve) => { reached = resolve; });
    const released = new Promise<void>((resolve) => { release = resolve; });
    this.#rules.push({ step, path, reached, release, released });
    return { reached: reachedP, release };
  }

  /** Fails the next `step` on `path` with an error of that code, without running it. */
  failNext(step: string, path: string, code: string): void {
    const error = Object.assign(new Error(`${code}: injected by the test, ${step} '${path}'`), { code, syscall: step, path });
    this.#rules.push({ step, path, error, reached: () => undefined, release: () => undefined, released: Promise.resolve() });
  }

  /** Handles opened on `path` that are not closed. */
  openHandles(path: string): number {
    return this.#handles.filter((h) => h.path === path && h.handle.fd !== -1).length;
  }

  /**
   * Resolves once no step that was let go is still running and every callback it led to has run: the code
   * under test is now waiting only on held steps (or on nothing). Only file-system steps are tracked, so the
   * code under test must have no timers due meanwhile.
   */
  async settled(): Promise<void> {
    for (let quietTurns = 0; quietTurns < 2;) {
      await new Promise((resolve) => setImmediate(resolve));
      quietTurns = this.#running === 0 ? quietTurns + 1 : 0;
    }
  }

  /** Forgets the rules not yet used and lets every held step go (a failed test must not leave the writer stuck). */
  reset(): void {
    for (const rule of this.#held) rule.release();
    this.#rules = [];
    this.#held = [];
    this.#handles = [];
  }

  wrap(real: FsPromises): FsPromises {
    const wrapped: Record<string, unknown> = { ...real };
    for (const step of PATH_STEPS) {
      const original = real[step] as (...args: unknown[]) => Promise<unknown>;
      wrapped[step] = (...args: unknown[]) => this.#run(step, String(args[0]), () => original(...args));
    }
    wrapped.open = async (...args: Parameters<FsPromises['open']>) => {
      const path = String(args[0]);
      const handle = await this.#run('open', path, () => real.open(...args));
      this.#handles.push({ path, handle });
      return this.#trackHandle(handle, path);
    };
    return wrapped as FsPromises;
  }

  #trackHandle(handle: FileHandle, path: string): FileHandle {
    return new Proxy(handle, {
      get: (target, prop) => {
        const value: unknown = Reflect.get(target, prop, target);
        if (typeof value !== 'function') return value;
        const method = value as (...args: unknown[]) => unknown;
        if (typeof prop === 'string' && HANDLE_STEPS.has(prop)) {
          return (...args: unknown[]) => this.#run(prop, path, () => method.apply(target, args) as Promise<unknown>);
        }
        return method.bind(target);
      },
    });
  }

  async #run<T>(step: string, path: string, act: () => Promise<T>): Promise<T> {
    const index = this.#rules.findIndex((rule) => rule.step === step && rule.path === path);
    if (index >= 0) {
      const rule = this.#rules.splice(index, 1)[0]!;
      this.#held.push(rule);
      rule.reached();
      await rule.released;
      this.#held = this.#held.filter((held) => held !== rule);
      if (rule.error) throw rule.error;
    }
    this.#running++;
    try {
      return await act();
    } finally {
      this.#running--;
    }
  }
}

export const fsGates = new FsGates();
