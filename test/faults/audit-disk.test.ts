// The audit disk failing under a running gateway: a real tmpfs of a few hundred KiB mounted as the audit
// directory (this needs root and mount(8), as on the CI machine), filled up (ENOSPC) and a read-only
// bind mount (EROFS). Joins are refused with 503 while records cannot be written, /readyz turns red, and
// every join that was admitted has its record on disk.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { queryAudit } from '../../src/audit/query.js';
import type { ScriptedBrowser } from '../helpers/browser.js';
import { loginAs } from '../security/harness.js';
import { startRig, type Rig } from '../helpers/rig.js';

let mountPoint: string;
let rig: Rig;
let browser: ScriptedBrowser;
const admitted: string[] = [];

/** Fills the file system at `dir` until it reports ENOSPC. */
function fill(dir: string): string {
  const file = join(dir, 'filler');
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(4096, 120);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  return file;
}

async function join_(): Promise<Response> {
  const res = await browser.request(`${rig.origin}/rooms/staff-weekly`, { headers: { accept: 'text/html' } });
  if (res.status === 200) admitted.push(res.headers.get('x-request-id')!);
  return res;
}

beforeAll(async () => {
  mountPoint = mkdtempSync(join(tmpdir(), 'rg-audit-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', mountPoint]);
  rig = await startRig({ store: inject('redisUrl'), auditDir: mountPoint });
  browser = (await loginAs(rig.origin, 'bob', '/rooms/staff-weekly')).browser;
});

afterAll(async () => {
  await rig?.close();
  try {
    execFileSync('umount', ['-l', mountPoint]);
  } finally {
    rmSync(mountPoint, { recursive: true, force: true });
  }
});

describe('audit disk full or read-only', () => {
  it('admits while records are written (control)', async () => {
    expect((await join_()).status).toBe(200);
    expect((await fetch(`${rig.origin}/readyz`)).status).toBe(200);
  });

  it('refuses joins with 503 once the full audit disk takes no more records, lets nothing through to the upstream, and reports not ready', async () => {
    const filler = fill(mountPoint);
    try {
      // A record may still fit into a page the log file already has (then it is on disk and the join is
      // fine); the first record that needs new space must turn the join away.
      let refused: Response | undefined;
      for (let i = 0; i < 200 && !refused; i++) {
        const before = rig.upstream.arrived.length;
        const res = await join_();
        if (res.status === 200) {
          await res.arrayBuffer();
          continue;
        }
        refused = res;
        expect(rig.upstream.arrived.length).toBe(before);
      }
      expect(refused?.status).toBe(503);
      expect(await refused!.text()).toContain('RG_AUDIT_UNAVAILABLE');
      const before = rig.upstream.arrived.length;
      expect((await join_()).status).toBe(503);
      expect(rig.upstream.arrived.length).toBe(before);
      const ready = await fetch(`${rig.origin}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ checks: { audit: { ok: false } } });
    } finally {
      rmSync(filler);
    }
  });

  it('will not start on a read-only audit directory: a clear error instead of serving unaudited', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-audit-ro-'));
    execFileSync('mount', ['--bind', dir, dir]);
    try {
      execFileSync('mount', ['-o', 'remount,bind,ro', dir]);
      await expect(startRig({ store: inject('redisUrl'), auditDir: dir })).rejects.toThrow(/audit log cannot be written/);
    } finally {
      execFileSync('umount', ['-l', dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has a record on disk for every join it admitted', async () => {
    const recorded = new Set((await queryAudit(mountPoint, { type: 'room.decision' })).map((r) => r.requestId));
    expect(admitted.length).toBeGreaterThan(0);
    expect(admitted.filter((id) => !recorded.has(id))).toEqual([]);
    expect(readdirSync(mountPoint).length).toBeGreaterThan(0);
    writeFileSync(join(mountPoint, 'probe'), 'writable again');
  });
});
