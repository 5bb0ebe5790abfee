// Hostile config and policy files: alias bombs, oversized documents, wrong types, and configured paths
// that lead somewhere unexpected. Each gets a clear `file:line: field: message` problem, quickly; none
// crashes or hangs the loader. (Type errors per field: test/unit/config.test.ts, policy-parse.test.ts.)
import { linkSync, mkdtempSync, mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadConfigFile } from '../../src/config/load.js';
import { loadConfigText } from '../../src/config/validate.js';
import { formatProblem } from '../../src/config/yaml-source.js';
import { loadPolicyDir } from '../../src/policy/load.js';
import { EXAMPLE_POLICIES, testConfig, testKeys } from '../helpers/gateway.js';

const BOMB = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...'bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`)].join('\n');

/** A valid config as YAML text, with `changes` merged in at the top level. */
function configYaml(changes: Record<string, unknown> = {}): string {
  const config = testConfig({ port: 8080, issuer: 'http://127.0.0.1:9', clientSecret: 'files-test-secret-0123456789abcdef', upstream: 'http://127.0.0.1:9', store: 'memory', keys: testKeys() });
  return stringify({
    listen: config.listen, publicUrl: config.publicUrl.href, oidc: { issuer: 'http://127.0.0.1:9', clientId: 'x', clientSecret: 'files-test-secret-0123456789abcdef' },
    store: { url: 'memory', allowMemory: true }, backend: { upstream: 'http://127.0.0.1:9' },
    secrets: { encryptionKey: config.secrets.encryptionKey.reveal(), assertionKey: config.secrets.assertionKey.reveal(), auditSigningKey: config.secrets.auditSigningKey.reveal() },
    ...changes,
  });
}

function policyDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'rg-hostile-policies-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('config files', () => {
  it('accepts the baseline config (control for the refusals below)', () => {
    expect(loadConfigText('roomguard.yaml', configYaml(), {}).problems).toEqual([]);
  });

  it('refuses a billion-laughs alias bomb with a problem instead of expanding it', () => {
    const { config, problems } = loadConfigText('roomguard.yaml', `${configYaml()}x-bomb:\n${BOMB.replace(/^/gm, '  ')}\n`, {});
    expect(config).toBeUndefined();
    expect(problems.map(formatProblem).join('\n')).toMatch(/^roomguard\.yaml:1: .*alias/im);
  });

  it('refuses a document over the size limit before parsing it', () => {
    const { problems } = loadConfigText('roomguard.yaml', `${configYaml()}# ${'x'.repeat(300 * 1024)}\n`, {});
    expect(problems.map(formatProblem)).toEqual([expect.stringMatching(/^roomguard\.yaml:1: .*larger than 262144 bytes/)]);
  });

  it('names the file, line and field of a list where a section belongs, a mapping where a URL belongs, and a number where text belongs', () => {
    const text = configYaml({ store: ['memory'], publicUrl: { href: 'https://evil.example' }, listen: 8080 });
    const lines = loadConfigText('roomguard.yaml', text, {}).problems.map(formatProblem);
    expect(lines).toEqual(expect.arrayContaining([
      expect.stringMatching(/^roomguard\.yaml:\d+: store: /),
      expect.stringMatching(/^roomguard\.yaml:\d+: publicUrl: /),
      expect.stringMatching(/^roomguard\.yaml:\d+: listen: /),
    ]));
  });

  it('refuses a config file path that is a directory, with the reason', () => {
    const { problems } = loadConfigFile(mkdtempSync(join(tmpdir(), 'rg-config-dir-')), {});
    expect(problems.map(formatProblem)[0]).toMatch(/cannot read config file: EISDIR/);
  });

  it('refuses a secret file: reference that climbs to a path that does not exist, naming the field but not quoting secrets', () => {
    const { problems } = loadConfigText('roomguard.yaml', configYaml({ oidc: { issuer: 'http://127.0.0.1:9', clientId: 'x', clientSecret: 'file:../../../../../../nonexistent/secret' } }), {});
    const text = problems.map(formatProblem).join('\n');
    expect(text).toMatch(/oidc\.clientSecret/);
    expect(text).toMatch(/ENOENT|does not exist|cannot read/);
  });
});

describe('policy directories', () => {
  it('loads the shipped examples (control)', () => {
    expect(loadPolicyDir(EXAMPLE_POLICIES).problems).toEqual([]);
  });

  it('refuses an alias bomb in a policy file, naming the file', () => {
    const result = loadPolicyDir(policyDir({ 'bomb.yaml': `${BOMB}\nrooms: [x]\nallow:\n  - anyone: true\n` }));
    expect(result.set).toBeUndefined();
    expect(result.problems.map(formatProblem).join('\n')).toMatch(/bomb\.yaml:1: .*alias/i);
  });

  it('refuses an oversized policy file by its size, without reading it into the parser', () => {
    const result = loadPolicyDir(policyDir({ 'huge.yaml': `rooms: [x]\nallow:\n  - anyone: true\n# ${'x'.repeat(300 * 1024)}\n` }));
    expect(result.set).toBeUndefined();
    expect(result.problems.map(formatProblem)).toEqual([expect.stringMatching(/huge\.yaml:1: .*larger than/)]);
  });

  it('rejects the whole set when one file of many is hostile (no partial policy set)', () => {
    const result = loadPolicyDir(policyDir({ 'a-good.yaml': 'rooms: [good]\nallow:\n  - anyone: true\n', 'b-types.yaml': 'rooms: board\nallow: {groups: staff}\nrisk: [high]\n' }));
    expect(result.set).toBeUndefined();
    const lines = result.problems.map(formatProblem);
    expect(lines.every((l) => l.includes('b-types.yaml:'))).toBe(true);
    expect(lines.length).toBeGreaterThanOrEqual(2);
  });

  it('reports a policy directory that does not exist, or is a file, instead of running with no policies', () => {
    const missing = loadPolicyDir(join(tmpdir(), 'rg-no-such-dir', '..', 'rg-no-such-dir-either'));
    expect(missing.set).toBeUndefined();
    expect(missing.problems.map(formatProblem)[0]).toMatch(/cannot read policy directory: ENOENT/);
    const file = join(policyDir({ 'x.yaml': 'rooms: [x]\nallow:\n  - anyone: true\n' }), 'x.yaml');
    expect(loadPolicyDir(file).problems.map(formatProblem)[0]).toMatch(/cannot read policy directory: ENOTDIR/);
  });

  it('refuses a symlinked file that leads outside the directory, naming where it leads (whoever can write there would change the policy)', () => {
    const outside = policyDir({ 'board.yaml': 'rooms: [board]\nrisk: low\nallow:\n  - anyone: true\n' });
    const dir = policyDir({ 'a.yaml': 'rooms: [a]\nallow:\n  - anyone: true\n' });
    symlinkSync(join(outside, 'board.yaml'), join(dir, 'board.yaml'));
    symlinkSync('/etc/hostname', join(dir, 'escape.yaml'));
    const result = loadPolicyDir(dir);
    expect(result.set).toBeUndefined();
    const lines = result.problems.map(formatProblem);
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`board\\.yaml:1: \\(file\\): is a symbolic link to ${realpathSync(outside)}/board\\.yaml, outside the policy directory`)),
      expect.stringMatching(/escape\.yaml:1: \(file\): is a symbolic link to \/etc\/hostname, outside the policy directory/),
    ]);
  });

  it('refuses a link that leaves the directory through a chain of links, or by climbing out with ..', () => {
    const outside = policyDir({ 'board.yaml': 'rooms: [board]\nrisk: low\nallow:\n  - anyone: true\n' });
    const dir = policyDir({});
    symlinkSync(outside, join(dir, 'elsewhere'));
    symlinkSync('elsewhere/board.yaml', join(dir, 'chained.yaml'));
    symlinkSync(`../${basename(outside)}/board.yaml`, join(dir, 'climbing.yaml'));
    const result = loadPolicyDir(dir);
    expect(result.set).toBeUndefined();
    expect(result.problems.map(formatProblem)).toEqual([
      expect.stringMatching(/chained\.yaml:1: .*outside the policy directory/),
      expect.stringMatching(/climbing\.yaml:1: .*outside the policy directory/),
    ]);
  });

  it('reads links that stay inside the directory (a Kubernetes ConfigMap: board.yaml -> ..data/board.yaml)', () => {
    const dir = policyDir({});
    mkdirSync(join(dir, '..2024_01_01_00_00_00.1'));
    writeFileSync(join(dir, '..2024_01_01_00_00_00.1', 'board.yaml'), 'rooms: [board]\nallow:\n  - groups: [board]\n');
    symlinkSync('..2024_01_01_00_00_00.1', join(dir, '..data'));
    symlinkSync('..data/board.yaml', join(dir, 'board.yaml'));
    const result = loadPolicyDir(dir);
    expect(result.problems).toEqual([]);
    expect(result.set?.policies.flatMap((p) => p.rooms)).toEqual(['board']);
  });

  it('reads a policy directory that is itself a symbolic link, and names where it resolves', () => {
    const real = policyDir({ 'a.yaml': 'rooms: [a]\nallow:\n  - anyone: true\n' });
    const link = join(policyDir({}), 'policies');
    symlinkSync(real, link);
    const result = loadPolicyDir(link);
    expect(result.problems).toEqual([]);
    expect(result.notices.map((n) => `${n.file}: ${n.message}`)).toEqual([`${link}: resolves to ${realpathSync(real)}`]);
  });

  it('names a policy file with more than one name (hard links cannot be told apart, only counted)', () => {
    const dir = policyDir({ 'a.yaml': 'rooms: [a]\nallow:\n  - anyone: true\n' });
    linkSync(join(dir, 'a.yaml'), join(policyDir({}), 'copy.txt'));
    const result = loadPolicyDir(dir);
    expect(result.problems).toEqual([]);
    expect(result.notices.map((n) => n.message)).toEqual(['has 2 names (hard links): a change through any of them changes this policy']);
  });

  it('ignores hidden files and editor swap, backup, lock and temporary files, and names the look-alikes', () => {
    const letEveryoneIn = 'rooms: [board]\nrisk: low\nallow:\n  - anyone: true\n';
    const ignored = ['.a.yaml.swp.yaml', '.board.yaml.swp', 'board.yaml~', '#board.yaml#', '.#board.yaml', '~$board.yaml', 'board.yaml.bak', 'board.yml.orig', 'board.YAML'];
    const dir = policyDir({ 'a.yaml': 'rooms: [a]\nallow:\n  - anyone: true\n', ...Object.fromEntries(ignored.map((name) => [name, letEveryoneIn])) });
    const result = loadPolicyDir(dir);
    expect(result.problems).toEqual([]);
    expect(result.set?.policies.flatMap((p) => p.rooms)).toEqual(['a']);
    expect(result.notices.map((n) => basename(n.file)).sort()).toEqual([...ignored].sort());
  });

  it('refuses a directory named like a policy file with a problem naming it', () => {
    const dir = policyDir({ 'a.yaml': 'rooms: [a]\nallow:\n  - anyone: true\n' });
    mkdirSync(join(dir, 'sub.yaml'));
    const result = loadPolicyDir(dir);
    expect(result.set).toBeUndefined();
    expect(result.problems.map(formatProblem)).toEqual([expect.stringMatching(/sub\.yaml: .*EISDIR/)]);
  });
});
