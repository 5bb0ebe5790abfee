// Protocol abuse over raw TCP against the real gateway: request smuggling with conflicting framing,
// oversized headers and bodies, WebSocket/h2c upgrade smuggling past the decision, malformed cookies and
// request targets. Each is refused with a clean 4xx, nothing reaches the upstream, and the process keeps
// serving. The upgrade tests use a deliberately lax upstream that answers an upgrade with 200 and keeps
// reading, as some backends do: only the gateway stands between a smuggled request and it.
import { createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Arrived, EchoUpstream } from '../helpers/upstream.js';
import { loginAs, rawExchange } from './harness.js';
import { startRig, type Rig } from '../helpers/rig.js';

let rig: Rig;
let cookie: string;

beforeAll(async () => {
  rig = await startRig({ store: inject('redisUrl') });
  cookie = (await loginAs(rig.origin, 'carol')).browser.jar.header(new URL(rig.origin))!;
});

afterAll(async () => {
  await rig?.close();
});

const host = () => `Host: 127.0.0.1:${rig.port}\r\n`;

/** The gateway still answers a plain request afterwards. */
async function stillServing(r: Rig = rig): Promise<void> {
  const res = await fetch(`${r.origin}/healthz`);
  expect(res.status).toBe(200);
}

describe('request framing', () => {
  it.each([
    ['Content-Length and Transfer-Encoding together', 'POST /public/a HTTP/1.1\r\n{host}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /rooms/board HTTP/1.1\r\n{host}\r\n'],
    ['two different Content-Lengths', 'POST /public/a HTTP/1.1\r\n{host}Content-Length: 0\r\nContent-Length: 44\r\n\r\nGET /rooms/board HTTP/1.1\r\n{host}\r\n'],
    ['an obfuscated Transfer-Encoding', 'POST /public/a HTTP/1.1\r\n{host}Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n0\r\n\r\nGET /rooms/board HTTP/1.1\r\n{host}\r\n'],
    ['a chunk size that is not hex', 'POST /public/a HTTP/1.1\r\n{host}Transfer-Encoding: chunked\r\n\r\nzz\r\nGET /rooms/board HTTP/1.1\r\n{host}\r\n'],
    ['a space before the colon', 'POST /public/a HTTP/1.1\r\n{host}Transfer-Encoding : chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n'],
    ['a bare LF line ending in a header', 'GET /public/a HTTP/1.1\r\n{host}X-A: 1\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['a NUL byte in a header value', 'GET /public/a HTTP/1.1\r\n{host}X-A: a\u0000b\r\n\r\n'],
    ['an absolute-form target naming another host', 'GET http://evil.example/rooms/board HTTP/1.1\r\n{host}\r\n'],
    ['an HTTP/0.9 request line', 'GET /rooms/board\r\n\r\n'],
  ])('refuses %s without reaching the upstream', async (_what, template) => {
    const before = rig.upstream.arrived.length;
    const res = await rawExchange(rig.port, template.replaceAll('{host}', host()));
    // The first answer is a refusal (or, for the absolute form, a login redirect for the unauthenticated request); never a 2xx.
    expect(res.statuses.length === 0 || res.statuses.every((s) => s >= 300 && s < 500)).toBe(true);
    expect(res.text).not.toMatch(/HTTP\/1\.1 5\d\d/);
    expect(rig.upstream.arrived.slice(before).filter((a) => a.url.includes('board'))).toEqual([]);
    expect(rig.upstream.arrived.slice(before).filter((a) => a.method === 'POST')).toEqual([]);
    await stillServing();
  });
});

describe('requests the parser or the router cannot read', () => {
  it.each([
    ['a raw non-ASCII byte in the path', Buffer.from(`GET /rooms/b\u00e4rd HTTP/1.1\r\n{host}\r\n`, 'utf8'), 400, 'RG_REQUEST_INVALID'],
    ['a raw space in the request target', Buffer.from('GET /rooms/a b HTTP/1.1\r\n{host}\r\n'), 400, 'RG_REQUEST_INVALID'],
    ['an escape the router cannot decode', Buffer.from('GET /rooms/%c3 HTTP/1.1\r\n{host}\r\n'), 400, 'RG_REQUEST_BAD_PATH'],
    ['a malformed escape', Buffer.from('GET /rooms/%zz/x HTTP/1.1\r\n{host}\r\n'), 400, 'RG_REQUEST_BAD_PATH'],
  ])('answers %s with roomguard\'s page and a request id, not a framework\'s JSON', async (_what, bytes, status, code) => {
    const before = rig.upstream.arrived.length;
    const res = await rawExchange(rig.port, Buffer.from(bytes.toString('latin1').replaceAll('{host}', host()), 'latin1'));
    expect(res.statuses[0]).toBe(status);
    expect(res.text).toContain(code);
    expect(res.text).toMatch(/x-request-id: [0-9a-f]{16}/i);
    expect(res.text).toContain('content-security-policy');
    expect(res.text).not.toContain('"statusCode"');
    expect(rig.upstream.arrived.length).toBe(before);
    await stillServing();
  });
});

describe('requests no route takes', () => {
  it.each([
    ['an HTTP/1.1 request without Host', 'GET /rooms/board HTTP/1.1\r\nConnection: close\r\n\r\n', 400, 'RG_REQUEST_INVALID'],
    ['an expectation other than 100-continue', 'GET /rooms/board HTTP/1.1\r\n{host}Expect: foo\r\nConnection: close\r\n\r\n', 417, 'RG_REQUEST_INVALID'],
    ['PROPFIND', 'PROPFIND /rooms/board HTTP/1.1\r\n{host}Connection: close\r\n\r\n', 405, 'RG_METHOD_NOT_ALLOWED'],
    ['TRACE', 'TRACE /rooms/board HTTP/1.1\r\n{host}Connection: close\r\n\r\n', 405, 'RG_METHOD_NOT_ALLOWED'],
    ['MKCOL on roomguard\'s own path', 'MKCOL /_roomguard/x HTTP/1.1\r\n{host}Connection: close\r\n\r\n', 405, 'RG_METHOD_NOT_ALLOWED'],
    ['a CONNECT tunnel', 'CONNECT 127.0.0.1:80 HTTP/1.1\r\n{host}\r\n', 405, 'RG_METHOD_NOT_ALLOWED'],
  ])('answers %s with roomguard\'s page and a request id, and nothing reaches the upstream', async (_what, template, status, code) => {
    const before = rig.upstream.arrived.length;
    const res = await rawExchange(rig.port, template.replaceAll('{host}', host()));
    expect(res.statuses[0]).toBe(status);
    expect(res.text).toContain(code);
    expect(res.text).toMatch(/x-request-id: [0-9a-f]{16}/i);
    expect(res.text).not.toContain('"message"');
    expect(rig.upstream.arrived.length).toBe(before);
    await stillServing();
  });
});

describe('sizes', () => {
  it('answers oversized request headers with 431 and keeps serving', async () => {
    const res = await rawExchange(rig.port, `GET /public/a HTTP/1.1\r\n${host()}X-Big: ${'a'.repeat(70_000)}\r\n\r\n`);
    expect(res.statuses[0]).toBe(431);
    await stillServing();
  });

  it('answers an oversized form body on roomguard\'s own pages with an error page naming the error and a request id', async () => {
    const res = await fetch(`${rig.origin}/_roomguard/logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie }, body: `csrf=${'a'.repeat(64 * 1024)}` });
    expect([400, 413]).toContain(res.status);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f]{16}$/);
    expect(await res.text()).toContain('RG_REQUEST_INVALID');
    await stillServing();
  });

  it('answers a very long cookie header and a huge number of cookies without a 5xx', async () => {
    const many = Array.from({ length: 2000 }, (_, i) => `c${i}=v`).join('; ');
    for (const value of [`roomguard_session=${'A'.repeat(8000)}`, many]) {
      const res = await fetch(`${rig.origin}/rooms/town-hall`, { headers: { cookie: value }, redirect: 'manual' });
      expect(res.status).toBeLessThan(500);
    }
    await stillServing();
  });
});

describe('malformed cookies', () => {
  it.each([
    'roomguard_session=%%%',
    'roomguard_session="unterminated',
    'roomguard_session',
    '=; ;;; =roomguard_session',
    'roomguard_session=\u00ff\u00fe',
    'roomguard_session=../../etc/passwd',
    'roomguard_session={"$ne":null}',
    'roomguard_session=*',
    'roomguard_session=A%00B',
  ])('treats %j as no session: login redirect, nothing upstream', async (value) => {
    const before = rig.upstream.arrived.length;
    const res = await rawExchange(rig.port, Buffer.from(`GET /rooms/town-hall HTTP/1.1\r\n${host()}Cookie: ${value}\r\nConnection: close\r\n\r\n`, 'latin1'));
    expect(res.statuses).toHaveLength(1);
    expect([302, 400]).toContain(res.statuses[0]);
    if (res.statuses[0] === 302) expect(res.text).toMatch(/\r\nlocation: \/_roomguard\/login\?/i);
    expect(rig.upstream.arrived.length).toBe(before);
    await stillServing();
  });
});

describe('server timeouts against slow clients', () => {
  it('bounds the time to receive request headers and whole requests (slow headers, slow bodies)', () => {
    const server = rig.gateway.app.server;
    expect(server.headersTimeout).toBeGreaterThan(0);
    expect(server.requestTimeout).toBeGreaterThan(0);
    expect(server.requestTimeout).toBeLessThanOrEqual(120_000);
    expect(server.headersTimeout).toBeLessThanOrEqual(server.requestTimeout);
  });

  it('closes a connection that sent half a request line when the client gives up, without disturbing others', async () => {
    const res = await rawExchange(rig.port, 'GET /rooms/tow', 200);
    expect(res.statuses).toEqual([]);
    await stillServing();
  });
});

/** An upstream that answers any upgrade with "200 OK" and keeps the connection open, recording every request line it reads. */
async function startLaxUpstream(): Promise<EchoUpstream & { lines: string[] }> {
  const lines: string[] = [];
  const arrived: Arrived[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      let end: number;
      while ((end = buffered.indexOf('\r\n\r\n')) !== -1) {
        const head = buffered.slice(0, end);
        buffered = buffered.slice(end + 4);
        const [line = ''] = head.split('\r\n');
        lines.push(line);
        const [method = '', url = ''] = line.split(' ');
        arrived.push({ method, url, headers: {}, body: '' });
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`, port, arrived, lines, messages: [],
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

describe('upgrade smuggling', () => {
  let lax: Awaited<ReturnType<typeof startLaxUpstream>>;
  let laxRig: Rig;
  let laxCookie: string;

  beforeAll(async () => {
    lax = await startLaxUpstream();
    laxRig = await startRig({ store: inject('redisUrl'), upstream: lax });
    laxCookie = (await loginAs(laxRig.origin, 'carol')).browser.jar.header(new URL(laxRig.origin))!;
  });

  afterAll(async () => {
    await laxRig?.close();
    await lax?.close();
  });

  const smuggled = (path: string, upgrade: string, extra = '') =>
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${laxRig.port}\r\n${extra}Connection: Upgrade\r\nUpgrade: ${upgrade}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`
    + `GET /rooms/board HTTP/1.1\r\nHost: 127.0.0.1:${laxRig.port}\r\n\r\n`;

  it.each([
    ['a WebSocket upgrade on a public path', '/public/x', 'websocket', false],
    ['an h2c upgrade on a public path', '/public/x', 'h2c', false],
    ['a WebSocket upgrade into an admitted room', '/rooms/town-hall/ws', 'websocket', true],
    ['an h2c upgrade into an admitted room', '/rooms/town-hall', 'h2c', true],
  ])('does not tunnel a request for a denied room behind %s the upstream refused', async (_what, path, upgrade, withSession) => {
    const res = await rawExchange(laxRig.port, smuggled(path, upgrade, withSession ? `Cookie: ${laxCookie}\r\n` : ''));
    // roomguard terminates WebSockets itself (a 101 may come from it, never a raw tunnel), so bytes after the
    // handshake are frames to it, not a second HTTP request to the upstream.
    expect(res.text).not.toMatch(/HTTP\/1\.1 200/);
    expect(lax.lines.filter((l) => l.includes('/rooms/board'))).toEqual([]);
    await stillServing(laxRig);
  });
});
