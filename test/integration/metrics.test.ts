// Prometheus metrics on their own listener: joins by risk and outcome, logins, requests by route, open
// WebSockets, audit latency; nothing personal in the labels, and not reachable on the public port.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { startDemoIdp, type DemoIdp } from '../../src/demo/idp.js';
import { createGateway, type Gateway } from '../../src/gateway/server.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import { freePort, testConfig, testKeys } from '../helpers/gateway.js';
import { startEchoUpstream, type EchoUpstream } from '../helpers/upstream.js';

const SECRET = 'metrics-test-client-secret-012345';
let idp: DemoIdp;
let upstream: EchoUpstream;
let gateway: Gateway;
let origin: string;
let port: number;
let metricsUrl: string;

beforeAll(async () => {
  port = await freePort();
  const metricsPort = await freePort();
  origin = `http://127.0.0.1:${port}`;
  metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  upstream = await startEchoUpstream();
  idp = await startDemoIdp({ clients: [{ clientId: 'roomguard-test', clientSecret: SECRET, redirectUris: [`${origin}/_roomguard/callback`] }] });
  gateway = await createGateway(testConfig({ port, issuer: idp.issuer, clientSecret: SECRET, upstream: upstream.url, store: inject('redisUrl'), keys: testKeys(), keyPrefix: `rgmet:${port}:`, extra: { metrics: { listen: `127.0.0.1:${metricsPort}` } } }));
  await gateway.listen();
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all([idp?.close(), upstream?.close()]);
});

const value = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}"=,.]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

describe('metrics', () => {
  it('count joins, logins, requests and open WebSockets without personal data', async () => {
    const browser = new ScriptedBrowser({ accept: 'text/html' });
    const start = await browser.follow(`${origin}/rooms/staff-weekly`);
    await browser.submitLogin(start.final, 'bob', 'demo');
    await browser.request(`${origin}/rooms/secret-lab`);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/rooms/staff-weekly/ws`, { headers: { cookie: browser.jar.header(new URL(origin))! } });
    await new Promise((resolve) => ws.once('message', resolve));

    const text = await (await fetch(metricsUrl)).text();
    expect(value(text, 'roomguard_joins_total{risk="normal",outcome="allow"}')).toBeGreaterThanOrEqual(2);
    expect(value(text, 'roomguard_joins_total{risk="none",outcome="deny"}')).toBe(1);
    expect(value(text, 'roomguard_logins_total{outcome="success"}')).toBe(1);
    expect(value(text, 'roomguard_open_websockets')).toBe(1);
    expect(value(text, 'roomguard_http_requests_total{route="/_roomguard/callback",status="302"}')).toBe(1);
    expect(text).toContain('roomguard_audit_append_seconds_bucket');
    expect(text).not.toMatch(/bob|example\.org|secret-lab/);
    ws.close();
    await expect.poll(async () => value(await (await fetch(metricsUrl)).text(), 'roomguard_open_websockets')).toBe(0);
  });

  it('are not served on the public port', async () => {
    const res = await fetch(`${origin}/metrics`, { redirect: 'manual' });
    expect(res.status).toBe(302);
  });
});
