// A secret value from the config. Written as `env:NAME`, `file:/path` or (discouraged) literally;
// it prints as [redacted] in logs, JSON and util.inspect, so only `reveal()` can leak it.
import { readFileSync, statSync } from 'node:fs';

/** Keys and passwords are small; anything bigger is the wrong file. */
const MAX_SECRET_FILE_BYTES = 64 * 1024;
import { inspect } from 'node:util';

export class Secret {
  readonly #value: string;
  /** Where the secret came from (`env:NAME`, `file:/path`, `literal`), safe to print. */
  readonly origin: string;
  constructor(value: string, origin: string) {
    this.#value = value;
    this.origin = origin;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '[redacted]';
  }
  toJSON(): string {
    return '[redacted]';
  }
  [inspect.custom](): string {
    return `Secret(${this.origin})`;
  }
}

/** Resolves a secret reference; returns an error message when the reference cannot be read. */
export function resolveSecret(ref: string, env: NodeJS.ProcessEnv): Secret | { error: string } {
  if (ref.startsWith('env:')) {
    const name = ref.slice(4);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return { error: `"${ref}" is not a valid environment variable reference` };
    const value = env[name];
    if (value === undefined || value === '') return { error: `environment variable ${name} is not set` };
    return new Secret(value, ref);
  }
  if (ref.startsWith('file:')) {
    const path = ref.slice(5);
    try {
      // Only regular files (a FIFO would block start-up for ever; a device could be endless).
      const stat = statSync(path);
      if (!stat.isFile()) return { error: `secret file ${path} is not a regular file` };
      if (stat.size > MAX_SECRET_FILE_BYTES) return { error: `secret file ${path} is larger than ${MAX_SECRET_FILE_BYTES} bytes` };
      const value = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
      if (value === '') return { error: `secret file ${path} is empty` };
      return new Secret(value, ref);
    } catch (err) {
      return { error: `cannot read secret file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
    }
  }
  return new Secret(ref, 'literal');
}
