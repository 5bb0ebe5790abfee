// Prometheus metrics on their own listener: joins by risk and outcome, logins, requests by route, open
// WebSockets, audit latency and failures, store latency, active sessions, policy reloads; nothing
// personal in the labels, and not reachable on the public port. Real Redis, IdP, upstream and audit log.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { GatewayMetrics } from '../../src/gateway/metrics.js';
import { keyCensus } from '../../src/store/key-census.js';
import { MemoryStore } from '../../src/store/memory.js';
import { RedisStore } from '../../src/store/redis.js';
import { TimedStore } from '../../src/store/timed.js';
import type { Gateway } from '../../src/gateway/server.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import { EXAMPLE_POLICIES } from '../helpers/gateway.js';
import { startRig, type Rig } from '../helpers/rig.js';
import { redisCli, redisTempDir, startCluster } from '../helpers/redis-servers.js';

let rig: Rig;
let gateway: Gateway;
let origin: string;
let port: number;
let metricsUrl: string;
let auditDir: string;
let policiesDir: string;

beforeAll(async () => {
  policiesDir = mkdtempSync(join(tmpdir(), 'rg-met-policies-'));
  cpSync(EXAMPLE_POLICIES, policiesDir, { recursive: true });
  rig = await startRig({ policiesDir, metrics: true });
  ({ gateway, origin, port, auditDir } = rig);
  metricsUrl = rig.metricsUrl!;
});

afterAll(async () => {
  await rig?.close();
  rmSync(policiesDir, { recursive: true, force: true });
  rmSync(auditDir, { recursive: true, force: true });
});

const scrape = async () => (await fetch(metricsUrl)).text();

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
    // bob's session is the only one under this gateway's key prefix in the shared Redis.
    expect(value(text, 'roomguard_active_sessions')).toBe(1);
    expect(value(text, 'roomguard_store_operation_seconds_count{operation="set",outcome="ok"}')).toBeGreaterThanOrEqual(1);
    expect(value(text, 'roomguard_store_operation_seconds_count{operation="get",outcome="ok"}')).toBeGreaterThanOrEqual(1);
    expect(value(text, 'roomguard_audit_writable')).toBe(1);
    expect(value(text, 'roomguard_audit_append_failures_total')).toBe(0);
    expect(text).toContain('roomguard_audit_append_seconds_bucket');
    expect(text).not.toMatch(/bob|example\.org|secret-lab/);
    ws.close();
    await expect.poll(async () => value(await (await fetch(metricsUrl)).text(), 'roomguard_open_websockets')).toBe(0);
  });

  it('count policy reloads by result: a broken set is rejected, a repaired one loaded', async () => {
    const before = await scrape();
    writeFileSync(join(policiesDir, 'broken.yaml'), 'rooms: [unclosed\n');
    expect((await gateway.policies.reload()).ok).toBe(false);
    const rejected = await scrape();
    expect(value(rejected, 'roomguard_policy_reloads_total{result="rejected"}')).toBe((value(before, 'roomguard_policy_reloads_total{result="rejected"}') || 0) + 1);
    expect(rejected).not.toContain('roomguard_policy_reloads_total{result="loaded"}');
    rmSync(join(policiesDir, 'broken.yaml'));
    expect((await gateway.policies.reload()).ok).toBe(true);
    expect(value(await scrape(), 'roomguard_policy_reloads_total{result="loaded"}')).toBe(1);
  });

  it('define the config reload counter the SIGHUP handler increments', async () => {
    expect(await scrape()).toContain('# TYPE roomguard_config_reloads_total counter');
    gateway.metrics.configReloads.inc({ result: 'rejected' });
    expect(value(await scrape(), 'roomguard_config_reloads_total{result="rejected"}')).toBe(1);
  });

  it('count audit append failures and report the log unwritable when joins are refused for it', async () => {
    const browser = new ScriptedBrowser({ accept: 'text/html' });
    const start = await browser.follow(`${origin}/rooms/staff-weekly`);
    await browser.submitLogin(start.final, 'bob', 'demo');
    // Pull the audit directory away under the running writer: the next join cannot be recorded.
    rmSync(auditDir, { recursive: true, force: true });
    expect((await browser.request(`${origin}/rooms/staff-weekly`)).status).toBe(503);
    const text = await scrape();
    expect(value(text, 'roomguard_audit_append_failures_total')).toBeGreaterThanOrEqual(1);
    expect(value(text, 'roomguard_audit_writable')).toBe(0);
  });

  it('are not served on the public port', async () => {
    const res = await fetch(`${origin}/metrics`, { redirect: 'manual' });
    expect(res.status).toBe(302);
  });
});

describe('store metrics', () => {
  const redisUrl = () => inject('redisUrl');

  it('count only live session records under their own key prefix', async () => {
    const prefix = `rgcensus:${process.pid}:${Date.now()}:`;
    const redis = new RedisStore({ url: redisUrl(), keyPrefix: prefix });
    const neighbour = new RedisStore({ url: redisUrl(), keyPrefix: `${prefix}other:` });
    await Promise.all([redis.connect(), neighbour.connect()]);
    try {
      const census = keyCensus(new TimedStore(redis, new GatewayMetrics().storeLatency), 'session:')!;
      expect(await census()).toBe(0);
      await redis.set('session:a', 'x', 60_000);
      await redis.set('session:b', 'x', 60_000);
      await redis.set('session:short', 'x', 1);
      await redis.addMember('sessions:user:u1', 'a', 60_000);
      await redis.set('login:state', 'x', 60_000);
      await neighbour.set('session:c', 'x', 60_000);
      await expect.poll(() => redis.get('session:short')).toBeNull();
      expect(await census()).toBe(2);
      await redis.delete('session:a');
      expect(await census()).toBe(1);
    } finally {
      await Promise.all([redis.close(), neighbour.close()]);
    }
  });

  it('stop counting after the configured number of round trips (a lower bound, at bounded cost)', async () => {
    const prefix = `rgcensus-bound:${process.pid}:${Date.now()}:`;
    const redis = new RedisStore({ url: redisUrl(), keyPrefix: prefix });
    await redis.connect();
    try {
      for (let i = 0; i < 50; i++) await redis.set(`session:${i}`, 'x', 60_000);
      expect(await keyCensus(redis, 'session:', { batch: 10_000 })!()).toBe(50);
      // One SCAN step over a keyspace of ≥ 50 keys with COUNT 1 sees at most a few of them.
      expect(await keyCensus(redis, 'session:', { batch: 1, maxRoundTrips: 1 })!()).toBeLessThan(50);
    } finally {
      await redis.close();
    }
  });

  it('count the sessions of a Redis Cluster on every primary, not just the node a SCAN happens to reach', async () => {
    const temp = redisTempDir('census-cluster');
    const cluster = await startCluster(temp.dir);
    const store = new RedisStore({ cluster: { nodes: [{ host: '127.0.0.1', port: cluster.nodes[0]!.port }] }, keyPrefix: 'rgcensus:' });
    try {
      await store.connect();
      for (let i = 0; i < 30; i++) await store.set(`session:${i}`, 'x', 60_000);
      await store.set('login:state', 'x', 60_000);
      const perNode = cluster.nodes.map((n) => Number(redisCli(n.port, ['eval', "return #redis.call('keys', ARGV[1])", '0', 'rgcensus:session:*'])));
      // The keys really are spread, so counting one node would be short.
      expect(perNode.filter((n) => n > 0).length).toBeGreaterThan(1);
      expect(perNode.reduce((a, b) => a + b, 0)).toBe(30);
      expect(await keyCensus(store, 'session:')!()).toBe(30);
    } finally {
      await store.close();
      await cluster.stop();
      temp.remove();
    }
  });

  it('cannot count a store that cannot enumerate keys (the in-process memory store)', () => {
    expect(keyCensus(new MemoryStore(), 'session:')).toBeUndefined();
  });

  it('active sessions follow the store when the count may be refreshed, and reuse a young count otherwise', async () => {
    const prefix = `rggauge:${process.pid}:${Date.now()}:`;
    const redis = new RedisStore({ url: redisUrl(), keyPrefix: prefix });
    await redis.connect();
    try {
      const fresh = new GatewayMetrics({ censusMaxAgeMs: 0 });
      const cached = new GatewayMetrics({ censusMaxAgeMs: 3_600_000 });
      for (const m of [fresh, cached]) m.countSessionsWith(keyCensus(redis, 'session:')!);
      await redis.set('session:one', 'x', 60_000);
      expect(value(await fresh.registry.metrics(), 'roomguard_active_sessions')).toBe(1);
      expect(value(await cached.registry.metrics(), 'roomguard_active_sessions')).toBe(1);
      await redis.set('session:two', 'x', 60_000);
      expect(value(await fresh.registry.metrics(), 'roomguard_active_sessions')).toBe(2);
      expect(value(await cached.registry.metrics(), 'roomguard_active_sessions')).toBe(1);
      await redis.delete('session:one');
      await redis.delete('session:two');
      expect(value(await fresh.registry.metrics(), 'roomguard_active_sessions')).toBe(0);
    } finally {
      await redis.close();
    }
  });

  it('time each operation by name and outcome, passing results and errors through unchanged', async () => {
    const metrics = new GatewayMetrics();
    const store = new TimedStore(new MemoryStore(), metrics.storeLatency);
    await store.set('k', 'v', 60_000);
    expect(await store.get('k')).toBe('v');
    expect(await store.take('k')).toBe('v');
    expect(await store.get('k')).toBeNull();
    expect(await store.getMany(['k', 'l'])).toEqual([null, null]);
    // The memory store refuses a non-positive TTL: the error reaches the caller and is counted as one.
    await expect(store.set('k', 'v', 0)).rejects.toThrow(RangeError);
    const text = await metrics.registry.metrics();
    expect(value(text, 'roomguard_store_operation_seconds_count{operation="get",outcome="ok"}')).toBe(2);
    expect(value(text, 'roomguard_store_operation_seconds_count{operation="take",outcome="ok"}')).toBe(1);
    expect(value(text, 'roomguard_store_operation_seconds_count{operation="set",outcome="ok"}')).toBe(1);
    expect(value(text, 'roomguard_store_operation_seconds_count{operation="set",outcome="error"}')).toBe(1);
    expect(value(text, 'roomguard_store_operation_seconds_count{operation="getMany",outcome="ok"}')).toBe(1);
    expect(text).not.toContain('operation="delete"');
  });
});
