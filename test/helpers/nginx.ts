// Real nginx (Debian's package) in a private prefix on a loopback port, for the forward-auth snippets
// in deploy/nginx. No root, no system config: everything lives in a temporary directory. A start waits
// until this nginx has bound its port (its pid file), and fails with an address-in-use error when another
// process holds the port, so a rig started with startRigBehind tries another (test/helpers/ports.ts).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AddressInUse } from './ports.js';
import { atMost, until } from './until.js';

export const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));

export interface Nginx {
  dir: string;
  errorLog(): string;
  stop(): Promise<void>;
}

/** Starts nginx with `httpBlock` (which listens on `port`) as the body of `http { }`; resolves once it listens. */
export async function startNginx(httpBlock: string, port: number): Promise<Nginx> {
  if (!NGINX) throw new Error('nginx is not installed: the forward-auth tests need Debian\'s package `nginx-light` (apt-get install nginx-light); .ci/run installs it');
  const dir = mkdtempSync(join(tmpdir(), 'rg-nginx-'));
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${httpBlock}
}
`);
  const check = spawnSync(NGINX, ['-t', '-p', dir, '-c', conf], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`nginx -t refused the configuration:\n${check.stderr}`);
  const child: ChildProcess = spawn(NGINX, ['-p', dir, '-c', conf], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // nginx writes its pid file once it has bound its ports: from then on `port` answers with this nginx.
  await until(`nginx on port ${port}`, () => {
    if (child.exitCode !== null) {
      const log = safeRead(join(dir, 'error.log'));
      throw /address already in use/i.test(log) ? new AddressInUse(`nginx on port ${port}`, log) : new Error(`nginx did not start: ${log}`);
    }
    return safeRead(join(dir, 'nginx.pid')).trim() === String(child.pid);
  }, { timeout: 10_000 }).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  return {
    dir,
    errorLog: () => safeRead(join(dir, 'error.log')),
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGQUIT');
        await atMost(exited, 3000);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    },
  };
}

/**
 * deploy/nginx/roomguard-http.conf as shipped, its cache directory moved into a private temporary one
 * (the only change), for the `http { }` block of a test's nginx.
 */
export function roomguardHttpConf(): string {
  const text = readFileSync(new URL('../../deploy/nginx/roomguard-http.conf', import.meta.url), 'utf8');
  const shipped = '/var/lib/nginx/roomguard-verdicts';
  if (!text.includes(shipped)) throw new Error(`deploy/nginx/roomguard-http.conf no longer names ${shipped}: update test/helpers/nginx.ts`);
  const dir = mkdtempSync(join(tmpdir(), 'rg-nginx-verdicts-'));
  // nginx creates the cache directory for its worker user, which must be able to reach it (run as root, the worker is nobody).
  chmodSync(dir, 0o755);
  return text.replace(shipped, join(dir, 'cache'));
}

/**
 * The `http { }` body of a meeting host behind nginx with the shipped snippets: roomguard-http.conf, the
 * `roomguard` and `app` upstreams, `$connection_upgrade`, and one server with roomguard-server.conf and
 * the test's own `locations` (which include roomguard-auth.conf where they guard).
 */
export function forwardAuthHttpBlock(nginxPort: number, gatewayPort: number, upstreamUrl: string, locations: string): string {
  const snippets = new URL('../../deploy/nginx/', import.meta.url).pathname;
  return `
  ${roomguardHttpConf()}
  upstream roomguard { server 127.0.0.1:${gatewayPort}; keepalive 4; }
  upstream app { server ${new URL(upstreamUrl).host}; }
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  server {
    listen 127.0.0.1:${nginxPort};
    server_name 127.0.0.1;
    include ${snippets}roomguard-server.conf;
    ${locations}
  }`;
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
