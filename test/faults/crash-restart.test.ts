// kill -9 under load, then a restart of the same deployment (same port, keys, Redis and audit directory):
// every join admitted before the crash has its audit record, the chain verifies apart from at most a torn
// last line, and every session is either still valid or cleanly gone (a login redirect, never a 5xx).
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryAudit } from '../../src/audit/query.js';
import { verifyAuditDir } from '../../src/audit/verify.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import { startServeProcess, type ServeProcess } from '../helpers/serve-process.js';
import { loginAs } from '../security/harness.js';
import { startServeRig, type Rig } from '../helpers/rig.js';

let rig: Rig<ServeProcess>;
let auditDir: string;
let origin: string;
const restarts: ServeProcess[] = [];

/**
 * Starts the deployment's gateway process, the first time through the rig; after a crash again from the
 * same config file: same port, keys, Redis and audit directory. Resolves once it listens.
 */
async function startChild(): Promise<ChildProcess> {
  if (!rig) {
    rig = await startServeRig({ auditDir });
    origin = rig.origin;
    return rig.gateway.child;
  }
  const { configFile } = rig.gateway;
  const again = await startServeProcess(readFileSync(configFile, 'utf8'), { configFile });
  restarts.push(again);
  return again.child;
}

beforeAll(() => {
  auditDir = mkdtempSync(join(tmpdir(), 'rg-crash-restart-'));
});

afterAll(async () => {
  for (const restarted of restarts) await restarted.stop();
  await rig?.close();
});

describe('kill -9 under load, then restart', () => {
  it('loses no audit record of an admitted join, and leaves every session valid or cleanly gone', async () => {
    const first = await startChild();
    const exited = new Promise<void>((resolve) => first.once('exit', () => resolve()));
    const people = await Promise.all(['bob', 'alice', 'bob', 'carol'].map(async (user) => (await loginAs(origin, user, user === 'carol' ? '/rooms/town-hall' : '/rooms/staff-weekly')).browser));
    const admitted: string[] = [];
    let stop = false;
    const worker = async (browser: ScriptedBrowser, path: string) => {
      while (!stop) {
        try {
          const res = await browser.request(`${origin}${path}`, { headers: { accept: 'text/html' } });
          if (res.status === 200) admitted.push(res.headers.get('x-request-id')!);
          await res.arrayBuffer();
        } catch {
          return; // the process is gone
        }
      }
    };
    // Page loads (each audited before admission) and logins in flight when the process dies.
    const load = [
      ...people.slice(0, 3).flatMap((b) => [worker(b, '/rooms/staff-weekly'), worker(b, '/rooms/staff-weekly')]),
      ...Array.from({ length: 4 }, async () => {
        while (!stop) await loginAs(origin, 'bob', '/rooms/staff-weekly').catch(() => undefined);
      }),
    ];
    // Kill once the load is really running (a count, not a clock, so a busy machine does not matter).
    await expect.poll(() => admitted.length, { timeout: 30_000, interval: 20 }).toBeGreaterThanOrEqual(20);
    first.kill('SIGKILL');
    stop = true;
    await Promise.all(load);
    await exited;

    await startChild();
    const recorded = new Set((await queryAudit(auditDir, { type: 'room.decision' })).map((r) => r.requestId));
    expect(admitted.filter((id) => !recorded.has(id))).toEqual([]);
    const report = await verifyAuditDir(auditDir, {});
    expect(report.problems.filter((p) => p.kind !== 'torn-tail')).toEqual([]);

    let valid = 0;
    for (const browser of people) {
      const res = await browser.request(`${origin}/rooms/town-hall/api`);
      if (res.status === 200) valid += 1;
      else {
        expect(res.status).toBe(302);
        expect(res.headers.get('location')).toMatch(/^\/_roomguard\/login\?/);
      }
      await res.arrayBuffer();
    }
    // Sessions live in Redis, not in the process: the crash ends none of them.
    expect(valid).toBe(people.length);
    // And the restarted process keeps auditing and admitting.
    const after = await people[0]!.request(`${origin}/rooms/staff-weekly`, { headers: { accept: 'text/html' } });
    expect(after.status).toBe(200);
    expect((await queryAudit(auditDir, { type: 'room.decision' })).some((r) => r.requestId === after.headers.get('x-request-id'))).toBe(true);
  }, 60_000);
});
