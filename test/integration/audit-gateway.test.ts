// The gateway and the real audit log together: every admission is on disk before the person is let in,
// the chain verifies afterwards, and a join whose record cannot be written is refused with 503.
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway/server.js';
import { queryAudit } from '../../src/audit/query.js';
import { verifyAuditDir } from '../../src/audit/verify.js';
import { AuditWriter } from '../../src/audit/writer.js';
import { canonicalJson, sealRecord, utcDay } from '../../src/audit/chain.js';
import type { AuditRecord } from '../../src/audit/record.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import type { TestKeys } from '../helpers/gateway.js';
import type { EchoUpstream } from '../helpers/upstream.js';
import { startRig, type Rig } from '../helpers/rig.js';
import { testConfigYaml, testKeys } from '../helpers/gateway.js';
import { startServeProcess } from '../helpers/serve-process.js';

let rig: Rig;
let upstream: EchoUpstream;
let gateway: Gateway;
let origin: string;
let auditDir: string;
let keys: TestKeys;

beforeAll(async () => {
  auditDir = mkdtempSync(join(tmpdir(), 'rg-audit-gw-'));
  rig = await startRig({ auditDir });
  ({ upstream, gateway, origin, keys } = rig);
});

afterAll(async () => {
  await rig?.close();
});

async function login(user: string, path: string) {
  const browser = new ScriptedBrowser({ accept: 'text/html' });
  const start = await browser.follow(`${origin}${path}`);
  const done = await browser.submitLogin(start.final, user, 'demo');
  return { browser, final: done.final };
}

describe('what the reviewer page is told about joins and refusals', () => {
  it('marks a WebSocket\'s entry so it folds into its page load, and records a refused reviewer page as review.refused', async () => {
    const { WebSocket } = await import('ws');
    const bob = await login('bob', '/rooms/staff-weekly');
    expect(bob.final.status).toBe(200);
    const cookie = bob.browser.jar.header(new URL(origin))!;
    const ws = new WebSocket(`${origin.replace('http', 'ws')}/rooms/staff-weekly/ws`, { headers: { cookie } });
    await new Promise<void>((resolve, reject) => {
      ws.once('message', () => resolve());
      ws.once('error', reject);
    });
    ws.close();
    const refused = await bob.browser.request(`${origin}/_roomguard/audit`);
    expect(refused.status).toBe(403);

    const records = await queryAudit(auditDir, { user: 'bob' });
    const entries = records.filter((r) => r.type === 'room.decision' && r.room === 'staff-weekly' && r.outcome === 'allow');
    const sockets = entries.filter((r) => r.details?.websocket === true);
    expect(sockets.length).toBeGreaterThanOrEqual(1);
    expect(entries.length - sockets.length).toBeGreaterThanOrEqual(1);
    const review = records.filter((r) => r.type === 'review.refused');
    expect(review).toHaveLength(1);
    expect(review[0]).toMatchObject({ outcome: 'deny', reason: 'RG_AUDIT_FORBIDDEN', details: { page: 'audit' } });
    expect(review[0]!.room).toBeUndefined();
    expect(records.some((r) => r.type === 'room.decision' && r.reason === 'RG_AUDIT_FORBIDDEN')).toBe(false);
  });
});

describe('audit log of the gateway', () => {
  it('records config, policies, login, allowed and denied joins, and the chain verifies', async () => {
    const bob = await login('bob', '/rooms/staff-weekly');
    expect(bob.final.status).toBe(200);
    const denied = await bob.browser.request(`${origin}/rooms/secret-lab`);
    expect(denied.status).toBe(403);

    const records = await queryAudit(auditDir, {});
    const types = records.map((r) => r.type);
    expect(types).toEqual(expect.arrayContaining(['config.loaded', 'policy.loaded', 'login.success', 'room.decision']));
    const allow = records.find((r) => r.type === 'room.decision' && r.outcome === 'allow' && r.room === 'staff-weekly')!;
    expect(allow.actor).toMatchObject({ sub: 'bob' });
    expect(allow.policy?.file).toMatch(/staff\.yaml$/);
    expect(allow.role).toBe('participant');
    // Privacy default: the address is truncated, never the full one.
    expect(JSON.stringify(allow.client)).toContain('127.0.0.0');
    expect(JSON.stringify(records)).not.toContain(bob.browser.jar.get('roomguard_session')!.value);
    const deny = records.find((r) => r.type === 'room.decision' && r.outcome === 'deny' && r.room === 'secret-lab')!;
    expect(deny.reason).toBe('RG_POLICY_NO_MATCH');

    const report = await verifyAuditDir(auditDir, { signingKeyPem: keys.auditSigningKey, live: true });
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('records an entry even when the client does not present it as a page load', async () => {
    const browser = new ScriptedBrowser(); // no Accept: text/html, no Sec-Fetch-Dest
    const start = await browser.follow(`${origin}/rooms/staff-weekly`, { headers: { accept: 'text/html' } });
    await browser.submitLogin(start.final, 'bob', 'demo');
    const session = browser.jar.get('roomguard_session')!.value;
    const before = (await queryAudit(auditDir, { room: 'town-hall', type: 'room.decision' })).length;
    const res = await browser.request(`${origin}/rooms/town-hall/api/state`, { headers: { accept: 'application/json' } });
    expect(res.status).toBe(200);
    await browser.request(`${origin}/rooms/town-hall/api/state`, { headers: { accept: 'application/json' } });
    const after = await queryAudit(auditDir, { room: 'town-hall', type: 'room.decision' });
    // One record for the first request of this session in this room; the second is covered by it.
    expect(after.length).toBe(before + 1);
    expect(after.at(-1)).toMatchObject({ outcome: 'allow' });
    expect(JSON.stringify(after)).not.toContain(session);
  });

  it('covers the requests a page load makes inside its room with the page load\'s record', async () => {
    const { browser } = await login('bob', '/rooms/staff-weekly');
    const before = (await queryAudit(auditDir, { room: 'staff-weekly', type: 'room.decision' })).length;
    const page = await browser.request(`${origin}/rooms/staff-weekly`, { headers: { accept: 'text/html', 'sec-fetch-dest': 'document' } });
    expect(page.status).toBe(200);
    for (const asset of ['app.js', 'style.css', 'api/state']) {
      expect((await browser.request(`${origin}/rooms/staff-weekly/${asset}`, { headers: { 'sec-fetch-dest': 'script' } })).status).toBe(200);
    }
    // The page load's record, and no further one for what the page loaded.
    expect((await queryAudit(auditDir, { room: 'staff-weekly', type: 'room.decision' })).length).toBe(before + 1);
  });

  it('refuses a join with 503 when its record cannot be written, and reports not ready', async () => {
    const { browser } = await login('bob', '/rooms/staff-weekly');
    const before = upstream.arrived.length;
    // Pull the audit directory away under the running writer.
    rmSync(auditDir, { recursive: true, force: true });
    const refused = await browser.request(`${origin}/rooms/staff-weekly`);
    expect(refused.status).toBe(503);
    expect(await refused.text()).toContain('RG_AUDIT_UNAVAILABLE');
    expect(upstream.arrived.length).toBe(before);
    const ready = await fetch(`${origin}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ checks: { audit: { ok: false } } });
  });
});

describe('audit log of a gateway starting on a chain whose unsigned tail was forged', () => {
  it('does not start (roomguard serve exits 1) when the newest record is dated after its clock, and says where and what to do', async () => {
    // It never gets to listen: port 0 stands for any.
    const port = 0;
    const dir = mkdtempSync(join(tmpdir(), 'rg-audit-future-'));
    const keys = testKeys();
    const writer = await AuditWriter.open({ dir, instance: `gw-${port}`, signingKeyPem: keys.auditSigningKey, ip: 'none', identity: 'clear', names: false, checkpointEvery: 100, checkpointInterval: 300_000 });
    const last = await writer.append({ type: 'logout', outcome: 'success' });
    await writer.close();
    // After the shutdown checkpoint: one forged record dated far ahead, appended by someone without the key.
    const segment = join(dir, `gw-${port}`, `${utcDay(Date.parse(last.ts))}.jsonl`);
    const head = readFileSync(segment, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditRecord).at(-1)!;
    appendFileSync(segment, `${canonicalJson(sealRecord({ v: 1, id: 'forged', ts: '2099-12-31T23:59:59.000Z', seq: head.seq + 1, instance: head.instance, type: 'logout', outcome: 'success', prev: head.hash }))}\n`);
    const yaml = testConfigYaml({ port, issuer: 'https://id.example.org', clientSecret: 'unused-client-secret-0123456789abcdef', upstream: 'http://127.0.0.1:9', store: 'memory', keys, auditDir: dir });
    const refused = await startServeProcess(yaml).then(async (started) => {
      await started.stop();
      return undefined;
    }, (err: unknown) => err as Error);
    expect(refused?.message).toMatch(/^roomguard serve exited \(1\)/);
    expect(refused?.message).toContain('cannot start: the audit log cannot be written, so nobody is let in');
    expect(refused?.message).toContain(`${segment}:3: the head of the audit chain is dated 2099-12-31T23:59:59.000Z`);
    expect(refused?.message).toContain('run `roomguard audit verify');
  });
});
