// Data subjects' rights against a real gateway, the run's Redis and the real audit chain: bob signs in and
// joins a room under `audit.identity: erasable`; `roomguard privacy export` finds his sessions and records,
// `privacy erase` ends his sessions, shreds his pseudonym key, the chain still verifies, a later export
// finds no record of his, and his next join carries a pseudonym nobody can tie to the old records.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PersonKeys } from '../../src/audit/person-keys.js';
import { queryAudit } from '../../src/audit/query.js';
import { loadConfigFile } from '../../src/config/load.js';
import { openStore } from '../../src/store/open.js';
import type { AuditRecord } from '../../src/audit/record.js';
import { verifyAuditDir } from '../../src/audit/verify.js';
import { runCli } from '../../src/cli/main.js';
import { signInThrough } from '../helpers/browser.js';
import { createInvitation, joinAsGuest, openInvitesPage } from '../helpers/guests.js';
import { testConfigYaml } from '../helpers/gateway.js';
import { CLIENT_SECRET, startRig, type Rig } from '../helpers/rig.js';

let rig: Rig;
let configFile: string;

async function roomguard(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

/** `roomguard audit query` as a process (it prints to its own stdout): the records it finds, as JSON Lines. */
function auditQuery(...args: string[]): AuditRecord[] {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/cli.ts', 'audit', 'query', '--json', ...args], { cwd: new URL('../..', import.meta.url).pathname, encoding: 'utf8', timeout: 30_000 });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return result.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as AuditRecord);
}

const pseudonymOf = (r: AuditRecord): string | undefined => (r.actor && 'pseudonym' in r.actor ? r.actor.pseudonym : undefined);

function writeConfig(extraAudit: Record<string, unknown>): string {
  const file = join(mkdtempSync(join(tmpdir(), 'rg-privacy-')), 'roomguard.yaml');
  writeFileSync(file, testConfigYaml({
    port: rig.port, issuer: rig.idp.issuer, clientSecret: CLIENT_SECRET, upstream: rig.upstream.url, store: rig.store, keys: rig.keys, keyPrefix: rig.keyPrefix,
    extra: { audit: { dir: rig.auditDir, instance: 'gw-1', identity: 'erasable', ...extraAudit } },
  }));
  return file;
}

beforeAll(async () => {
  rig = await startRig({ config: { audit: { identity: 'erasable' } } });
  configFile = writeConfig({});
});
afterAll(() => rig?.close());

describe('privacy export and erase (audit.identity: erasable)', () => {
  let before: string;

  it('records people under a pseudonym of their own, and audit query --user finds them by sub', async () => {
    expect((await signInThrough(rig.origin, 'bob', '/rooms/staff-weekly')).final.status).toBe(200);
    expect((await signInThrough(rig.origin, 'carol', '/rooms/staff-weekly')).final.status).toBe(403);
    // A refusal is recorded best-effort, after the answer: wait for carol's.
    await expect.poll(async () => (await queryAudit(rig.auditDir, { type: 'room.decision', outcome: 'deny' })).length).toBeGreaterThan(0);
    const records = await queryAudit(rig.auditDir, { type: 'room.decision' });
    const bobs = records.filter((r) => r.outcome === 'allow');
    expect(bobs.length).toBeGreaterThan(0);
    before = pseudonymOf(bobs[0]!)!;
    expect(before).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(records)).not.toContain('"sub":"bob"');
    // carol's records carry a pseudonym of her own.
    expect(pseudonymOf(records.find((r) => r.outcome === 'deny')!)).not.toBe(before);
    const found = auditQuery('--user', 'bob', '--type', 'room.decision', '--config', configFile);
    expect(found.length).toBeGreaterThan(0);
    expect(found.every((r) => pseudonymOf(r) === before)).toBe(true);
  });

  it('exports the sessions, factors and audit records of bob as JSON and a readable page, and audits the export', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'rg-export-')), 'bob');
    const result = await roomguard('privacy', 'export', '--user', 'bob', '--config', configFile, '--out', dir, '--lang', 'en');
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    const data = JSON.parse(readFileSync(join(dir, 'subject.json'), 'utf8')) as { sessions: unknown[]; audit: AuditRecord[]; factors: { factors: unknown[] } };
    expect(data.sessions.length).toBe(1);
    expect(data.audit.some((r) => r.type === 'room.decision' && r.outcome === 'allow' && r.room === 'staff-weekly')).toBe(true);
    // Only bob's: carol's denial is not in it.
    expect(data.audit.every((r) => pseudonymOf(r) === before)).toBe(true);
    expect(readFileSync(join(dir, 'subject.html'), 'utf8')).toContain('staff-weekly');
    const exports = await queryAudit(rig.auditDir, { type: 'privacy.export' });
    expect(exports).toHaveLength(1);
    // Neither the person nor how much of theirs: a pseudonym or counts here would point at their records.
    expect(exports[0]!.actor).toBeUndefined();
    expect(exports[0]!.details).toEqual({ operator: expect.stringMatching(/^cli:/), written: 'files' });
  });

  it('seals client address and user agent under the person\'s own key, and opens them only in their export', async () => {
    const own = (await queryAudit(rig.auditDir, { type: 'room.decision' })).filter((r) => pseudonymOf(r) === before && r.client !== undefined);
    expect(own.length).toBeGreaterThan(0);
    for (const r of own) {
      expect(r.client!.userAgent).toMatch(/^enc1:/);
      expect(r.client!.ip).toMatch(/^enc1:/);
    }
    const exported = JSON.parse((await roomguard('privacy', 'export', '--user', 'bob', '--config', configFile)).out) as { audit: AuditRecord[] };
    const opened = exported.audit.filter((r) => r.client !== undefined);
    expect(opened.length).toBeGreaterThan(0);
    expect(opened.map((r) => r.client)).toEqual(opened.map(() => ({ ip: '127.0.0.0/24', userAgent: 'node' })));
  });

  it('matches the person by sub only: neither their pseudonym nor their e-mail address finds their records', async () => {
    const carols = (await queryAudit(rig.auditDir, { type: 'room.decision', outcome: 'deny' })).map(pseudonymOf).find((p) => p !== undefined && p !== before)!;
    for (const input of [carols, before, 'bob@example.org', 'BOB@example.org']) {
      const data = JSON.parse((await roomguard('privacy', 'export', '--user', input, '--config', configFile)).out) as { audit: unknown[]; sessions: unknown[] };
      expect(data.audit).toEqual([]);
      expect(data.sessions).toEqual([]);
    }
  });

  it('makes no pseudonym key for whoever is exported', async () => {
    const { config } = loadConfigFile(configFile);
    const store = await openStore(config!);
    try {
      const keys = new PersonKeys(store, 30);
      expect(await keys.existingPseudonym('nobody-here')).toBeUndefined();
      expect((await roomguard('privacy', 'export', '--user', 'nobody-here', '--config', configFile)).code).toBe(0);
      expect(await keys.existingPseudonym('nobody-here')).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('writes an export only into a new directory of its own, never through a symlink', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'rg-export-'));
    const dir = join(parent, 'planted');
    mkdirSync(dir);
    const victim = join(parent, 'victim');
    writeFileSync(victim, 'keep me');
    symlinkSync(victim, join(dir, 'subject.html'));
    const result = await roomguard('privacy', 'export', '--user', 'bob', '--config', configFile, '--out', dir);
    expect(result.code).toBe(1);
    expect(result.err).toContain('exists');
    expect(readFileSync(victim, 'utf8')).toBe('keep me');
    expect(existsSync(join(dir, 'subject.json'))).toBe(false);
  });

  it('refuses store.url memory: the command would work on an empty store of its own', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'rg-privacy-')), 'roomguard.yaml');
    writeFileSync(file, testConfigYaml({
      port: rig.port, issuer: rig.idp.issuer, clientSecret: CLIENT_SECRET, upstream: rig.upstream.url, store: 'memory', keys: rig.keys,
      extra: { audit: { dir: rig.auditDir, instance: 'gw-1', identity: 'erasable' } },
    }));
    for (const command of ['export', 'erase']) {
      const result = await roomguard('privacy', command, '--user', 'bob', '--config', file);
      expect(result.code).toBe(1);
      expect(result.err).toContain('store.url is "memory"');
    }
  });

  it('erases nothing when the erasure cannot be recorded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-audit-'));
    // The command line's chain folder is a plain file: no record can be written there.
    writeFileSync(join(dir, 'gw-1-cli'), 'not a folder');
    const broken = join(mkdtempSync(join(tmpdir(), 'rg-privacy-')), 'roomguard.yaml');
    writeFileSync(broken, readFileSync(configFile, 'utf8').replace(rig.auditDir, dir));
    expect(readFileSync(broken, 'utf8')).toContain(dir);
    const result = await roomguard('privacy', 'erase', '--user', 'bob', '--config', broken, '--force').catch((err: Error) => ({ code: -1, out: '', err: err.message }));
    expect(result.code).not.toBe(0);
    const still = JSON.parse((await roomguard('privacy', 'export', '--user', 'bob', '--config', configFile)).out) as { audit: AuditRecord[]; sessions: unknown[] };
    expect(still.audit.some((r) => r.type === 'room.decision')).toBe(true);
    expect(still.sessions).toHaveLength(1);
  });

  it('holds the key by its own age when the config names another audit.dir, and warns that no record was found', async () => {
    const elsewhere = join(mkdtempSync(join(tmpdir(), 'rg-privacy-')), 'roomguard.yaml');
    writeFileSync(elsewhere, readFileSync(writeConfig({ legalRetentionDays: 30 }), 'utf8').replace(rig.auditDir, mkdtempSync(join(tmpdir(), 'rg-other-audit-'))));
    const result = await roomguard('privacy', 'erase', '--user', 'bob', '--config', elsewhere);
    expect(result.code).toBe(1);
    expect(result.out).toContain('NOT shredded');
    expect(result.out).toContain('no audit record under it was found');
    const still = JSON.parse((await roomguard('privacy', 'export', '--user', 'bob', '--config', configFile)).out) as { audit: AuditRecord[] };
    expect(still.audit.some((r) => r.type === 'room.decision')).toBe(true);
  });

  it('keeps records inside the legal retention period linkable unless --force, and says so', async () => {
    const held = writeConfig({ legalRetentionDays: 30 });
    const result = await roomguard('privacy', 'erase', '--user', 'bob', '--config', held);
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/NOT shredded: \d+ audit record\(s\) found, and the pseudonym key was in use, inside the legal retention period \(audit.legalRetentionDays: 30\)/);
    // The key is still there: the export still finds bob's records.
    const again = JSON.parse((await roomguard('privacy', 'export', '--user', 'bob', '--config', configFile)).out) as { audit: AuditRecord[]; sessions: unknown[] };
    expect(again.audit.some((r) => r.type === 'room.decision')).toBe(true);
    expect(again.sessions).toHaveLength(0);
  });

  it('after erase --force, audit verify passes, export finds no record of bob, and his next join has a new pseudonym', async () => {
    const held = writeConfig({ legalRetentionDays: 30 });
    const result = await roomguard('privacy', 'erase', '--user', 'bob', '--config', held, '--force');
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/shredded the pseudonym key of \d+ audit record\(s\)/);
    const report = await verifyAuditDir(rig.auditDir, { signingKeyPem: rig.keys.auditSigningKey });
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    const exported = JSON.parse((await roomguard('privacy', 'export', '--user', 'bob', '--config', configFile)).out) as { audit: AuditRecord[] };
    expect(exported.audit).toEqual([]);
    expect(auditQuery('--user', 'bob', '--type', 'room.decision', '--config', configFile)).toEqual([]);
    // Nothing in the log carries bob's old pseudonym's key any more; the old records are still there.
    expect((await queryAudit(rig.auditDir, { user: before })).length).toBeGreaterThan(0);
    const erase = await queryAudit(rig.auditDir, { type: 'privacy.erase' });
    expect(erase.at(-1)!.actor).toBeUndefined();
    // Nothing that points at the person: no counts of what was theirs.
    expect(erase.at(-1)!.details).toEqual({ operator: expect.stringMatching(/^cli:/), forced: true });
    expect((await signInThrough(rig.origin, 'bob', '/rooms/staff-weekly')).final.status).toBe(200);
    const latest = (await queryAudit(rig.auditDir, { type: 'room.decision', outcome: 'allow' })).at(-1)!;
    expect(pseudonymOf(latest)).toMatch(/^[0-9a-f]{64}$/);
    expect(pseudonymOf(latest)).not.toBe(before);
  });

  it('exports the invitations a moderator created with the guests they admitted, and erase forgets the creator', async () => {
    const { browser } = await openInvitesPage(rig.origin, 'town-hall', 'alice');
    const { link } = await createInvitation(browser, rig.origin, 'town-hall', { note: 'Auditor visit' });
    expect(link).toBeDefined();
    expect((await joinAsGuest(link!, 'Guest Gina')).final.status).toBe(200);
    const before = JSON.parse((await roomguard('privacy', 'export', '--user', 'alice', '--config', configFile)).out) as { invitations: Array<{ room: string; note: string; admissions: Array<{ name: string }> }>; sessions: unknown[] };
    expect(before.invitations).toHaveLength(1);
    expect(before.invitations[0]).toMatchObject({ room: 'town-hall', note: 'Auditor visit', admissions: [{ name: 'Guest Gina' }] });
    expect(before.sessions).toHaveLength(1);
    // bob created none: his export names no invitation.
    expect((JSON.parse((await roomguard('privacy', 'export', '--user', 'bob', '--config', configFile)).out) as { invitations: unknown[] }).invitations).toEqual([]);

    const result = await roomguard('privacy', 'erase', '--user', 'alice', '--config', configFile);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/^alice: ended 1 session\(s\)/);
    expect(result.out).toContain('forgot alice as the creator or revoker of 1 guest invitation(s)');
    const listed = JSON.parse((await roomguard('invite', 'list', '--room', 'town-hall', '--config', configFile, '--json')).out) as Array<{ createdBy: string }>;
    expect(listed.map((i) => i.createdBy)).toEqual(['(erased)']);
    expect(JSON.stringify(listed)).not.toMatch(/alice/i);
  });
});
