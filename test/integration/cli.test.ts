// The command line as admins run it: real processes, real files, exit codes and file:line output.
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { linkSync, mkdtempSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { generateAssertionKeyPem, generateAuditSigningKeyPem, generateEncryptionKey } from '../../src/config/keys.js';
import { portOf } from '../helpers/ports.js';

const ROOT = new URL('../..', import.meta.url).pathname;
// Each command is a fresh Node process compiling TypeScript (~3 s, far more on a loaded CI machine), and
// some tests run five of them: the time limit is about the machine, not about roomguard.
vi.setConfig({ testTimeout: 120_000 });

function roomguard(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/cli.ts', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('roomguard demo', () => {
  it('ends with the error when its port is taken, instead of hanging with its IdP and conference still open', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    try {
      const out = roomguard(['demo', '--port', String(portOf(holder)), '--data', mkdtempSync(join(tmpdir(), 'rg-cli-demo-'))]);
      expect(out.stderr).toMatch(/EADDRINUSE/);
      expect(out.code).toBe(1);
    } finally {
      holder.close();
    }
  });
});

describe('roomguard config check', () => {
  it('accepts the shipped example once its secrets exist', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-cli-'));
    const pem = join(dir, 'assertion.pem');
    const redisPassword = join(dir, 'redis-password');
    writeFileSync(pem, generateAssertionKeyPem());
    const auditPem = join(dir, 'audit-signing.pem');
    writeFileSync(auditPem, generateAuditSigningKeyPem());
    writeFileSync(redisPassword, 'hunter2\n');
    const text = readExample().replace('/etc/roomguard/assertion.pem', pem).replace('/run/secrets/redis-password', redisPassword).replace('/etc/roomguard/audit-signing.pem', auditPem);
    writeFileSync(join(dir, 'roomguard.yaml'), text);
    const out = roomguard(['config', 'check', '--config', join(dir, 'roomguard.yaml')], { ROOMGUARD_OIDC_SECRET: 's3cret', ROOMGUARD_ENCRYPTION_KEY: generateEncryptionKey() });
    expect(out.stdout).toContain(': ok');
    expect(out.code).toBe(0);
  });

  it('prints every problem as file:line: field: message and exits 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-cli-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'publicUrl: http://meet.example.org\nsession:\n  idleTimeout: 3h\nbogus: 1\n');
    const out = roomguard(['config', 'check', '--config', file], {});
    expect(out.code).toBe(1);
    expect(out.stdout).toContain(`${file}:4: bogus: unknown key`);
    expect(out.stdout).toContain(`${file}:3: session.idleTimeout: must be at most 1h`);
    expect(out.stdout).toMatch(/oidc\.issuer: required/);
    expect(out.stdout).toMatch(/\d+ problems found/);
  });

  it('rejects unknown flags with exit 2', () => {
    const out = roomguard(['config', 'check', '--confg', 'x']);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('usage: roomguard');
  });

  it('reports a misspelt ROOMGUARD_ variable by name and exits 1; warns about a secret in the file and exits 0', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-cli-'));
    const file = join(dir, 'roomguard.yaml');
    const pem = join(dir, 'assertion.pem');
    const auditPem = join(dir, 'audit.pem');
    writeFileSync(pem, generateAssertionKeyPem());
    writeFileSync(auditPem, generateAuditSigningKeyPem());
    writeFileSync(file, [
      'publicUrl: https://meet.example.org',
      'oidc: { issuer: https://id.example.org, clientId: roomguard, clientSecret: hunter2 }',
      'backend: { upstream: http://127.0.0.1:8000 }',
      `secrets: { encryptionKey: env:RG_CLI_KEY, assertionKey: file:${pem}, auditSigningKey: file:${auditPem} }`,
    ].join('\n'));
    const env = { RG_CLI_KEY: generateEncryptionKey() };
    const misspelt = roomguard(['config', 'check', '--config', file], { ...env, ROOMGUARD_SESION_IDLE_TIMEOUT: '5m' });
    expect(misspelt.code).toBe(1);
    expect(misspelt.stdout).toContain('$ROOMGUARD_SESION_IDLE_TIMEOUT: (environment): unknown variable (did you mean ROOMGUARD_SESSION_IDLE_TIMEOUT, which sets session.idleTimeout?)');
    expect(misspelt.stdout).toContain('1 problem found');
    const warned = roomguard(['config', 'check', '--config', file], env);
    expect(warned.stdout).toBe(`${file}:2: oidc.clientSecret: warning: the secret is written into the config file; keep it out of the file: env:NAME reads it from the environment variable NAME, file:/path from a file only roomguard can read\n${file}: ok (1 warning)\n`);
    expect(warned.stdout).not.toContain('hunter2');
    expect(warned.code).toBe(0);
  });
});

describe('roomguard conventions, in a real process', () => {
  it('--version, and --help on a command and a group, exit 0 on stdout', () => {
    const version = roomguard(['--version']);
    expect(version).toEqual({ code: 0, stdout: `roomguard ${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version}\n`, stderr: '' });
    const serve = roomguard(['serve', '--help']);
    expect(serve.code).toBe(0);
    expect(serve.stdout).toMatch(/^usage: roomguard serve \[--config FILE\]/);
    const config = roomguard(['config', '--help']);
    expect(config.code).toBe(0);
    expect(config.stdout).toMatch(/^usage: roomguard config <check>/);
  });
});

describe('roomguard policy check / explain', () => {
  it('accepts the shipped example policies', () => {
    const out = roomguard(['policy', 'check', 'policies']);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/3 policy files ok/);
  });

  it('lists every problem of a broken directory and exits 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-pol-'));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'a.yaml'), 'rooms: [team-*]\nallow:\n  - groups: [staff]\n');
    writeFileSync(join(dir, 'b.yaml'), 'rooms: [team-*]\nallow:\n  - anyone: false\n');
    writeFileSync(join(dir, 'c.yaml'), 'rooms: [x]\nrisk: extreme\nallow:\n  - emails: [not-an-email]\n');
    const out = roomguard(['policy', 'check', dir]);
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/b\.yaml:3: allow\[0\]\.anyone: must be true/);
    expect(out.stdout).toMatch(/c\.yaml:2: risk: must be low, normal or high/);
    expect(out.stdout).toMatch(/c\.yaml:4: allow\[0\]\.emails\[0\]: "not-an-email" is not an e-mail address/);
  });

  it('reports two files judging the same rooms equally', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-pol-'));
    writeFileSync(join(dir, 'a.yaml'), 'rooms: [team-*]\nallow:\n  - groups: [staff]\n');
    writeFileSync(join(dir, 'b.yaml'), 'rooms: ["*-team"]\nallow:\n  - groups: [staff]\n');
    const out = roomguard(['policy', 'check', dir]);
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/b\.yaml:1: rooms\[0\]: "\*-team" and "team-\*" in .*a\.yaml match the same rooms equally/);
  });

  it('names a link out of the directory as a problem, and a linked directory, hard links and ignored look-alikes as notes', () => {
    const root = mkdtempSync(join(tmpdir(), 'rg-pol-links-'));
    mkdirSync(join(root, 'v1'));
    writeFileSync(join(root, 'v1', 'a.yaml'), 'rooms: [a]\nallow:\n  - groups: [staff]\n');
    writeFileSync(join(root, 'v1', 'a.yaml~'), 'rooms: [a]\nallow:\n  - anyone: true\n');
    linkSync(join(root, 'v1', 'a.yaml'), join(root, 'a-elsewhere.txt'));
    symlinkSync('v1', join(root, 'policies'));
    const ok = roomguard(['policy', 'check', join(root, 'policies')]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`${join(root, 'policies')}: note: resolves to ${join(root, 'v1')}`);
    expect(ok.stdout).toMatch(/a\.yaml: note: has 2 names \(hard links\)/);
    expect(ok.stdout).toMatch(/a\.yaml~: note: ignored: not a policy file name/);
    expect(ok.stdout).toMatch(/1 policy file ok/);

    writeFileSync(join(root, 'outside.yaml'), 'rooms: [b]\nallow:\n  - anyone: true\n');
    symlinkSync(join(root, 'outside.yaml'), join(root, 'v1', 'b.yaml'));
    const refused = roomguard(['policy', 'check', join(root, 'policies')]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain(`b.yaml:1: (file): is a symbolic link to ${join(root, 'outside.yaml')}, outside the policy directory`);
  });

  it('explains an allow with policy file, rule and role', () => {
    const out = roomguard(['policy', 'explain', '--dir', 'policies', '--room', 'Town-Hall', '--email', 'alice@example.org', '--groups', 'board-chair', '--json']);
    expect(out.code).toBe(0);
    const decision = JSON.parse(out.stdout);
    expect(decision).toMatchObject({ outcome: 'allow', room: 'town-hall', role: 'moderator', rule: { kind: 'allow', index: 0 }, policy: { pattern: 'town-hall' } });
    expect(decision.policy.file).toMatch(/town-hall\.yaml$/);
  });

  it('explains the second-factor step and its freshness', () => {
    const needs = roomguard(['policy', 'explain', '--dir', 'policies', '--room', 'board', '--email', 'alice@example.org', '--groups', 'board']);
    expect(needs.stdout).toMatch(/decision:\s+mfa/);
    expect(needs.stdout).toContain('RG_MFA_REQUIRED');
    const stale = roomguard(['policy', 'explain', '--dir', 'policies', '--room', 'board', '--email', 'alice@example.org', '--groups', 'board', '--mfa', 'totp', '--mfa-age', '20m']);
    expect(stale.stdout).toContain('RG_MFA_TOO_OLD');
    const fresh = roomguard(['policy', 'explain', '--dir', 'policies', '--room', 'board', '--email', 'alice@example.org', '--groups', 'board', '--mfa', 'webauthn', '--mfa-age', '2m']);
    expect(fresh.stdout).toMatch(/decision:\s+allow/);
  });

  it('explains a denial and a room without policy', () => {
    const deny = roomguard(['policy', 'explain', '--dir', 'policies', '--room', 'town-hall', '--email', 'x@example.org', '--groups', 'contractors']);
    expect(deny.stdout).toMatch(/decision:\s+deny/);
    expect(deny.stdout).toMatch(/rule:\s+deny\[0\]/);
    const none = roomguard(['policy', 'explain', '--dir', 'policies', '--room', 'nowhere', '--email', 'x@example.org']);
    expect(none.stdout).toContain('RG_POLICY_NO_MATCH');
  });

  it('refuses an invalid room name with exit 2', () => {
    const out = roomguard(['policy', 'explain', '--dir', 'policies', '--room', 'a/b']);
    expect(out.code).toBe(2);
  });

  it('reads Keycloak group paths through the config\'s profile: /staff is staff, /org/staff is not', () => {
    const file = profileConfig('keycloak');
    const staff = roomguard(['policy', 'explain', '--config', file, '--groups', '/staff', '--room', 'staff-weekly'], { ROOMGUARD_OIDC_SECRET: 's3cret' });
    expect(staff.stdout).toMatch(/groups:\s+staff \(sent as \/staff\)/);
    expect(staff.stdout).toMatch(/decision:\s+allow/);
    const nested = roomguard(['policy', 'explain', '--config', file, '--groups', '/org/staff', '--room', 'staff-weekly'], { ROOMGUARD_OIDC_SECRET: 's3cret' });
    expect(nested.stdout).toMatch(/groups:\s+org\/staff/);
    expect(nested.stdout).toMatch(/decision:\s+deny/);
    // The generic profile takes the value as sent, so the same path is no group a policy names.
    const generic = roomguard(['policy', 'explain', '--dir', 'policies', '--groups', '/staff', '--room', 'staff-weekly']);
    expect(generic.stdout).toMatch(/decision:\s+deny/);
  });

  it('reads raw Entra ID claims: group ids renamed by oidc.groupNames, app roles as groups', () => {
    const file = profileConfig('entra', ['groupNames: ["3f9ac1d2-5b7e-4c1a-9e0f-2d8b6a4c7e11=staff"]']);
    const env = { ROOMGUARD_OIDC_SECRET: 's3cret' };
    const claims = JSON.stringify({ sub: 'AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ', oid: '00000000-0000-0000-66f3-3332eca7ea81', email: 'bob@example.org', groups: ['3f9ac1d2-5b7e-4c1a-9e0f-2d8b6a4c7e11'] });
    const byId = roomguard(['policy', 'explain', '--config', file, '--claims', claims, '--room', 'staff-weekly', '--json'], env);
    const parsed = JSON.parse(byId.stdout) as { outcome: string; groups: Array<{ sent: string; group: string }> };
    expect(parsed.groups).toEqual([{ sent: '3f9ac1d2-5b7e-4c1a-9e0f-2d8b6a4c7e11', group: 'staff' }]);
    expect(parsed.outcome).toBe('allow');
    const otherId = roomguard(['policy', 'explain', '--config', file, '--claims', JSON.stringify({ groups: ['77b0e4a1-0000-4000-8000-000000000000'] }), '--room', 'staff-weekly'], env);
    expect(otherId.stdout).toMatch(/decision:\s+deny/);
    const role = roomguard(['policy', 'explain', '--config', file, '--claims', JSON.stringify({ roles: ['staff'] }), '--room', 'staff-weekly'], env);
    expect(role.stdout).toMatch(/decision:\s+allow/);
  });

  it('explains a deny by an incomplete group list (Entra overage) and matches upper-case object ids in oidc.groupNames (attack 17)', () => {
    const file = profileConfig('entra', ['groupNames: ["3F9AC1D2-5B7E-4C1A-9E0F-2D8B6A4C7E11=staff"]']);
    const env = { ROOMGUARD_OIDC_SECRET: 's3cret' };
    const overage = roomguard(['policy', 'explain', '--config', file, '--claims', JSON.stringify({ _claim_names: { groups: 'src1' }, _claim_sources: { src1: { endpoint: 'https://graph.microsoft.com/v1.0/users/x/getMemberObjects' } } }), '--room', 'town-hall'], env);
    expect(overage.stdout).toMatch(/decision:\s+deny/);
    expect(overage.stdout).toMatch(/rule:\s+deny\[0\]/);
    expect(overage.stdout).toMatch(/groups incomplete/);
    const whole = roomguard(['policy', 'explain', '--config', file, '--claims', JSON.stringify({ groups: ['3f9ac1d2-5b7e-4c1a-9e0f-2d8b6a4c7e11'] }), '--room', 'town-hall'], env);
    expect(whole.stdout).toMatch(/decision:\s+allow/);
    expect(whole.stdout).toMatch(/groups:\s+staff \(sent as 3f9ac1d2/);
  });

  it('refuses --claims that are not a JSON object, and --claims with --groups', () => {
    expect(roomguard(['policy', 'explain', '--dir', 'policies', '--claims', '[1]', '--room', 'staff-weekly']).code).toBe(2);
    expect(roomguard(['policy', 'explain', '--dir', 'policies', '--claims', '{}', '--groups', 'x', '--room', 'staff-weekly']).code).toBe(2);
  });
});

/** A valid roomguard.yaml with `oidc.profile` (and more oidc lines), the example policies, fresh keys. */
function profileConfig(profile: string, oidcLines: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'rg-cli-profile-'));
  writeFileSync(join(dir, 'assertion.pem'), generateAssertionKeyPem());
  writeFileSync(join(dir, 'audit.pem'), generateAuditSigningKeyPem());
  const file = join(dir, 'roomguard.yaml');
  writeFileSync(file, [
    'publicUrl: https://meet.example.org',
    'oidc:',
    '  issuer: https://id.example.org/realms/staff',
    '  clientId: roomguard',
    '  clientSecret: env:ROOMGUARD_OIDC_SECRET',
    `  profile: ${profile}`,
    ...oidcLines.map((line) => `  ${line}`),
    `policies: { dir: ${JSON.stringify(join(ROOT, 'policies'))} }`,
    'backend: { upstream: "http://127.0.0.1:9000" }',
    `secrets: { encryptionKey: ${JSON.stringify(generateEncryptionKey())}, assertionKey: ${JSON.stringify(`file:${join(dir, 'assertion.pem')}`)}, auditSigningKey: ${JSON.stringify(`file:${join(dir, 'audit.pem')}`)} }`,
  ].join('\n'));
  return file;
}

function readExample(): string {
  return readFileSync(join(ROOT, 'examples/roomguard.yaml'), 'utf8');
}

describe('roomguard mfa', () => {
  it('lists, unlocks and resets a person\'s second factors in the real store', async () => {
    const { inject } = await import('vitest');
    const { stringify } = await import('yaml');
    const { loadConfigText } = await import('../../src/config/validate.js');
    const { openStore } = await import('../../src/store/open.js');
    const { FactorStore, userKey } = await import('../../src/mfa/factors.js');
    const dir = mkdtempSync(join(tmpdir(), 'rg-mfa-cli-'));
    const file = join(dir, 'roomguard.yaml');
    writeFileSync(file, stringify({
      publicUrl: 'http://127.0.0.1:8080',
      oidc: { issuer: 'http://127.0.0.1:9', clientId: 'x', clientSecret: 'y' },
      store: { url: inject('redisUrl'), keyPrefix: `rgcli:${process.pid}:` },
      backend: { upstream: 'http://127.0.0.1:9' },
      secrets: { encryptionKey: generateEncryptionKey(), assertionKey: generateAssertionKeyPem(), auditSigningKey: generateAuditSigningKeyPem() },
    }));
    const config = loadConfigText(file, readFileSync(file, 'utf8'), {}).config!;
    const store = await openStore(config);
    const user = userKey('dora');
    const doc = await new FactorStore(store).load(user);
    doc.factors.push({ kind: 'totp', id: 'f1', name: 'Dora phone', secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', lastTimeStep: 0, createdAt: Date.UTC(2026, 0, 2) });
    doc.recovery = { hashes: ['scrypt$a$b', 'scrypt$c$d'], createdAt: 0 };
    await new FactorStore(store).save(user, doc);
    await store.set(`mfa:hardlock:${user}`, '1', 60_000);
    await store.close();

    const listed = roomguard(['mfa', 'list', '--user', 'dora', '--config', file]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('dora: 1 factor(s), 2 recovery code(s) left, LOCKED');
    expect(listed.stdout).toContain('Dora phone');
    expect(roomguard(['mfa', 'unlock', '--user', 'dora', '--config', file]).code).toBe(0);
    expect(roomguard(['mfa', 'list', '--user', 'dora', '--config', file]).stdout).not.toContain('LOCKED');
    expect(roomguard(['mfa', 'reset', '--user', 'dora', '--config', file]).stdout).toContain('removed 1 factor(s)');
    const json = JSON.parse(roomguard(['mfa', 'list', '--user', 'dora', '--config', file, '--json']).stdout);
    expect(json).toMatchObject({ user: 'dora', factors: [], recoveryCodesLeft: 0, hardLocked: false });
    expect(roomguard(['mfa', 'list', '--config', file]).code).toBe(2);
  });
});
