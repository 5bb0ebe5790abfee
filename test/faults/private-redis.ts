// A redis-server of the test's own, on a free loopback port, that the test may kill and start again
// (never the shared one from test/setup: other suites use it). No persistence: a restart loses all data.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { freePort } from '../helpers/gateway.js';

export class PrivateRedis {
  #process: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.up();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    this.#process = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    for (let i = 0; i < 400; i++) {
      if (spawnSync('redis-cli', ['-p', String(this.port), 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG') return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`redis-server did not start on port ${this.port}`);
  }

  /** SIGKILL, as a crash or an OOM kill would. */
  async down(): Promise<void> {
    const process = this.#process;
    if (!process || process.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      process.once('exit', () => resolve());
      process.kill('SIGKILL');
    });
  }
}
