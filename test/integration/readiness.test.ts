// /readyz: the store and the audit log are needed for every request, the IdP only for new logins — an
// unreachable IdP degrades readiness (200, "degraded") so signed-in people keep their meetings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import type { Gateway } from '../../src/gateway/server.js';
import { startRig, UNREACHABLE_IDP, type Rig } from '../helpers/rig.js';

let rig: Rig;
let gateway: Gateway;
let origin: string;
let auditDir: string;

beforeAll(async () => {
  rig = await startRig({ idp: UNREACHABLE_IDP });
  ({ gateway, origin, auditDir } = rig);
});

afterAll(async () => {
  await rig?.close();
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
