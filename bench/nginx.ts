// Debian's nginx on loopback for the forward-auth scenario: one server proxies straight to the upstream,
// the other asks roomguard's /_roomguard/verify first (auth_request), as a forward-auth deployment does.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AddressInUse, onFreePorts } from '../test/helpers/ports.js';
import { until } from '../test/helpers/until.js';

export const NGINX = '/usr/sbin/nginx';

export interface BenchNginx {
  /** nginx → upstream. */
  plainUrl: string;
  /** nginx → auth_request to roomguard → upstream. */
  guardedUrl: string;
  close(): Promise<void>;
}

export function nginxInstalled(): boolean {
  return !spawnSync(NGINX, ['-v']).error;
}

/** nginx's ports are in its config: it starts on ports free now, and again on others if one was taken meanwhile. */
export function startNginx(upstream: string, gateway: string): Promise<BenchNginx> {
  return onFreePorts(2, ([plain, guarded]) => startNginxOn(upstream, gateway, plain!, guarded!));
}

async function startNginxOn(upstream: string, gateway: string, plain: number, guarded: number): Promise<BenchNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'rg-bench-nginx-'));
  const up = new URL(upstream).host;
  const rg = new URL(gateway).host;
  const proxied = 'proxy_http_version 1.1; proxy_set_header Connection "";';
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
  upstream conference { server ${up}; keepalive 64; keepalive_requests 10000000; }
  upstream roomguard { server ${rg}; keepalive 64; keepalive_requests 10000000; }
  server {
    listen 127.0.0.1:${plain};
    location / { proxy_pass http://conference; ${proxied} }
  }
  server {
    listen 127.0.0.1:${guarded};
    location / { auth_request /_roomguard_verify; proxy_pass http://conference; ${proxied} }
    location = /_roomguard_verify {
      internal;
      proxy_pass http://roomguard/_roomguard/verify;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Original-Method $request_method;
      ${proxied}
    }
  }
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
