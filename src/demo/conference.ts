// The demo conference backend that `roomguard demo` puts behind the gateway, standing in for Jitsi:
// a room page per /rooms/<name> that shows who roomguard let in (from the identity headers) and a
// WebSocket chat per room. It trusts the headers because only the gateway can reach it (loopback).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { WebSocketServer, WebSocket } from 'ws';
import { html } from '../ui/html.js';

const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

function header(req: IncomingMessage, name: string): string {
  const value = req.headers[name];
  const text = Array.isArray(value) ? value[0] ?? '' : value ?? '';
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

const ROOM_JS = `// Demo room chat over the room's WebSocket (proxied and guarded by roomguard).
const log = document.getElementById('log');
const form = document.getElementById('chat');
const input = document.getElementById('message');
const status = document.getElementById('status');
const url = new URL(location.pathname.replace(/\\/$/, '') + '/ws', location.href);
url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
const ws = new WebSocket(url);
function line(text) { const li = document.createElement('li'); li.textContent = text; log.append(li); }
ws.addEventListener('open', () => { status.textContent = status.dataset.connected; });
ws.addEventListener('close', () => { status.textContent = status.dataset.closed; });
ws.addEventListener('message', (event) => {
  const msg = JSON.parse(event.data);
  if (msg.type === 'chat') line(msg.from + ': ' + msg.text);
  if (msg.type === 'welcome') line('— ' + msg.user + ' (' + msg.role + ') @ ' + msg.room);
});
form.addEventListener('submit', (event) => {
  event.preventDefault();
  if (input.value.trim() && ws.readyState === WebSocket.OPEN) ws.send(input.value.trim());
  input.value = '';
});
`;

const ROOM_CSS = `body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dd{margin:0}
#log{border:1px solid #888;min-height:8rem;padding:.5rem 1.5rem;list-style:none}
input,button{font:inherit;padding:.5rem}button:focus-visible,input:focus-visible,a:focus-visible{outline:3px solid #0b57d0}`;

function roomPage(req: IncomingMessage, room: string): string {
  const user = header(req, 'x-roomguard-user');
  const name = header(req, 'x-roomguard-name') || user;
  const role = header(req, 'x-roomguard-role');
  const groups = header(req, 'x-roomguard-groups');
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo room ${room}</title><link rel="stylesheet" href="/static/room.css"></head>
<body><main>
<h1>Demo room <code>${room}</code></h1>
<p>This page stands in for a Jitsi or BigBlueButton room. roomguard let you in and told the backend:</p>
<dl>
<dt>User</dt><dd id="who">${name}</dd>
<dt>E-mail</dt><dd>${header(req, 'x-roomguard-email')}</dd>
<dt>Groups</dt><dd>${groups}</dd>
<dt>Room</dt><dd id="room">${header(req, 'x-roomguard-room')}</dd>
<dt>Role</dt><dd id="role">${role}</dd>
</dl>
<h2>Room chat</h2>
<p id="status" role="status" data-connected="Connected to the room's WebSocket." data-closed="WebSocket closed.">Connecting…</p>
<ul id="log" aria-live="polite"></ul>
<form id="chat"><label for="message">Message</label> <input id="message" autocomplete="off"> <button type="submit">Send</button></form>
<p><a href="/_roomguard/logout">Sign out</a></p>
<script src="/static/room.js"></script>
</main></body></html>
`.toString();
}

export interface DemoConference {
  url: string;
  close(): Promise<void>;
}

const ROOM_PATH = /^\/rooms\/([^/?]+)\/?(?:\?.*)?$/;
const WS_PATH = /^\/rooms\/([^/?]+)\/ws(?:\?.*)?$/;

export async function startDemoConference(options: { host?: string; port?: number } = {}): Promise<DemoConference> {
  const rooms = new Map<string, Set<WebSocket>>();
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    const send = (status: number, type: string, body: string, extra: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-security-policy': PAGE_CSP, 'x-content-type-options': 'nosniff', ...extra });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (url === '/favicon.ico') {
      res.writeHead(204, { 'cache-control': 'public, max-age=86400' });
      return res.end();
    }
    if (url === '/static/room.js') return send(200, 'text/javascript; charset=utf-8', ROOM_JS);
    if (url === '/static/room.css') return send(200, 'text/css; charset=utf-8', ROOM_CSS);
    const room = ROOM_PATH.exec(url)?.[1];
    if (room) return send(200, 'text/html; charset=utf-8', roomPage(req, decodeURIComponent(room)));
    if (url === '/' || url.startsWith('/?')) {
      return send(200, 'text/html; charset=utf-8', `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>roomguard demo</title><link rel="stylesheet" href="/static/room.css"></head><body><main><h1>roomguard demo conference</h1><p>Rooms judged by the example policies:</p><ul><li><a href="/rooms/town-hall">town-hall</a> (anyone who signed in)</li><li><a href="/rooms/staff-weekly">staff-weekly</a> (group staff)</li><li><a href="/rooms/board">board</a> (group board, high risk)</li></ul><p><a href="/_roomguard/logout">Sign out</a></p></main></body></html>`);
    }
    return send(404, 'text/plain; charset=utf-8', 'not found\n');
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    const room = WS_PATH.exec(req.url ?? '')?.[1];
    if (!room) {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const members = rooms.get(room) ?? new Set<WebSocket>();
      rooms.set(room, members);
      members.add(ws);
      const from = header(req, 'x-roomguard-name') || header(req, 'x-roomguard-user') || 'anonymous';
      ws.send(JSON.stringify({ type: 'welcome', room: header(req, 'x-roomguard-room'), user: from, role: header(req, 'x-roomguard-role') }));
      ws.on('message', (data) => {
        const text = data.toString('utf8').slice(0, 2000);
        for (const peer of members) if (peer.readyState === WebSocket.OPEN) peer.send(JSON.stringify({ type: 'chat', from, text }));
      });
      ws.on('close', () => members.delete(ws));
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
