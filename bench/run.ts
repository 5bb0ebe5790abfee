// Benchmarks that print ratios against a baseline measured in the same run (absolute times on shared
// machines mean little). Run: npm run bench
//   1. decide() over 1000 policy files vs. over 10 (how the decision scales with the policy set).
//   2. An allowed room request through the gateway (session in Redis-compatible memory store, signed
//      identity headers) vs. the same request straight to the upstream: the gateway's cost per request.
import { performance } from 'node:perf_hooks';
import { parsePolicyText } from '../src/policy/parse.js';
import { decide } from '../src/policy/decide.js';
import type { Policy, PolicySet } from '../src/policy/types.js';
import { startDemoIdp } from '../src/demo/idp.js';
import { createGateway } from '../src/gateway/server.js';
import { ScriptedBrowser } from '../test/helpers/browser.js';
import { freePort, testConfig, testKeys } from '../test/helpers/gateway.js';
import { startEchoUpstream } from '../test/helpers/upstream.js';

function policySet(count: number): PolicySet {
  const policies: Policy[] = [];
  for (let i = 0; i < count; i++) {
    const text = `rooms: [team-${i}, "dept-${i}-*"]\nallow:\n  - groups: [g${i}]\n  - domains: [example.org]\ndeny:\n  - groups: [blocked]\nmoderators:\n  - groups: [chair-${i}]\n`;
    policies.push(parsePolicyText(`p${i}.yaml`, text).policy!);
  }
  return { policies, version: String(count) };
}

function opsPerSecond(fn: () => void, minMs = 500): number {
  for (let i = 0; i < 1000; i++) fn();
  let ops = 0;
  const start = performance.now();
  while (performance.now() - start < minMs) {
    for (let i = 0; i < 100; i++) fn();
    ops += 100;
  }
  return ops / ((performance.now() - start) / 1000);
}

async function throughput(url: string, cookie: string | undefined, total: number, concurrency: number): Promise<number> {
  let sent = 0;
  const headers: Record<string, string> = cookie ? { cookie } : {};
  const worker = async () => {
    while (sent < total) {
      sent++;
      const res = await fetch(url, { headers });
      if (res.status !== 200) throw new Error(`unexpected ${res.status} from ${url}`);
      await res.arrayBuffer();
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return total / ((performance.now() - start) / 1000);
}

async function main() {
  const subject = { identity: { sub: 'u', iss: 'i', email: 'u@example.org', emailVerified: true, groups: ['g5', 'staff'] } };
  const small = policySet(10);
  const large = policySet(1000);
  const now = Date.now();
  const smallOps = opsPerSecond(() => decide(subject, 'dept-5-weekly', small, now));
  const largeOps = opsPerSecond(() => decide(subject, 'dept-5-weekly', large, now));
  console.log(`decide(): 1000 policies vs 10 policies: ${(smallOps / largeOps).toFixed(1)}x slower (${Math.round(largeOps)} vs ${Math.round(smallOps)} decisions/s)`);

  const upstream = await startEchoUpstream();
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const idp = await startDemoIdp({ clients: [{ clientId: 'roomguard-test', clientSecret: 'bench-secret-0123456789', redirectUris: [`${origin}/_roomguard/callback`] }] });
  const gateway = await createGateway(testConfig({ port, issuer: idp.issuer, clientSecret: 'bench-secret-0123456789', upstream: upstream.url, store: 'memory', keys: testKeys() }));
  await gateway.listen();
  try {
    const browser = new ScriptedBrowser();
    const start = await browser.follow(`${origin}/rooms/staff-weekly`);
    await browser.submitLogin(start.final, 'bob', 'demo');
    const cookie = browser.jar.header(new URL(origin));
    const total = 3000;
    await throughput(`${upstream.url}/rooms/staff-weekly`, undefined, 300, 16);
    await throughput(`${origin}/rooms/staff-weekly`, cookie, 300, 16);
    const direct = await throughput(`${upstream.url}/rooms/staff-weekly`, undefined, total, 16);
    const guarded = await throughput(`${origin}/rooms/staff-weekly`, cookie, total, 16);
    console.log(`allowed room request through the gateway vs direct to the upstream: ${(direct / guarded).toFixed(2)}x the cost (${Math.round(guarded)} vs ${Math.round(direct)} requests/s, 16 concurrent)`);
  } finally {
    await gateway.close();
    await idp.close();
    await upstream.close();
  }
}

await main();
