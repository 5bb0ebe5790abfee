// A private redis-server on a free loopback port for one benchmark run (never anyone's 6379 data),
// without persistence: sessions live only as long as the run.
import { spawn, spawnSync } from 'node:child_process';
import { freePort } from '../test/helpers/gateway.js';

export interface PrivateRedis {
  url: string;
  pid: number;
  close(): Promise<void>;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  if (spawnSync('redis-server', ['--version']).error) throw new Error('redis-server is not installed: the benchmarks need it (Debian package "redis-server")');
  const port = await freePort();
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  while (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.trim() !== 'PONG') {
    if (Date.now() > deadline || server.exitCode !== null) throw new Error(`redis-server did not answer on 127.0.0.1:${port} within 10 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: server.pid!,
    close: () => new Promise<void>((resolve) => {
      if (server.exitCode !== null) return resolve();
      server.once('exit', () => resolve());
      server.kill('SIGTERM');
    }),
  };
}
