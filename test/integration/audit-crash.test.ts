// Invariant 4 under a crash: a gateway process serving concurrent joins is killed with SIGKILL. Every
// join it had admitted (a 200 reached the browser) must have its record on disk, and verification finds
// at most a torn final line.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { queryAudit } from '../../src/audit/query.js';
import { verifyAuditDir } from '../../src/audit/verify.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import { startServeRig } from '../helpers/rig.js';

describe('audit log when the gateway is killed', () => {
  it('has a record for every join that was admitted before SIGKILL', async () => {
    const auditDir = mkdtempSync(join(tmpdir(), 'rg-crash-'));
    const rig = await startServeRig({ auditDir });
    const { child, exited } = rig.gateway;
    try {
      const { origin } = rig;
      const browser = new ScriptedBrowser({ accept: 'text/html' });
      const start = await browser.follow(`${origin}/rooms/staff-weekly`);
      const done = await browser.submitLogin(start.final, 'bob', 'demo');
      expect(done.final.status).toBe(200);

      const admitted: string[] = [];
      let stop = false;
      const worker = async () => {
        while (!stop) {
          try {
            const res = await browser.request(`${origin}/rooms/staff-weekly`);
            if (res.status === 200) admitted.push(res.headers.get('x-request-id')!);
            await res.arrayBuffer();
          } catch {
            return; // the process is gone
          }
        }
      };
      const workers = Array.from({ length: 16 }, worker);
      // Kill once the load is really running (a count, not a clock, so a busy machine does not matter).
      await expect.poll(() => admitted.length, { timeout: 30_000, interval: 20 }).toBeGreaterThan(10);
      child.kill('SIGKILL');
      stop = true;
      await Promise.all(workers);
      await exited;

      expect(admitted.length).toBeGreaterThan(10);
      const recorded = new Set((await queryAudit(auditDir, { type: 'room.decision' })).map((r) => r.requestId));
      const missing = admitted.filter((id) => !recorded.has(id));
      expect(missing).toEqual([]);
      const report = await verifyAuditDir(auditDir, {});
      expect(report.problems.filter((p) => p.kind !== 'torn-tail')).toEqual([]);
    } finally {
      await rig.close();
    }
  });
});
