// /readyz: the store and the audit log are needed for every request, the IdP only for new logins — an
// unreachable IdP degrades readiness (200, "degraded") so signed-in people keep their meetings.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { rmSync } from 'node:fs';
import { createGateway, type Gateway } from '../../src/gateway/server.js';
import { freePort, testConfig, testKeys } from '../helpers/gateway.js';
import { startEchoUpstream, type EchoUpstream } from '../helpers/upstream.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let upstream: EchoUpstream;
let gateway: Gateway;
let origin: string;
let auditDir: string;

beforeAll(async () => {
  const [port, deadIdpPort] = [await freePort(), await freePort()];
  origin = `http://127.0.0.1:${port}`;
  upstream = await startEchoUpstream();
  auditDir = mkdtempSync(join(tmpdir(), 'rg-ready-audit-'));
  // Nothing listens on the IdP's port.
  gateway = await createGateway(testConfig({ port, issuer: `http://127.0.0.1:${deadIdpPort}`, clientSecret: 'ready-test-secret-0123456789abcdef', upstream: upstream.url, store: inject('redisUrl'), keys: testKeys(), keyPrefix: `rgready:${port}:`, auditDir }));
  await gateway.listen();
});

afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
});

describe('/readyz', () => {
  it('stays 200 but says "degraded" while the IdP cannot be reached', async () => {
    const res = await fetch(`${origin}/readyz`);
    const body = (await res.json()) as { status: string; checks: Record<string, { ok: boolean; detail?: string }> };
    expect(res.status).toBe(200);
    expect(body.status).toBe('degraded');
    expect(body.checks.idp!.ok).toBe(false);
    expect(body.checks.store!.ok).toBe(true);
  });

  it('turns 503 when the audit log cannot be written, IdP or not', async () => {
    rmSync(auditDir, { recursive: true, force: true });
    // The writer notices on its next append; a join attempt is one.
    await fetch(`${origin}/public/x`);
    await gateway.audit!.append({ type: 'config.loaded', outcome: 'success' }).catch(() => undefined);
    const res = await fetch(`${origin}/readyz`);
    const body = (await res.json()) as { status: string; checks: Record<string, { ok: boolean }> };
    expect(res.status).toBe(503);
    expect(body.status).toBe('not ready');
    expect(body.checks.audit!.ok).toBe(false);
  });
});
