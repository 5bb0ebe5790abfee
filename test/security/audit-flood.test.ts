// An anonymous client cannot fill the audit disk (a full disk refuses every join) or bury the log in
// copies of its own refusals: beyond the refusal budget they are counted, and a summary record says how
// many there were. Real gateway, real IdP, the real audit writer, read back from disk.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { queryAudit } from '../../src/audit/query.js';
import { PER_CLIENT } from '../../src/gateway/refusal-budget.js';
import { startRig, type Rig } from '../helpers/rig.js';

let rig: Rig;

beforeAll(async () => {
  rig = await startRig({ store: inject('redisUrl') });
});

afterAll(async () => {
  await rig?.close();
});

describe('anonymous refusals and the audit log', () => {
  it('writes a client network\'s first refusals one by one and counts the rest in one summary record', async () => {
    const attempts = PER_CLIENT + 60;
    for (let i = 0; i < attempts; i++) {
      const res = await fetch(`${rig.origin}/_roomguard/callback?state=forged-${i}&code=x`, { redirect: 'manual' });
      expect(res.status).toBeGreaterThanOrEqual(400);
    }
    const single = await queryAudit(rig.auditDir, { type: 'login.failure' });
    expect(single.length).toBe(PER_CLIENT);
    // Stopping the gateway ends the minute early: the summary is written, nothing goes unaccounted.
    await rig.gateway.close();
    const summaries = await queryAudit(rig.auditDir, { type: 'audit.summary' });
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({ reason: 'RG_LOGIN_STATE_UNKNOWN', details: { of: 'login.failure', count: attempts - PER_CLIENT, networks: 1 } });
  });
});
