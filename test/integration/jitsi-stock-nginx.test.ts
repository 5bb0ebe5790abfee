// roomguard (proxy mode, backend jitsi, auth: none) in front of Jitsi's own web server as a stock install
// has it — nginx with the Debian jitsi-meet site's routing: the exact signalling locations, the tenant
// ("subdomain") locations that send `/<anything>/xmpp-websocket…` and `/<anything>/http-bind…` to Prosody
// (unanchored), and the catch-all that strips the first segment and routes again — with real Prosody
// behind it. Found by an attack: paths roomguard read as static files or Jitsi's own paths reached Prosody
// through those locations unread, so a client with no login at all joined any room. Each such path must now
// be refused (and audited), and Prosody's own roster must never show the client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { queryAudit } from '../../src/audit/query.js';
import { enterRoom } from '../helpers/browser.js';
import { startNginx, type Nginx } from '../helpers/nginx.js';
import { onFreePort } from '../helpers/ports.js';
import { startProsody, type ProsodyServer } from '../helpers/prosody-server.js';
import { startRig, type Rig } from '../helpers/rig.js';
import { connectBosh, connectWebSocket, joined, joinStanza, type XmppConnection } from '../helpers/xmpp-client.js';

const DOMAIN = 'meet.test';
const OTHER = `board@conference.${DOMAIN}`;

let prosody: ProsodyServer;
let nginx: Nginx;
let rig: Rig;
let observer: XmppConnection;
let nginxPort = 0;

/** The routing of the Debian jitsi-meet nginx site that decides what reaches Prosody, in front of `prosody`. */
function stockJitsiSite(port: number, site: string, prosodyHost: string): string {
  const toProsody = (path: string) => `proxy_pass http://${prosodyHost}${path}?prefix=$prefix&$args; proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"; proxy_set_header Host $http_host;`;
  return `
  server {
    listen 127.0.0.1:${port};
    set $prefix "";
    root ${site};
    index index.html;
    location ~ ^/(libs|css|static|images|fonts|lang|sounds|.well-known)/(.*)$ { alias ${site}/$1/$2; }
    location = /http-bind { ${toProsody('/http-bind')} }
    location = /xmpp-websocket { ${toProsody('/xmpp-websocket')} }
    location ~ ^/colibri-ws/default-id/(.*) { return 404; }
    location ~ ^/([^/?&:'"]+)$ { try_files $uri @root_path; }
    location @root_path { rewrite ^/(.*)$ / break; }
    location ~ ^/([^/?&:'"]+)/config.js$ { return 404; }
    location ~ ^/([^/?&:'"]+)/http-bind { set $prefix "$1"; rewrite ^/(.*)$ /http-bind; }
    location ~ ^/([^/?&:'"]+)/xmpp-websocket { set $prefix "$1"; rewrite ^/(.*)$ /xmpp-websocket; }
    location ~ ^/([^/?&:'"]+)/(.*)$ { rewrite ^/([^/?&:'"]+)/(.*)$ /$2; }
  }`;
}

async function admit(): Promise<string> {
  const { browser } = await enterRoom(rig.origin, '/town-hall', 'town-hall', 'alice');
  return browser.jar.header(new URL(rig.origin))!;
}

beforeAll(async () => {
  prosody = await startProsody(DOMAIN);
  const site = mkdtempSync(join(tmpdir(), 'rg-jitsi-web-'));
  chmodSync(site, 0o755);
  writeFileSync(join(site, 'index.html'), '<!doctype html><title>Jitsi Meet</title>');
  const prosodyHost = new URL(prosody.origin).host;
  nginx = await onFreePort(async (port) => {
    nginxPort = port;
    return startNginx(stockJitsiSite(port, site, prosodyHost), port);
  });
  rig = await startRig({ config: { backend: { type: 'jitsi', upstream: `http://127.0.0.1:${nginxPort}`, jitsi: { auth: 'none', domain: DOMAIN } } } });
  // Someone already in the other room, straight at Prosody: sees whoever joins it.
  observer = await connectWebSocket(`${prosody.origin.replace('http', 'ws')}/xmpp-websocket`, DOMAIN);
  await observer.send(joinStanza(OTHER, 'observer'));
  await observer.waitFor('the observer in board', (f) => f.includes(`${OTHER}/observer`) && /code=["']110["']/.test(f));
}, 60_000);

afterAll(async () => {
  await observer?.close();
  await rig?.close();
  await nginx?.stop();
  await prosody?.stop();
});

const ws = (path: string) => `ws://127.0.0.1:${rig.port}${path}`;

describe('signalling only where roomguard reads it, in front of a stock Jitsi web server', () => {
  it('control: the stock site does send these paths to Prosody (straight at nginx, a client joins board)', async () => {
    const direct = await connectWebSocket(`ws://127.0.0.1:${nginxPort}/favicon.ico/xmpp-websocket`, DOMAIN);
    await direct.send(joinStanza(OTHER, 'direct'));
    await direct.waitFor('the direct join', () => joined(direct.received, OTHER, 'direct'));
    await direct.close();
  });

  it.each([
    '/favicon.ico/xmpp-websocket', '/favicon.ico/xmpp-websocket-x', '/manifest.json/pwa-worker.js/xmpp-websocket', '/libs/x/xmpp-websocket',
    '/colibri-ws/xmpp-websocket', '/config.js/xmpp-websocket', '/a/b/c/xmpp-websocket', '/board/xmpp-websocket',
  ])('refuses a WebSocket on %s, without a login and with one', async (path) => {
    await expect(connectWebSocket(ws(path), DOMAIN)).rejects.toThrow();
    const cookie = await admit();
    await expect(connectWebSocket(ws(path), DOMAIN, { cookie })).rejects.toThrow();
  });

  it.each(['/robots.txt/http-bind', '/favicon.ico/http-bind-x', '/libs/http-bind', '/colibri-ws/http-bind', '/board/http-bind'])('refuses BOSH on %s, without a login and with one', async (path) => {
    await expect(connectBosh(`${rig.origin}${path}`, DOMAIN)).rejects.toThrow();
    const cookie = await admit();
    await expect(connectBosh(`${rig.origin}${path}`, DOMAIN, { cookie })).rejects.toThrow();
  });

  it('audits each refusal, and Prosody never had the client in board (only the direct control join)', async () => {
    const refusals = (await queryAudit(rig.auditDir, { type: 'room.decision', outcome: 'deny' })).filter((r) => r.reason === 'RG_BACKEND_API_REFUSED');
    expect(refusals.some((r) => r.details?.path === '/favicon.ico/xmpp-websocket')).toBe(true);
    expect(refusals.some((r) => r.details?.path === '/robots.txt/http-bind')).toBe(true);
    const seen = observer.received.filter((f) => f.includes(`${OTHER}/`)).map((f) => /from=["'][^/"']+\/([^"']+)["']/.exec(f)?.[1]);
    expect([...new Set(seen)].filter((nick) => nick !== 'observer')).toEqual(['direct']);
  });
});
