// Invariant 4 under a crash: a gateway process serving concurrent joins is killed with SIGKILL. Every
// join it had admitted (a 200 reached the browser) must have its record on disk, and verification finds
// at most a torn final line.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, inject, it } from 'vitest';
import { queryAudit } from '../../src/audit/query.js';
import { verifyAuditDir } from '../../src/audit/verify.js';
import { ScriptedBrowser } from '../helpers/browser.js';

describe('audit log when the gateway is killed', () => {
  it('has a record for every join that was admitted before SIGKILL', async () => {
    const auditDir = mkdtempSync(join(tmpdir(), 'rg-crash-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/child-gateway.ts'], {
      cwd: new URL('../..', import.meta.url).pathname,
      env: { ...process.env, ROOMGUARD_TEST_REDIS: inject('redisUrl'), ROOMGUARD_TEST_AUDIT: auditDir },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`child gateway exited early (${code})`)));
      });
      const { origin } = JSON.parse(line) as { origin: string };
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
      await new Promise((r) => setTimeout(r, 400));
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
      child.kill('SIGKILL');
    }
  });
});
