// Every server a benchmark measures runs in its own Node process (bench/serve.ts), so the load generator
// never shares an event loop with it and its memory can be read alone. This is the parent's side: start a
// role, wait until it listens, ask it for its heap/RSS, stop it.
import { fork, type ChildProcess } from 'node:child_process';
import { COMPILED_SERVE } from './build.js';

export type ServerSpec =
  | { role: 'upstream' }
  | { role: 'idp'; port: number; users: number; clients: Array<{ clientId: string; clientSecret: string; redirectUris: string[] }> }
  | {
    role: 'gateway'; port: number; issuer: string; clientSecret: string; upstream: string; redisUrl: string;
    keyPrefix: string; policiesDir: string; auditDir: string; audit: 'on' | 'off';
    /** `jitsi`: Jitsi Meet with `auth: none` (its XMPP read message by message); otherwise the generic backend. */
    backend?: 'generic' | 'jitsi';
    /** Secrets from the parent, so it can open the same sealed store to enrol authenticators. */
    keys: { encryptionKey: string; assertionKey: string; auditSigningKey: string };
  }
  /** A bare @fastify/http-proxy (HTTP + WebSocket) to the upstream: the baseline of the proxy scenarios. */
  | { role: 'bare-proxy'; upstream: string }
  /** A bare fastify route answering 200: the baseline of forward-auth. */
  | { role: 'bare-route' }
  /** A minimal OIDC relying party (openid-client, PKCE): the baseline of the join storm. */
  | { role: 'bare-rp'; port: number; issuer: string; clientId: string; clientSecret: string };

export interface MemorySample {
  rss: number;
  heapUsed: number;
  external: number;
}

export interface ServerProcess {
  url: string;
  pid: number;
  /** Memory after a full garbage collection. */
  memory(): Promise<MemorySample>;
  close(): Promise<void>;
}

export type ChildMessage = { type: 'ready'; url: string } | { type: 'memory'; sample: MemorySample } | { type: 'failed'; message: string };
export type ParentMessage = { type: 'memory' } | { type: 'close' };


/** Starts one server role in a child process; `profileDir` makes it write a V8 CPU profile there on close. */
export async function startServer(spec: ServerSpec, profileDir?: string): Promise<ServerProcess> {
  // Compiled JavaScript under plain node, as in production (bench/build.ts; run.ts compiles first).
  const execArgv = ['--expose-gc', ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])];
  // A gateway logs every request on stdout as in production; the run discards it (errors go to stderr).
  const stdout = spec.role === 'gateway' ? 'ignore' : 'inherit';
  // The spec (with the bench keys) goes by environment, not argv, which every user of the machine can read.
  const env = { ...process.env, ROOMGUARD_BENCH_SPEC: JSON.stringify(spec) };
  const child: ChildProcess = fork(COMPILED_SERVE, [spec.role], { execArgv, env, stdio: ['ignore', stdout, 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${spec.role} did not start within 30 s`)), 30_000);
    child.once('exit', (code) => reject(new Error(`${spec.role} exited with ${code} before it listened`)));
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'ready') { clearTimeout(timer); resolve(message.url); }
      if (message.type === 'failed') { clearTimeout(timer); reject(new Error(`${spec.role}: ${message.message}`)); }
    });
  });
  child.removeAllListeners('exit');
  return {
    url,
    pid: child.pid!,
    memory: () => new Promise<MemorySample>((resolve) => {
      const onMessage = (message: ChildMessage) => {
        if (message.type !== 'memory') return;
        child.off('message', onMessage);
        resolve(message.sample);
      };
      child.on('message', onMessage);
      child.send({ type: 'memory' } satisfies ParentMessage);
    }),
    close: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => { clearTimeout(killer); resolve(); });
      child.send({ type: 'close' } satisfies ParentMessage);
    }),
  };
}
