// Real Prosody (Debian's package), configured like a stock Jitsi Meet's: a virtual host with anonymous
// authentication, a MUC component `conference.<domain>` whose rooms anyone may create, WebSocket and
// BOSH on one loopback HTTP port. Its configuration, data and log live in a temporary directory; it is
// never the system service. A start waits for this Prosody's own log line that it serves HTTP, and
// fails with an address-in-use error when another process holds the port (so onFreePort tries another).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AddressInUse, onFreePort } from './ports.js';
import { atMost, until } from './until.js';

export const PROSODY = ['/usr/bin/prosody'].find((p) => existsSync(p));

export interface ProsodyServer {
  domain: string;
  mucDomain: string;
  /** http://127.0.0.1:<port>: /xmpp-websocket and /http-bind live here. */
  origin: string;
  stop(): Promise<void>;
}

function configOf(dir: string, port: number, domain: string): string {
  return `-- A stock Jitsi Meet's Prosody, reduced to what a client joining rooms needs (no JWT, no Jitsi plugins).
run_as_root = true
pidfile = "${dir}/prosody.pid"
data_path = "${dir}/data"
log = { debug = "${dir}/prosody.log" }
modules_enabled = { "disco", "ping", "saslauth", "websocket", "bosh" }
modules_disabled = { "s2s", "offline" }
-- Clients come only over HTTP (WebSocket, BOSH): no c2s port.
c2s_ports = {}
s2s_ports = {}
http_ports = { ${port} }
http_interfaces = { "127.0.0.1" }
https_ports = {}
https_interfaces = {}
c2s_require_encryption = false
consider_websocket_secure = true
consider_bosh_secure = true

VirtualHost "${domain}"
  authentication = "anonymous"

Component "conference.${domain}" "muc"
  restrict_room_creation = false
  muc_room_locking = false
  muc_room_default_public_jids = true

-- Jitsi's lobby and breakout services, as plain MUCs (no Jitsi plugins): rooms a client could join.
Component "lobby.${domain}" "muc"
  restrict_room_creation = false
  muc_room_locking = false
  muc_room_default_public_jids = true

Component "breakout.${domain}" "muc"
  restrict_room_creation = false
  muc_room_locking = false
  muc_room_default_public_jids = true
`;
}

/** Starts a Prosody for `domain` on a free loopback port. */
export async function startProsody(domain = 'meet.test'): Promise<ProsodyServer> {
  if (!PROSODY) throw new Error('prosody is not installed: the Jitsi stanza tests need Debian\'s package `prosody` (apt-get install prosody); .ci/run installs it');
  return onFreePort(async (port) => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-prosody-'));
    mkdirSync(join(dir, 'data'));
    const configFile = join(dir, 'prosody.cfg.lua');
    writeFileSync(configFile, configOf(dir, port, domain));
    const child: ChildProcess = spawn(PROSODY, ['-F', '--config', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const log = () => (existsSync(join(dir, 'prosody.log')) ? readFileSync(join(dir, 'prosody.log'), 'utf8') : '');
    const stop = async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await atMost(closed, 5000);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    };
    try {
      await until('prosody to serve HTTP', async () => {
        const text = log();
        if (/Failed to open server port|address already in use/i.test(text)) throw new AddressInUse('prosody', text.slice(-2000));
        if (child.exitCode !== null) {
          await closed;
          throw new Error(`prosody did not start: ${stderr}\n${text.slice(-2000)}`);
        }
        return text.includes(`Activated service 'http' on [127.0.0.1]:${port}`);
      }, { timeout: 15_000 });
    } catch (err) {
      await stop();
      throw err;
    }
    return { domain, mucDomain: `conference.${domain}`, origin: `http://127.0.0.1:${port}`, stop };
  });
}
