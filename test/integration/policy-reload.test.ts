// Hot reload against the real file system and the real watcher: a good change is picked up, a broken one
// is rejected whole and the previous set keeps judging rooms — and a set the admin did not mean (a file
// caught half-written, several files half rewritten, a file deleted before it is written anew) is never
// put in force, while a replaced directory (renamed, swapped link, Kubernetes ConfigMap) is followed.
import { appendFileSync, closeSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LivePolicies, PolicySetError, loadPolicyDir, type PolicyReloadEvent } from '../../src/policy/load.js';
import { decide } from '../../src/policy/decide.js';
import type { Subject } from '../../src/policy/types.js';
import { openMmapWriter } from '../helpers/mmap-writer.js';

const person = (email: string, groups: string[] = ['staff']): Subject => ({ identity: { sub: email, iss: 'test', emailVerified: true, email, groups } });
const bob = person('bob@example.org');
const mallory = person('mallory@example.org');
const outcomeFor = (live: LivePolicies, who: Subject, room: string) => decide(who, room, live.current, Date.now()).outcome;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const opened: LivePolicies[] = [];
afterEach(() => {
  for (const live of opened.splice(0)) live.close();
});

/** Opens the directory, watches it, and records every reload event. */
async function watched(dir: string, settleMs: number, pollMs?: number): Promise<{ live: LivePolicies; events: PolicyReloadEvent[] }> {
  const live = await LivePolicies.open(dir, { settleMs });
  opened.push(live);
  const events: PolicyReloadEvent[] = [];
  live.on('reload', (e) => events.push(e));
  live.watch({ debounceMs: 50, ...(pollMs ? { pollMs } : {}) });
  return { live, events };
}

function nextReload(policies: LivePolicies): Promise<PolicyReloadEvent> {
  return new Promise((resolve) => policies.once('reload', resolve));
}

function policyDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'rg-reload-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** The version the directory will have once the writes are done, as a one-shot read judges it. */
function versionOf(dir: string): string {
  const result = loadPolicyDir(dir);
  if (!result.set) throw new Error(JSON.stringify(result.problems));
  return result.set.version;
}

/**
 * Rewrites `path` in place the way scp, `cat > file` and many editors do: truncate, write the first part,
 * pause (running `during`), write the rest.
 */
async function rewriteInPlace(path: string, first: string, rest: string, during: () => Promise<void>): Promise<void> {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, first);
    await during();
    writeSync(fd, rest);
  } finally {
    closeSync(fd);
  }
}

/** Checks `check` again and again for `ms` (at least twice), so it holds through the whole pause. */
async function throughout(ms: number, check: () => void): Promise<void> {
  const until = Date.now() + ms;
  let rounds = 0;
  while (Date.now() < until || rounds < 2) {
    check();
    rounds++;
    await sleep(50);
  }
}

const BOARD = 'rooms: [board]\nallow:\n  - groups: [staff]\ndeny:\n  - emails: [mallory@example.org]\n';
const BOARD_FIRST_HALF = 'rooms: [board]\nallow:\n  - groups: [staff]\n';
const BOARD_REST = 'deny:\n  - emails: [mallory@example.org, eve@example.org]\n';

describe('policy hot reload', () => {
  it('picks up a new file, and keeps the previous set when a change breaks the set', async () => {
    const dir = policyDir({ 'staff.yaml': 'rooms: ["staff-*"]\nallow:\n  - groups: [staff]\n' });
    const { live } = await watched(dir, 200);
    expect(outcomeFor(live, bob, 'lab')).toBe('deny');

    let reloaded = nextReload(live);
    writeFileSync(join(dir, 'lab.yaml'), 'rooms: [lab]\nallow:\n  - emails: [bob@example.org]\n');
    expect((await reloaded).ok).toBe(true);
    expect(outcomeFor(live, bob, 'lab')).toBe('allow');
    const goodVersion = live.current.version;

    reloaded = nextReload(live);
    writeFileSync(join(dir, 'lab.yaml'), 'rooms: [lab]\nallow:\n  - emails: [bob@example.org\n');
    const broken = await reloaded;
    expect(broken.ok).toBe(false);
    expect(broken.problems[0]!.file).toMatch(/lab\.yaml$/);
    expect(live.current.version).toBe(goodVersion);
    expect(outcomeFor(live, bob, 'lab')).toBe('allow');

    reloaded = nextReload(live);
    unlinkSync(join(dir, 'lab.yaml'));
    expect((await reloaded).ok).toBe(true);
    expect(decide(bob, 'lab', live.current, Date.now()).reasons).toEqual(['RG_POLICY_NO_MATCH']);
  });

  it('refuses to start from a broken directory, listing every problem', async () => {
    const dir = policyDir({ 'a.yaml': 'rooms: [a]\n', 'b.yaml': 'allow:\n  - anyone: true\n' });
    const failure = await LivePolicies.open(dir, { settleMs: 100 }).then(() => undefined, (err: unknown) => err);
    expect(failure).toBeInstanceOf(PolicySetError);
    const fields = (failure as PolicySetError).problems.map((p) => `${p.file.split('/').pop()}:${p.field}`);
    expect(fields).toEqual(expect.arrayContaining(['a.yaml:allow', 'b.yaml:rooms']));
  });
});

// The pauses below (at most 0.8 s) stay far below the settle period these tests use (2.5 s), so that a
// slow machine cannot stretch a pause into a set that has legitimately stood still.
describe('a set the admin did not mean is never put in force', () => {
  it('keeps the old set while a file rewritten in place pauses mid-write for longer than the quiet period, then loads only the whole file', async () => {
    const dir = policyDir({ 'board.yaml': BOARD });
    const { live, events } = await watched(dir, 2500);
    const old = live.current.version;
    expect(outcomeFor(live, mallory, 'board')).toBe('deny');
    expect(outcomeFor(live, bob, 'board')).toBe('allow');

    // The first half alone is a valid policy that lets mallory in.
    expect(decide(mallory, 'board', loadPolicyDir(policyDir({ 'board.yaml': BOARD_FIRST_HALF })).set!, Date.now()).outcome).toBe('allow');
    await rewriteInPlace(join(dir, 'board.yaml'), BOARD_FIRST_HALF, BOARD_REST, () => throughout(800, () => {
      expect(live.current.version).toBe(old);
      expect(outcomeFor(live, mallory, 'board')).toBe('deny');
    }));
    await expect.poll(() => events.length, { timeout: 10_000 }).toBe(1);
    expect(events[0]).toMatchObject({ ok: true, version: versionOf(dir) });
    expect(outcomeFor(live, person('eve@example.org'), 'board')).toBe('deny');
    expect(outcomeFor(live, bob, 'board')).toBe('allow');
  });

  it('puts several files rewritten one after another in force together, never half old and half new', async () => {
    const dir = policyDir({
      'a.yaml': 'rooms: [alpha]\nallow:\n  - groups: [staff]\n',
      'b.yaml': 'rooms: [beta]\nallow:\n  - groups: [staff]\n',
    });
    const { live, events } = await watched(dir, 2500);
    writeFileSync(join(dir, 'a.yaml'), 'rooms: [alpha]\nallow:\n  - groups: [staff]\ndeny:\n  - emails: [mallory@example.org]\n');
    await throughout(500, () => expect(outcomeFor(live, mallory, 'alpha')).toBe('allow'));
    writeFileSync(join(dir, 'b.yaml'), 'rooms: [beta]\nallow:\n  - groups: [staff]\ndeny:\n  - emails: [mallory@example.org]\n');
    await expect.poll(() => events.length, { timeout: 10_000 }).toBe(1);
    expect(events[0]).toMatchObject({ ok: true, version: versionOf(dir) });
    expect(outcomeFor(live, mallory, 'alpha')).toBe('deny');
    expect(outcomeFor(live, mallory, 'beta')).toBe('deny');
  });

  it('does not put in force the gap between deleting a file and writing it anew', async () => {
    // Without board.yaml, the catch-all lets every staff member into board.
    const dir = policyDir({ 'board.yaml': BOARD, 'all.yaml': 'rooms: ["*"]\nallow:\n  - groups: [staff]\n' });
    const { live, events } = await watched(dir, 2500);
    unlinkSync(join(dir, 'board.yaml'));
    await throughout(600, () => expect(outcomeFor(live, mallory, 'board')).toBe('deny'));
    writeFileSync(join(dir, 'board.yaml'), BOARD_FIRST_HALF + BOARD_REST);
    await expect.poll(() => events.length, { timeout: 10_000 }).toBe(1);
    expect(events[0]).toMatchObject({ ok: true, version: versionOf(dir) });
    expect(outcomeFor(live, mallory, 'board')).toBe('deny');
  });

  it('makes an explicit reload (what SIGHUP and start-up do) wait for a file still being written instead of loading half of it', async () => {
    const dir = policyDir({ 'board.yaml': BOARD });
    const live = await LivePolicies.open(dir, { settleMs: 2500 });
    opened.push(live);
    let reload: Promise<PolicyReloadEvent> | undefined;
    let opening: Promise<LivePolicies> | undefined;
    await rewriteInPlace(join(dir, 'board.yaml'), BOARD_FIRST_HALF, BOARD_REST, async () => {
      await sleep(100);
      reload = live.reload();
      opening = LivePolicies.open(dir, { settleMs: 2500 });
      await sleep(600);
    });
    const event = await reload!;
    const reopened = await opening!;
    opened.push(reopened);
    expect(event).toMatchObject({ ok: true, version: versionOf(dir) });
    expect(reopened.current.version).toBe(versionOf(dir));
    for (const set of [live, reopened]) expect(outcomeFor(set, mallory, 'board')).toBe('deny');
  });

  it('gives up on a directory that never stands still, with a problem instead of a hang or a half set', async () => {
    const dir = policyDir({ 'board.yaml': BOARD });
    const live = await LivePolicies.open(dir, { settleMs: 100 });
    opened.push(live);
    const writer = setInterval(() => appendFileSync(join(dir, 'board.yaml'), '# still writing\n'), 20);
    try {
      const event = await live.reload();
      expect(event.ok).toBe(false);
      expect(event.problems[0]!.message).toMatch(/kept changing/);
      expect(outcomeFor(live, mallory, 'board')).toBe('deny');
    } finally {
      clearInterval(writer);
    }
  });

  it('never reads editor swap, backup, lock or temporary files as policies, even when the watcher sees them', async () => {
    const dir = policyDir({ 'board.yaml': BOARD, 'other.yaml': 'rooms: [other]\nallow:\n  - groups: [staff]\n' });
    const { live, events } = await watched(dir, 200);
    const letEveryoneIn = 'rooms: [board]\nrisk: low\nallow:\n  - anyone: true\n';
    for (const name of ['.board.yaml.swp', 'board.yaml~', '#board.yaml#', '.#board.yaml', '~$board.yaml', 'board.yaml.bak', '.board.yaml.kate-swp', 'board.yaml___jb_tmp___', '.board.yaml.XyZ123', 'board.YAML']) {
      writeFileSync(join(dir, name), letEveryoneIn);
    }
    // A real change afterwards: its reload is the one that must not carry any of the files above.
    writeFileSync(join(dir, 'other.yaml'), 'rooms: [other]\nallow:\n  - groups: [board]\n');
    await expect.poll(() => events.length, { timeout: 10_000 }).toBe(1);
    expect(events[0]!.files.map((f) => f.file.split('/').pop())).toEqual(['board.yaml', 'other.yaml']);
    expect(outcomeFor(live, mallory, 'board')).toBe('deny');
  });
});

describe('a replaced policy directory is followed', () => {
  it('follows a directory swapped by re-pointing the symbolic link that names it, and watches the new one', async () => {
    const root = mkdtempSync(join(tmpdir(), 'rg-swap-'));
    for (const [version, deny] of [['v1', ''], ['v2', 'deny:\n  - emails: [mallory@example.org]\n']] as const) {
      mkdirSync(join(root, version));
      writeFileSync(join(root, version, 'board.yaml'), `rooms: [board]\nallow:\n  - groups: [staff]\n${deny}`);
    }
    symlinkSync('v1', join(root, 'policies'));
    const { live, events } = await watched(join(root, 'policies'), 200, 200);
    expect(outcomeFor(live, mallory, 'board')).toBe('allow');

    // The atomic swap: a new link beside the old one, renamed over it. No event reaches a watcher on v1.
    symlinkSync('v2', join(root, 'policies.next'));
    renameSync(join(root, 'policies.next'), join(root, 'policies'));
    await expect.poll(() => events.length, { timeout: 10_000 }).toBe(1);
    expect(outcomeFor(live, mallory, 'board')).toBe('deny');

    // The watcher now listens to v2: a change there is picked up; one in v1 is not.
    writeFileSync(join(root, 'v1', 'board.yaml'), 'rooms: [board]\nrisk: low\nallow:\n  - anyone: true\n');
    writeFileSync(join(root, 'v2', 'eve.yaml'), 'rooms: [eve]\nallow:\n  - groups: [staff]\n');
    await expect.poll(() => events.length, { timeout: 10_000 }).toBe(2);
    expect(events[1]!.files.map((f) => f.file.split('/').pop())).toEqual(['board.yaml', 'eve.yaml']);
    expect(outcomeFor(live, mallory, 'board')).toBe('deny');
  });

  it('follows a directory renamed away and replaced by another', async () => {
    const root = mkdtempSync(join(tmpdir(), 'rg-rename-'));
    const dir = join(root, 'policies');
    mkdirSync(dir);
    writeFileSync(join(dir, 'board.yaml'), BOARD_FIRST_HALF);
    // No poll in this test (a minute apart): the moved directory's own event leads to the new one.
    const { live, events } = await watched(dir, 200, 60_000);
    mkdirSync(join(root, 'policies.new'));
    writeFileSync(join(root, 'policies.new', 'board.yaml'), BOARD);
    renameSync(dir, join(root, 'policies.old'));
    renameSync(join(root, 'policies.new'), dir);
    await expect.poll(() => events.filter((e) => e.ok).length, { timeout: 10_000 }).toBe(1);
    expect(outcomeFor(live, mallory, 'board')).toBe('deny');
    // Watching the new directory, not the old one under its new name.
    writeFileSync(join(dir, 'eve.yaml'), 'rooms: [eve]\nallow:\n  - groups: [staff]\n');
    await expect.poll(() => live.current.policies.length, { timeout: 10_000 }).toBe(2);
  });

  it('loads a Kubernetes ConfigMap update (the ..data link swapped) through links that stay inside the directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-configmap-'));
    const publish = (stamp: string, text: string) => {
      mkdirSync(join(dir, stamp));
      writeFileSync(join(dir, stamp, 'board.yaml'), text);
      symlinkSync(stamp, join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    };
    publish('..2024_01_01_00_00_00.1', BOARD_FIRST_HALF);
    symlinkSync('..data/board.yaml', join(dir, 'board.yaml'));
    const { live, events } = await watched(dir, 200);
    expect(outcomeFor(live, mallory, 'board')).toBe('allow');
    publish('..2024_01_01_00_01_00.2', BOARD);
    await expect.poll(() => events.length, { timeout: 10_000 }).toBe(1);
    expect(events[0]!.ok).toBe(true);
    expect(outcomeFor(live, mallory, 'board')).toBe('deny');
    rmSync(join(dir, '..2024_01_01_00_00_00.1'), { recursive: true });
  });
});

describe('a policy file written through a memory mapping', () => {
  /**
   * Pads a policy text with a comment to `size` bytes, so old and new text fill the same mapped bytes; any
   * cut through the padding leaves a comment, so every line-wise prefix of the new text is a valid policy.
   */
  const padded = (text: string, size: number) => `${text}${'#'.repeat(size - text.length - 1)}\n`;
  const SIZE = 600;
  const GROUPS = ['interns', 'vendors', 'alumni', 'press', 'temps', 'students', 'auditors', 'partners-ext', 'guests-ext', 'trainees', 'contractors'];
  // The old text lets staff in; the new one lets anyone in but denies a list of groups, contractors last.
  const OLD = padded('rooms: [lobby]\nallow:\n  - groups: [staff]\n', SIZE);
  const NEW = padded(`rooms: [lobby]\nallow:\n  - anyone: true\ndeny:\n${GROUPS.map((g) => `  - groups: [${g}]\n`).join('')}`, SIZE);
  const contractor = person('carl@example.org', ['contractors']);
  const statOf = (path: string) => { const s = statSync(path, { bigint: true }); return `${s.size}:${s.mtimeNs}:${s.ctimeNs}`; };

  it('never puts the file in force half-written while it is rewritten line by line, and puts the whole text in force once it stands still', async () => {
    const dir = policyDir({ 'lobby.yaml': OLD });
    const { live, events } = await watched(dir, 600, 200);
    expect(outcomeFor(live, contractor, 'lobby')).toBe('deny');
    const writer = await openMmapWriter(join(dir, 'lobby.yaml'));
    // Front to back, one line every 250 ms (each pause shorter than the settle period, the whole well
    // longer): every prefix that ends at a line is a valid policy, and those before the last deny let the
    // contractor in. Only the first write moves the file's times; none raises an event.
    let offset = 0;
    for (const line of NEW.split(/(?<=\n)/)) {
      await writer.write(offset, line);
      offset += Buffer.byteLength(line);
      await throughout(250, () => expect(outcomeFor(live, contractor, 'lobby')).toBe('deny'));
    }
    await writer.close();
    const finalVersion = versionOf(dir);
    await expect.poll(() => live.current.version, { timeout: 10_000 }).toBe(finalVersion);
    expect(events.map((e) => e.version)).toEqual([finalVersion]);
    expect(outcomeFor(live, contractor, 'lobby')).toBe('deny');
    expect(outcomeFor(live, person('pat@example.org', ['partners']), 'lobby')).toBe('allow');
  });

  it('puts in force a change written through a mapping that raised no event and moved no file time (the periodic look reads contents)', async () => {
    const dir = policyDir({ 'lobby.yaml': OLD });
    const path = join(dir, 'lobby.yaml');
    const { live, events } = await watched(dir, 300, 200);
    const writer = await openMmapWriter(path);
    try {
      // The first write to the clean page moves the file's times; the watcher settles on that text.
      const touched = OLD.replace('##', '# ');
      await writer.write(0, touched);
      await expect.poll(() => events.length, { timeout: 10_000 }).toBe(1);
      const before = statOf(path);
      // The page is dirty now: this write moves no time and raises no event. Only the bytes change.
      await writer.write(0, NEW);
      expect(statOf(path)).toBe(before);
      const partner = person('pat@example.org', ['partners']);
      expect(outcomeFor(live, partner, 'lobby')).toBe('deny');
      await expect.poll(() => outcomeFor(live, partner, 'lobby'), { timeout: 10_000 }).toBe('allow');
      expect(outcomeFor(live, contractor, 'lobby')).toBe('deny');
      expect(statOf(path)).toBe(before);
    } finally {
      await writer.close();
    }
  });
});
