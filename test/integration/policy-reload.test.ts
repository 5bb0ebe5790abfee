// Hot reload against the real file system: a good change is picked up, a broken one is rejected
// whole and the previous set keeps judging rooms.
import { mkdtempSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LivePolicies, PolicySetError, type PolicyReloadEvent } from '../../src/policy/load.js';
import { decide } from '../../src/policy/decide.js';

const bob = { identity: { sub: 'bob', iss: 'test', emailVerified: true, email: 'bob@example.org', groups: ['staff'] } };
let live: LivePolicies | undefined;
afterEach(() => live?.close());

function nextReload(policies: LivePolicies): Promise<PolicyReloadEvent> {
  return new Promise((resolve) => policies.once('reload', resolve));
}

describe('policy hot reload', () => {
  it('picks up a new file, and keeps the previous set when a change breaks the set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-reload-'));
    writeFileSync(join(dir, 'staff.yaml'), 'rooms: ["staff-*"]\nallow:\n  - groups: [staff]\n');
    live = LivePolicies.open(dir);
    live.watch(50);
    expect(decide(bob, 'lab', live.current, Date.now()).outcome).toBe('deny');

    let reloaded = nextReload(live);
    writeFileSync(join(dir, 'lab.yaml'), 'rooms: [lab]\nallow:\n  - emails: [bob@example.org]\n');
    expect((await reloaded).ok).toBe(true);
    expect(decide(bob, 'lab', live.current, Date.now()).outcome).toBe('allow');
    const goodVersion = live.current.version;

    reloaded = nextReload(live);
    writeFileSync(join(dir, 'lab.yaml'), 'rooms: [lab]\nallow:\n  - emails: [bob@example.org\n');
    const broken = await reloaded;
    expect(broken.ok).toBe(false);
    expect(broken.problems[0]!.file).toMatch(/lab\.yaml$/);
    expect(live.current.version).toBe(goodVersion);
    expect(decide(bob, 'lab', live.current, Date.now()).outcome).toBe('allow');

    reloaded = nextReload(live);
    unlinkSync(join(dir, 'lab.yaml'));
    expect((await reloaded).ok).toBe(true);
    expect(decide(bob, 'lab', live.current, Date.now()).reasons).toEqual(['RG_POLICY_NO_MATCH']);
  });

  it('refuses to start from a broken directory, listing every problem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-reload-'));
    writeFileSync(join(dir, 'a.yaml'), 'rooms: [a]\n');
    writeFileSync(join(dir, 'b.yaml'), 'allow:\n  - anyone: true\n');
    try {
      LivePolicies.open(dir);
      expect.unreachable('a broken set must not load');
    } catch (err) {
      expect(err).toBeInstanceOf(PolicySetError);
      const fields = (err as PolicySetError).problems.map((p) => `${p.file.split('/').pop()}:${p.field}`);
      expect(fields).toEqual(expect.arrayContaining(['a.yaml:allow', 'b.yaml:rooms']));
    }
  });
});
