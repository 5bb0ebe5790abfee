// Issue 15, class 8: a client that sends its headers or body byte by byte must be cut off within the
// configured time, not whenever Node next looks (every 30 s by default, `connectionsCheckingInterval`).
// Real gateway with small timeouts, real slow clients on real sockets; each is required to be closed
// before twice its timeout, a generous margin over the quarter-timeout checking interval.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectionsCheckingInterval } from '../../src/gateway/app.js';
import { startRig, type Rig } from '../helpers/rig.js';

const HEADERS_TIMEOUT_MS = 2000;
const REQUEST_TIMEOUT_MS = 3000;
let rig: Rig;

beforeAll(async () => {
  rig = await startRig({ store: inject('redisUrl'), config: { http: { headersTimeout: `${HEADERS_TIMEOUT_MS}ms`, requestTimeout: `${REQUEST_TIMEOUT_MS}ms` } } });
});

afterAll(async () => {
  await rig?.close();
});

/**
 * Opens a connection, writes `head`, then one more `drip` every 200 ms for as long as the server keeps the
 * connection open (never finishing the request), giving up after `giveUpMs`. Resolves with how long the
 * server took to close it and what it answered.
 */
function slowClient(head: string, drip: string, giveUpMs: number): Promise<{ closedAfterMs: number; answer: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(rig.port, '127.0.0.1');
    let answer = '';
    let started = 0;
    let timer: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => {
      clearInterval(timer);
      socket.destroy();
      reject(new Error(`the gateway still held the connection after ${giveUpMs} ms`));
    }, giveUpMs);
    socket.on('connect', () => {
      started = Date.now();
      socket.write(head);
      timer = setInterval(() => socket.write(drip), 200);
    });
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ closedAfterMs: Date.now() - started, answer });
    });
  });
}

describe('slow clients are cut off within the configured timeouts', () => {
  it('checks open connections every quarter of the shorter timeout, between 250 ms and 1 s', () => {
    // Node sets it from the server options; its type definitions do not name it.
    expect((rig.gateway.app.server as { connectionsCheckingInterval?: number }).connectionsCheckingInterval).toBe(500);
    expect(rig.gateway.app.server.headersTimeout).toBe(HEADERS_TIMEOUT_MS);
    expect(rig.gateway.app.server.requestTimeout).toBe(REQUEST_TIMEOUT_MS);
    expect(connectionsCheckingInterval({ headersTimeout: 10_000, requestTimeout: 30_000 })).toBe(1000);
    expect(connectionsCheckingInterval({ headersTimeout: 1000, requestTimeout: 1000 })).toBe(250);
  });

  it('closes a connection whose headers trickle in (slowloris) before twice http.headersTimeout', async () => {
    const { closedAfterMs, answer } = await slowClient('GET /rooms/town-hall HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'X-Slow: 1\r\n', 4 * HEADERS_TIMEOUT_MS);
    expect(closedAfterMs).toBeLessThan(2 * HEADERS_TIMEOUT_MS);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes a connection whose body trickles in before twice http.requestTimeout', async () => {
    const head = 'POST /_roomguard/logout HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000\r\n\r\n';
    const { closedAfterMs, answer } = await slowClient(head, 'a', 4 * REQUEST_TIMEOUT_MS);
    expect(closedAfterMs).toBeLessThan(2 * REQUEST_TIMEOUT_MS);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('serves a client that sends promptly while a slow one is being held off', async () => {
    const slow = slowClient('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'X-Slow: 1\r\n', 4 * HEADERS_TIMEOUT_MS);
    const res = await fetch(`${rig.origin}/healthz`);
    expect(res.status).toBe(200);
    await slow;
  });
});
