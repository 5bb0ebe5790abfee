// Debian's nginx on loopback for the forward-auth scenario, with the shipped snippets of deploy/nginx:
// one server proxies straight to the upstream; one asks roomguard first as roomguard-auth.conf does in a
// location that proxies (the verdict cache off); one with the verdict cache turned on, as a location may
// that passes the backend none of the client's headers (docs/forward-auth.md, "The verdict cache").
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AddressInUse, onFreePorts } from '../test/helpers/ports.js';
import { until } from '../test/helpers/until.js';

export const NGINX = '/usr/sbin/nginx';
const SNIPPETS = fileURLToPath(new URL('../deploy/nginx/', import.meta.url));

export interface BenchNginx {
  /** nginx → upstream. */
  plainUrl: string;
  /** nginx → auth_request to roomguard (shipped snippets, no verdict cache) → upstream. */
  guardedUrl: string;
  /** The same with the verdict cache turned on (and the client's headers not passed to the upstream). */
  cachedUrl: string;
  close(): Promise<void>;
}

export function nginxInstalled(): boolean {
  return !spawnSync(NGINX, ['-v']).error;
}

/** nginx's ports are in its config: it starts on ports free now, and again on others if one was taken meanwhile. */
export function startNginx(upstream: string, gateway: string): Promise<BenchNginx> {
  return onFreePorts(3, ([plain, guarded, cached]) => startNginxOn(upstream, gateway, plain!, guarded!, cached!));
}

/** roomguard-http.conf as shipped, its cache directory moved into the run's own. */
function httpSnippet(dir: string): string {
  const text = readFileSync(join(SNIPPETS, 'roomguard-http.conf'), 'utf8');
  return text.replace('/var/lib/nginx/roomguard-verdicts', join(dir, 'verdicts'));
}

async function startNginxOn(upstream: string, gateway: string, plain: number, guarded: number, cached: number): Promise<BenchNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'rg-bench-nginx-'));
  // The worker (nobody, when started as root) creates the cache directory in here.
  chmodSync(dir, 0o755);
  const up = new URL(upstream).host;
  const rg = new URL(gateway).host;
  const proxied = 'proxy_http_version 1.1; proxy_set_header Connection "";';
  const guardedLocation = (cache: boolean) => `location / {
      ${cache ? 'set $roomguard_verdict_cache on;\n      proxy_pass_request_headers off;\n      proxy_set_header Accept $http_accept;\n      proxy_set_header Accept-Encoding $http_accept_encoding;\n      proxy_set_header User-Agent $http_user_agent;' : ''}
      include ${SNIPPETS}roomguard-auth.conf;
      proxy_pass http://conference; ${proxied}
      proxy_set_header Host $host;
    }`;
  const server = (port: number, cache: boolean) => `server {
    listen 127.0.0.1:${port};
    include ${SNIPPETS}roomguard-server.conf;
    ${guardedLocation(cache)}
  }`;
  // One worker, like the single-process gateway; keep-alive to both backends, no access log.
  writeFileSync(join(dir, 'nginx.conf'), `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log stderr error;
events { worker_connections 4096; }
http {
  access_log off;
  # nginx closes a keep-alive connection after 1,000 requests by default; a load generator counts the
  # request caught by that close as an error, so allow far more than a run sends.
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  ${httpSnippet(dir)}
  upstream conference { server ${up}; keepalive 64; keepalive_requests 10000000; }
  upstream roomguard { server ${rg}; keepalive 64; keepalive_requests 10000000; }
  server {
    listen 127.0.0.1:${plain};
    location / { proxy_pass http://conference; ${proxied} }
  }
  ${server(guarded, false)}
  ${server(cached, true)}
}
`);
  const nginx = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  nginx.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    process.stderr.write(chunk);
  });
  const closed = new Promise((resolve) => nginx.once('close', resolve));
  // nginx writes its pid file once it has bound its ports: then they are its own, not another process's.
  await until('nginx to listen', async () => {
    if (nginx.exitCode !== null) {
      await closed;
      rmSync(dir, { recursive: true, force: true });
      if (/address already in use/i.test(stderr)) throw new AddressInUse('nginx', stderr);
      throw new Error(`nginx did not start (exit ${nginx.exitCode}): ${stderr}`);
    }
    return readPid(join(dir, 'nginx.pid')) === nginx.pid;
  }, { timeout: 10_000 }).catch((err: unknown) => {
    nginx.kill('SIGKILL');
    throw err;
  });
  return {
    plainUrl: `http://127.0.0.1:${plain}`,
    guardedUrl: `http://127.0.0.1:${guarded}`,
    cachedUrl: `http://127.0.0.1:${cached}`,
    close: () => new Promise<void>((resolve) => {
      const done = () => { rmSync(dir, { recursive: true, force: true }); resolve(); };
      if (nginx.exitCode !== null) return done();
      nginx.once('exit', done);
      nginx.kill('SIGQUIT');
    }),
  };
}

function readPid(file: string): number | undefined {
  try {
    return Number(readFileSync(file, 'utf8').trim());
  } catch {
    return undefined;
  }
}
