// The outside attack, replayed over HTTP with the production defaults (policies.watch on, the default
// quiet period and settle period): a policy file rewritten in place — truncate, write a first part that is
// itself a valid policy, pause, write the rest — must not be put in force during the pause. A denied
// person stays denied throughout, and the audit log never records the half file as loaded.
import { closeSync, mkdtempSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { queryAudit } from '../../src/audit/query.js';
import { loginAs } from './harness.js';
import { startRig, type Rig } from '../helpers/rig.js';
import type { ScriptedBrowser } from '../helpers/browser.js';

const BOARD = 'rooms: [board]\nallow:\n  - groups: [staff]\ndeny:\n  - emails: [bob@example.org]\n';
// Valid on its own, and it lets bob in: this is what must never judge a request.
const FIRST_PART = 'rooms: [board]\nallow:\n  - groups: [staff]\n';
// The admin's edit: carol is denied as well.
const REST = 'deny:\n  - emails: [bob@example.org, carol@example.org]\n';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

let rig: Rig;
let policiesDir: string;
let bob: ScriptedBrowser;
let alice: ScriptedBrowser;

beforeAll(async () => {
  policiesDir = mkdtempSync(join(tmpdir(), 'rg-half-written-'));
  writeFileSync(join(policiesDir, 'board.yaml'), BOARD);
  rig = await startRig({ store: inject('redisUrl'), config: { policies: { dir: policiesDir, watch: true } } });
  bob = (await loginAs(rig.origin, 'bob', '/rooms/board')).browser;
  alice = (await loginAs(rig.origin, 'alice', '/rooms/board')).browser;
}, 60_000);

afterAll(async () => {
  await rig?.close();
});

const statusOf = async (browser: ScriptedBrowser) => (await browser.follow(`${rig.origin}/rooms/board`)).final.status;

describe('a policy file rewritten in place with a pause', () => {
  it('keeps a denied person denied during the pause and records only the whole file as loaded', async () => {
    expect(await statusOf(bob)).toBe(403);
    expect(await statusOf(alice)).toBe(200);
    const fd = openSync(join(policiesDir, 'board.yaml'), 'w');
    try {
      writeSync(fd, FIRST_PART);
      // 800 ms, as in the attack: four times the quiet period after which the watcher used to load.
      const until = Date.now() + 800;
      const during: number[] = [];
      while (Date.now() < until || during.length < 2) during.push(await statusOf(bob));
      expect(new Set(during)).toEqual(new Set([403]));
      writeSync(fd, REST);
    } finally {
      closeSync(fd);
    }
    const whole = sha256(FIRST_PART + REST);
    await expect.poll(() => rig.gateway.policies.current.policies[0]!.sha256, { timeout: 15_000 }).toBe(whole);
    expect(await statusOf(bob)).toBe(403);
    expect(await statusOf(alice)).toBe(200);

    const loaded = async () => (await queryAudit(rig.auditDir, { type: 'policy.loaded' })).map((r) => r.details?.sha256 as string[] | undefined);
    await expect.poll(async () => (await loaded()).some((s) => s?.includes(whole)), { timeout: 10_000 }).toBe(true);
    const everyLoaded = (await loaded()).flat();
    expect(everyLoaded).not.toContain(sha256(FIRST_PART));
    expect(everyLoaded.filter((s) => s === whole)).toHaveLength(1);
    expect(await queryAudit(rig.auditDir, { type: 'policy.rejected' })).toEqual([]);
  });
});
