// Real Caddy (Debian's package) running a Caddyfile with its admin API off (so parallel runs cannot
// collide), its state in a temporary directory. A start waits until this Caddy says it serves its
// configuration, and fails with an address-in-use error when another process holds its port, so a rig
// started with startRigBehind tries another (test/helpers/ports.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AddressInUse } from './ports.js';
import { atMost, until } from './until.js';

export const CADDY = ['/usr/bin/caddy', '/usr/local/bin/caddy'].find((p) => existsSync(p));

export interface Caddy {
  stop(): Promise<void>;
}

/** Runs `caddyfile` (imported as it is) with `env`; resolves once Caddy serves it. */
export async function startCaddy(caddyfile: string, env: Record<string, string>): Promise<Caddy> {
  if (!CADDY) throw new Error('caddy is not installed: the forward-auth tests need Debian\'s package `caddy` (apt-get install caddy); .ci/run installs it');
  const dir = mkdtempSync(join(tmpdir(), 'rg-caddy-'));
  const wrapper = join(dir, 'Caddyfile');
  writeFileSync(wrapper, `{\n\tadmin off\n}\nimport ${caddyfile}\n`);
  const child: ChildProcess = spawn(CADDY, ['run', '--config', wrapper, '--adapter', 'caddyfile'], {
    env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  // Its own log line, after it bound its ports: not whatever answers on the port.
  await until('caddy to serve its configuration', async () => {
    if (child.exitCode !== null) {
      await closed;
      throw /address already in use/i.test(stderr) ? new AddressInUse('caddy', stderr) : new Error(`caddy did not start: ${stderr}`);
    }
    return stderr.includes('"serving initial configuration"');
  }, { timeout: 15_000 }).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  return {
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await atMost(closed, 3000);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    },
  };
}
