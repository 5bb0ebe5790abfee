// `roomguard compliance report` on a real deployment: a gateway with its own settings writes a real audit
// log (logins, joins, policy loads); the report names that configuration's values, its high-risk rooms, the
// policy set's version, the chain's verification and the checkpoint key's fingerprint, in Markdown and
// printable HTML, and exits 1 exactly when a row the deployment could meet is not met. The reviewer page
// links it, serves it to reviewers, and finds a live person's records by sub under erasable identities.
import { createHash, createPublicKey } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryAudit } from '../../src/audit/query.js';
import { runCli } from '../../src/cli/main.js';
import { signInThrough } from '../helpers/browser.js';
import { testConfigYaml } from '../helpers/gateway.js';
import { CLIENT_SECRET, startRig, type Rig } from '../helpers/rig.js';
import { enrolTotp, loginAs } from '../security/harness.js';
import { until } from '../helpers/until.js';

const EXAMPLES = fileURLToPath(new URL('../../policies', import.meta.url));
const SETTINGS = { session: { idleTimeout: '20m', absoluteTimeout: '8h' }, audit: { retentionDays: 30, identity: 'erasable', reviewers: ['board'] } };

let rig: Rig;
let policies: string;

async function roomguard(...args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await runCli(args, { out: (t) => void (out += t), err: (t) => void (out += t) });
  return { code, out };
}

/** A roomguard.yaml for the rig's deployment; `publicUrl` and `policies` may differ (a file judged, not served). */
function configFile(options: { publicUrl?: string; policiesDir?: string } = {}): string {
  const file = join(mkdtempSync(join(tmpdir(), 'rg-compliance-')), 'roomguard.yaml');
  writeFileSync(file, testConfigYaml({
    port: rig.port, issuer: rig.idp.issuer, clientSecret: CLIENT_SECRET, upstream: rig.upstream.url, store: rig.store, keys: rig.keys, keyPrefix: rig.keyPrefix,
    ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}),
    policiesDir: options.policiesDir ?? policies,
    auditDir: rig.auditDir,
    extra: { session: SETTINGS.session, audit: { dir: rig.auditDir, instance: 'gw-1', ...SETTINGS.audit } },
  }));
  return file;
}

beforeAll(async () => {
  policies = join(mkdtempSync(join(tmpdir(), 'rg-compliance-policies-')), 'policies');
  cpSync(EXAMPLES, policies, { recursive: true });
  rig = await startRig({ policiesDir: policies, config: SETTINGS });
  expect((await signInThrough(rig.origin, 'bob', '/rooms/staff-weekly')).final.status).toBe(200);
  expect((await signInThrough(rig.origin, 'carol', '/rooms/staff-weekly')).final.status).toBe(403);
  // A refusal is recorded best-effort, after the answer: wait for carol's.
  await until('carol\u2019s refusal is recorded', async () => (await queryAudit(rig.auditDir, { type: 'room.decision', outcome: 'deny' })).length > 0 || undefined);
});
afterAll(() => rig?.close());

describe('roomguard compliance report', () => {
  it('names the settings of the deployment, its high-risk rooms and the chain verification, in Markdown and printable HTML', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'rg-report-')), 'report.html');
    const result = await roomguard('compliance', 'report', '--config', configFile(), '--out', out, '--lang', 'en');
    const md = readFileSync(out.replace(/\.html$/, '.md'), 'utf8');
    const page = readFileSync(out, 'utf8');
    for (const text of [md, page]) {
      expect(text).toContain('session.idleTimeout 20 min');
      expect(text).toContain('session.absoluteTimeout 480 min');
      expect(text).toContain('audit.retentionDays 30 days');
      expect(text).toContain('audit.identity erasable');
      expect(text).toMatch(/board \([^)]*board\.yaml\): requires webauthn \/ totp, second factor at most 15 min, idle timeout 15 min/);
      expect(text).toContain('verified, intact');
    }
    // The fingerprint is the SHA-256 of the raw public key, worked out here from the key itself.
    const raw = Buffer.from(createPublicKey(rig.keys.auditSigningKey).export({ format: 'jwk' }).x!, 'base64url');
    expect(md).toContain(createHash('sha256').update(raw).digest('hex'));
    const loaded = (await queryAudit(rig.auditDir, { type: 'policy.loaded' })).at(-1)!;
    expect(md).toContain(`Policy set version | ${loaded.details!.version as string}`);
    expect(page).not.toMatch(/<script|<link|https?:\/\/(?!127\.0\.0\.1)/);
    expect(page).toContain('<code>risk: high</code>');
    // http://127.0.0.1 is no transport encryption, and the example board room accepts TOTP: not AAL3.
    expect(result.out).toContain('not met: DSK-OH 4.1 (transport); BSI APP.5.4: publicUrl http://127.0.0.1');
    expect(result.out).toContain('not met: ASVS 6.3.3 (L3); NIST SP 800-63B AAL3: high-risk rooms that accept more than WebAuthn: board (webauthn, totp)');
    expect(result.code).toBe(1);
  });

  it('exits 0 when every row the deployment could meet is met, and writes German by default', async () => {
    const strict = join(mkdtempSync(join(tmpdir(), 'rg-strict-')), 'policies');
    cpSync(policies, strict, { recursive: true });
    writeFileSync(join(strict, 'board.yaml'), readFileSync(join(strict, 'board.yaml'), 'utf8').replace('methods: [webauthn, totp]', 'methods: [webauthn]'));
    const out = join(mkdtempSync(join(tmpdir(), 'rg-report-')), 'report');
    const result = await roomguard('compliance', 'report', '--config', configFile({ publicUrl: 'https://meet.example.org', policiesDir: strict }), '--out', out);
    expect(result.out).not.toContain('not met:');
    expect(result.code).toBe(0);
    const md = readFileSync(`${out}.md`, 'utf8');
    expect(md).toContain('# Compliance-Bericht');
    expect(md).toContain('0 nicht erfüllt');
    expect(md).toContain('Räume mit hohem Schutzbedarf nehmen nur WebAuthn an: board');
  });

  it('reports a tampered copy of the log as not met, naming the broken place', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'rg-tampered-'));
    cpSync(rig.auditDir, copy, { recursive: true });
    const instance = readdirSync(copy).find((d) => d.startsWith('gw-'))!;
    const segment = join(copy, instance, readdirSync(join(copy, instance)).find((f) => f.endsWith('.jsonl') && f !== 'checkpoints.jsonl')!);
    writeFileSync(segment, readFileSync(segment, 'utf8').replace('"outcome":"deny"', '"outcome":"allow"'));
    const out = join(mkdtempSync(join(tmpdir(), 'rg-report-')), 'report');
    const result = await roomguard('compliance', 'report', '--config', configFile({ publicUrl: 'https://meet.example.org' }), '--audit', copy, '--out', out, '--lang', 'en');
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/not met: BSI OPS\.1\.1\.5\.A12; ASVS 16\.4\.2: audit verify found \d+ problem\(s\), first .*\.jsonl:\d+: /);
    expect(readFileSync(`${out}.md`, 'utf8')).toContain('verification FAILED');
  });

  it('says the log cannot be altered or deleted unnoticed only against checkpoints kept off the host', async () => {
    const offHost = join(mkdtempSync(join(tmpdir(), 'rg-offhost-')), 'checkpoints.jsonl');
    const checkpoint = (await rig.gateway.audit!.checkpoint())!;
    const cpFile = join(rig.auditDir, 'gw-1', 'checkpoints.jsonl');
    await until('the checkpoint reaches checkpoints.jsonl', async () => (existsSync(cpFile) && readFileSync(cpFile, 'utf8').includes(`"seq":${checkpoint.details!.seq as number},`)) || undefined);
    const copy = mkdtempSync(join(tmpdir(), 'rg-copy-'));
    cpSync(rig.auditDir, copy, { recursive: true });
    const instance = readdirSync(copy).find((d) => d === 'gw-1')!;
    cpSync(join(copy, instance, 'checkpoints.jsonl'), offHost);
    const config = configFile({ publicUrl: 'https://meet.example.org' });
    const report = async (...extra: string[]) => {
      const out = join(mkdtempSync(join(tmpdir(), 'rg-report-')), 'report');
      const result = await roomguard('compliance', 'report', '--config', config, '--audit', copy, '--out', out, '--lang', 'en', ...extra);
      return { ...result, md: readFileSync(`${out}.md`, 'utf8') };
    };
    const onHost = await report();
    expect(onHost.out).not.toContain('not met: BSI OPS.1.1.5.A12');
    expect(onHost.md).toContain('verified with the key on this host; deleted instance folders show only against checkpoints kept off the host');
    const checked = await report('--checkpoints', offHost);
    expect(checked.md).toMatch(/records of [^|]*gw-1[^|]* verified against checkpoints or the public key kept off the host/);
    // A whole instance folder deleted: the chain left verifies on its own, the off-host checkpoints tell.
    rmSync(join(copy, instance), { recursive: true });
    expect((await report()).out).not.toContain('not met: BSI OPS.1.1.5.A12');
    const gone = await report('--checkpoints', offHost);
    expect(gone.code).toBe(1);
    expect(gone.out).toMatch(/not met: BSI OPS\.1\.1\.5\.A12; ASVS 16\.4\.2: audit verify found \d+ problem\(s\), first .*checkpoints\.jsonl:\d+: missing/);
  });

  it('flags folders verify does not read, and a directory it cannot read, as not met instead of failing', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'rg-copy-'));
    cpSync(rig.auditDir, copy, { recursive: true });
    renameSync(join(copy, 'gw-1'), join(copy, 'gw 1 (renamed)'));
    const out = join(mkdtempSync(join(tmpdir(), 'rg-report-')), 'report');
    const renamed = await roomguard('compliance', 'report', '--config', configFile({ publicUrl: 'https://meet.example.org' }), '--audit', copy, '--out', out, '--lang', 'en');
    expect(renamed.code).toBe(1);
    expect(renamed.out).toContain('not met: BSI OPS.1.1.5.A12; ASVS 16.4.2: ' + copy + ' holds entries verify does not read: gw 1 (renamed)');
    const broken = mkdtempSync(join(tmpdir(), 'rg-copy-'));
    cpSync(rig.auditDir, broken, { recursive: true });
    const segment = readdirSync(join(broken, 'gw-1')).find((f) => f.endsWith('.jsonl') && f !== 'checkpoints.jsonl')!;
    rmSync(join(broken, 'gw-1', segment));
    mkdirSync(join(broken, 'gw-1', segment));
    const eisdir = await roomguard('compliance', 'report', '--config', configFile({ publicUrl: 'https://meet.example.org' }), '--audit', broken, '--out', out, '--lang', 'en');
    expect(eisdir.code).toBe(1);
    expect(eisdir.out).toMatch(/not met: BSI OPS\.1\.1\.5\.A12; ASVS 16\.4\.2: audit verify found \d+ problem/);
  });

  it('replaces a symlink planted at the report\'s name instead of writing through it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-report-'));
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'keep me');
    symlinkSync(victim, join(dir, 'report.md'));
    await roomguard('compliance', 'report', '--config', configFile(), '--out', join(dir, 'report'));
    expect(readFileSync(victim, 'utf8')).toBe('keep me');
    expect(lstatSync(join(dir, 'report.md')).isSymbolicLink()).toBe(false);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain('# Compliance-Bericht');
  });

  it('judges every configured Redis node, leaves discovered ones to the operator, and the rights rows not met on a memory store', async () => {
    const withStore = (store: string): string => {
      const file = configFile({ publicUrl: 'https://meet.example.org' });
      const text = readFileSync(file, 'utf8');
      expect(text).toMatch(/^store:\n  url: .*\n/m);
      writeFileSync(file, text.replace(/^store:\n  url: .*\n/m, `store:\n${store}`));
      return file;
    };
    const run = async (file: string) => {
      const out = join(mkdtempSync(join(tmpdir(), 'rg-report-')), 'report');
      const result = await roomguard('compliance', 'report', '--config', file, '--out', out, '--lang', 'en');
      return { ...result, md: readFileSync(`${out}.md`, 'utf8') };
    };
    const mixed = await run(withStore('  cluster:\n    nodes: [127.0.0.1:7000, 10.20.30.40:7000]\n'));
    expect(mixed.out).toContain('not met: ASVS 7.2.1, 7.2.3, 7.2.4: Redis 127.0.0.1, 10.20.30.40 is reached without TLS');
    const sentinel = await run(withStore('  sentinel:\n    nodes: [127.0.0.1:26379]\n    name: mymaster\n'));
    expect(sentinel.out).not.toContain('not met: ASVS 7.2.1');
    expect(sentinel.md).toContain('the primary or nodes they hand out must be on this host too');
    const memory = await run(withStore('  url: memory\n  allowMemory: true\n'));
    expect(memory.code).toBe(1);
    expect(memory.out).toContain('not met: GDPR Art. 15: store.url is memory');
    expect(memory.out).toContain('not met: GDPR Art. 17: store.url is memory');
  });

  it('refuses to run without --out, and names a broken configuration', async () => {
    expect((await roomguard('compliance', 'report', '--config', configFile())).code).toBe(2);
    const broken = configFile();
    writeFileSync(broken, `${readFileSync(broken, 'utf8')}\nsession:\n  idleTimeout: 2h\n`);
    expect((await roomguard('compliance', 'report', '--config', broken, '--out', join(tmpdir(), 'never'))).code).toBe(1);
  });
});

describe('the reviewer page', () => {
  let browser: Awaited<ReturnType<typeof loginAs>>['browser'];

  beforeAll(async () => {
    ({ browser } = await loginAs(rig.origin, 'alice'));
    await enrolTotp(rig.origin, browser, '/_roomguard/account', '');
  });

  it('links the compliance report and serves it to reviewers', async () => {
    const page = await (await browser.request(`${rig.origin}/_roomguard/audit`)).text();
    expect(page).toContain('href="/_roomguard/audit/compliance"');
    const res = await browser.request(`${rig.origin}/_roomguard/audit/compliance?lang=en`);
    expect(res.status).toBe(200);
    const report = await res.text();
    expect(report).toContain('session.idleTimeout 20 min');
    expect(report).toContain('verified, intact');
  });

  it('keeps the report from people who are not reviewers', async () => {
    const { browser: bob } = await loginAs(rig.origin, 'bob', '/rooms/staff-weekly');
    const res = await bob.request(`${rig.origin}/_roomguard/audit/compliance`);
    expect(res.status).toBe(403);
    expect(await res.text()).not.toContain('session.idleTimeout');
  });

  it('finds a live person\u2019s records by sub under erasable identities, and only theirs', async () => {
    const records = await queryAudit(rig.auditDir, { type: 'room.decision', room: 'staff-weekly' });
    const bobs = records.find((r) => r.outcome === 'allow')!.actor as { pseudonym: string };
    const carols = records.find((r) => r.outcome === 'deny')!.actor as { pseudonym: string };
    const forBob = await (await browser.request(`${rig.origin}/_roomguard/audit?user=bob&room=staff-weekly`)).text();
    expect(forBob).toContain(bobs.pseudonym.slice(0, 16));
    expect(forBob).not.toContain(carols.pseudonym.slice(0, 16));
    const forCarol = await (await browser.request(`${rig.origin}/_roomguard/audit?user=carol&room=staff-weekly`)).text();
    expect(forCarol).toContain(carols.pseudonym.slice(0, 16));
    expect(forCarol).not.toContain(bobs.pseudonym.slice(0, 16));
  });
});
