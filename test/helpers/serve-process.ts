// `roomguard serve -c <file>` in its own process, exactly as an admin runs it: the one way tests run a
// gateway in a process of its own — several instances, signals (SIGHUP reload, SIGTERM drain), the CLI
// acting on a running gateway, SIGKILL in the middle of a load. With `listen: 127.0.0.1:0` the process
// binds a port of the kernel's choice and says which in its "started" log line.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { AddressInUse, isAddressInUse, portOfAddress } from './ports.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ServeProcess {
  /** Where this process listens: http://127.0.0.1:<port>. */
  origin: string;
  port: number;
  configFile: string;
  child: ChildProcess;
  /** Every JSON log line the process wrote so far. */
  logs: Array<Record<string, unknown>>;
  /** Resolves with the first log line matching, or rejects after timeoutMs. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
  /** What the process wrote to stderr so far. */
  stderr(): string;
  stop(): Promise<void>;
}

/**
 * Writes `yaml` to a fresh directory (or reuses `configFile`: a restart of the same deployment) and starts
 * `roomguard serve` on it; resolves once the process itself logs that it listens.
 */
export async function startServeProcess(yaml: string, options: { configFile?: string } = {}): Promise<ServeProcess> {
  const configFile = options.configFile ?? join(mkdtempSync(join(tmpdir(), 'rg-serve-')), 'roomguard.yaml');
  writeFileSync(configFile, yaml);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/cli.ts', 'serve', '-c', configFile], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Array<Record<string, unknown>> = [];
  const waiters = new Set<{ match: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }>();
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    logs.push(line);
    for (const waiter of waiters) {
      if (waiter.match(line)) {
        waiters.delete(waiter);
        waiter.resolve(line);
      }
    }
  });
  function waitForLine(match: (line: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown>> {
    const found = logs.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve };
      waiters.add(waiter);
      setTimeout(() => {
        if (waiters.delete(waiter)) reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${stderr}`));
      }, timeoutMs).unref();
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // 'close' comes after the last of stderr has been read.
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  // Its own "started" line (log.level info or finer), not an answer on the port: that could come from
  // another process holding the port.
  const started = await Promise.race([
    waitForLine((line) => line.event === 'started', 30_000),
    closed.then((code) => {
      const failure = `roomguard serve exited (${code}): ${stderr}`;
      throw isAddressInUse(stderr) ? new AddressInUse('roomguard serve', failure) : new Error(failure);
    }),
  ]).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  const port = portOfAddress(String(started.address));
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    port,
    configFile,
    child,
    logs,
    exited,
    stderr: () => stderr,
    waitForLog: (match, timeoutMs = 10_000) => waitForLine(match, timeoutMs),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
