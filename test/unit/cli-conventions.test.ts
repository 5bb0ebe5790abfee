// The command line's conventions (issue 16), in process against the one command table: --help/-h on
// every command and group (exit 0, that command's own usage), --version/-V, usage errors with exit 2,
// completion scripts that real bash, zsh and fish load and that offer what the parser accepts, and the
// audit and invite implementations accepting every option the table lists for them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { COMMANDS, GROUPS, nameOf, type CommandSpec } from '../../src/cli/table.js';
import { unsupportedRuntime } from '../../src/cli/version.js';
import { runAuditCommand } from '../../src/cli/audit-commands.js';
import { runInviteCommand } from '../../src/cli/invite-commands.js';

const PACKAGE = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string; engines: { node: string } };

async function cli(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

describe('--help and -h', () => {
  it.each(COMMANDS.map((c) => [nameOf(c), c] as const))('roomguard %s --help: exit 0, its own usage and every option', async (_name, spec: CommandSpec) => {
    for (const flag of ['--help', '-h']) {
      const { code, out, err } = await cli(...spec.path, flag);
      expect(code).toBe(0);
      expect(err).toBe('');
      expect(out.startsWith(`usage: roomguard ${nameOf(spec)}`)).toBe(true);
      for (const option of Object.keys(spec.options)) expect(out).toContain(`--${option}`);
      expect(out).toMatch(/exit codes: 0 ok; 1 problems found/);
    }
  });

  it.each(GROUPS.map((g) => g.name))('roomguard %s --help: exit 0, the group\'s commands', async (group) => {
    const { code, out, err } = await cli(group, '--help');
    expect([code, err]).toEqual([0, '']);
    expect(out.startsWith(`usage: roomguard ${group} <`)).toBe(true);
    for (const spec of COMMANDS.filter((c) => c.path[0] === group)) expect(out).toContain(nameOf(spec));
  });

  it('answers help even next to a mistake, and `help COMMAND` is the same page', async () => {
    const mixed = await cli('policy', 'explain', '--bogus', '-h');
    expect(mixed.code).toBe(0);
    expect(mixed.out).toBe((await cli('policy', 'explain', '--help')).out);
    expect((await cli('help', 'policy', 'explain')).out).toBe(mixed.out);
    expect((await cli('help', 'audit')).out).toBe((await cli('audit', '--help')).out);
    expect((await cli('help')).out).toBe((await cli('--help')).out);
  });

  it('lists every command in the top-level help', async () => {
    const { code, out } = await cli('-h');
    expect(code).toBe(0);
    for (const spec of COMMANDS) expect(out).toContain(`  ${nameOf(spec)}`);
  });

  it('does not take a help flag as an option\'s value', async () => {
    // `--room -h` would otherwise be a room named "-h"; the parser refuses the ambiguity or answers help, never both.
    const { code } = await cli('policy', 'explain', '--room=-h', '--dir', 'policies');
    expect(code).not.toBe(2);
  });
});

describe('the README\'s command table', () => {
  it('names every command and group of the table', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const rows = readme.split('\n').filter((l) => l.startsWith('| `roomguard '));
    for (const word of new Set(COMMANDS.map((c) => c.path[0]))) expect(rows.some((r) => r.includes(`\`roomguard ${word}`)), word).toBe(true);
  });
});

describe('--version and -V', () => {
  it('print the package version and exit 0', async () => {
    for (const flag of ['--version', '-V']) expect(await cli(flag)).toEqual({ code: 0, out: `roomguard ${PACKAGE.version}\n`, err: '' });
  });

  it('is a semantic version', () => {
    expect(PACKAGE.version).toMatch(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
  });
});

describe('usage errors exit 2 with a hint on stderr, nothing on stdout', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['no command', [], /^roomguard [\d.]+: meeting access-control gateway/],
    ['an unknown command, with the closest', ['polcy'], /^roomguard: unknown command: polcy \(did you mean "policy"\?\)/],
    ['an unknown subcommand, with the closest', ['policy', 'chek'], /^roomguard: unknown command: policy chek \(did you mean "policy check"\?\)\nusage: roomguard policy <check\|explain>/],
    ['a group without its command', ['audit'], /^usage: roomguard audit </],
    ['an option before the command', ['--config', 'x', 'serve'], /^roomguard: unknown option --config \(options come after the command\)/],
    ['an unknown option', ['serve', '--confg', 'x'], /^roomguard: Unknown option '--confg'.*\nusage: roomguard serve \[--config FILE\]\nRun 'roomguard serve --help'/s],
    ['a missing required option', ['policy', 'explain'], /^roomguard: policy explain needs --room NAME\n/],
    ['a value outside its list', ['policy', 'explain', '--room', 'x', '--mfa', 'sms'], /^roomguard: --mfa: "sms" is not one of webauthn, totp, idp\n/],
    ['a missing argument', ['completion'], /^roomguard: completion needs SHELL \(bash, zsh, fish\)\n/],
    ['an unknown shell', ['completion', 'tcsh'], /^roomguard: SHELL: "tcsh" is not one of bash, zsh, fish\n/],
    ['an extra argument', ['keys', 'generate', 'now'], /^roomguard: Unexpected argument 'now'/],
    ['a help topic that does not exist', ['help', 'nope'], /^roomguard: no command "nope"/],
  ];
  it.each(cases)('%s', async (_what, argv, message) => {
    const { code, out, err } = await cli(...argv);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toMatch(message);
  });
});

describe('runtime check', () => {
  it('refuses a Node.js older than engines.node, naming both versions', () => {
    const minimum = Number(/\d+/.exec(PACKAGE.engines.node)![0]);
    expect(unsupportedRuntime(`${minimum - 2}.20.2`)).toBe(`roomguard ${PACKAGE.version} needs Node.js ${minimum} or newer (${PACKAGE.engines.node}); this is Node.js ${minimum - 2}.20.2. Install a supported LTS release (README: "Node.js").`);
    expect(unsupportedRuntime(`${minimum}.0.0`)).toBeUndefined();
    expect(unsupportedRuntime(process.versions.node)).toBeUndefined();
  });
});

describe('the table and the implementations that parse their own options', () => {
  const value = (name: string) => ({ since: '7d', until: '2030-01-01', limit: '1', days: '30', type: 'logout', outcome: 'success', ttl: '1h', uses: '1' } as Record<string, string>)[name] ?? 'x';
  const argsFor = (spec: CommandSpec) => Object.entries(spec.options).filter(([name]) => name !== 'config').flatMap(([name, o]) => (o.type === 'boolean' ? [`--${name}`] : [`--${name}=${value(name)}`]));

  it.each(COMMANDS.filter((c) => c.path[0] === 'audit').map((c) => [nameOf(c), c] as const))('%s: runAuditCommand knows every option the table lists', async (_name, spec) => {
    let err = '';
    const dir = mkdtempSync(join(tmpdir(), 'rg-audit-opts-'));
    // --json and --csv together are refused on purpose; each is tried alone.
    const args = argsFor(spec).filter((a) => a !== '--csv');
    await runAuditCommand([spec.path[1]!, ...args], { auditDir: dir, stdout: { write: () => true }, stderr: { write: (t: string) => (err += t) } });
    expect(err).not.toMatch(/Unknown option|unexpected argument/i);
    if (spec.options.csv) {
      await runAuditCommand([spec.path[1]!, '--csv'], { auditDir: dir, stdout: { write: () => true }, stderr: { write: (t: string) => (err += t) } });
      expect(err).not.toMatch(/Unknown option/i);
    }
  });

  it.each(COMMANDS.filter((c) => c.path[0] === 'invite').map((c) => [nameOf(c), c] as const))('%s: runInviteCommand knows every option the table lists', async (_name, spec) => {
    // Without a config it stops at the config's problems (exit 1), after parsing every option.
    const result = await runInviteCommand(spec.path[1], argsFor(spec), { out: () => undefined, err: () => undefined }).catch((e: Error) => e);
    expect(result).toBe(1);
  });
});

describe('completion', () => {
  const script = async (shell: string) => {
    const { code, out } = await cli('completion', shell);
    expect(code).toBe(0);
    const file = join(mkdtempSync(join(tmpdir(), 'rg-completion-')), shell === 'zsh' ? '_roomguard' : `roomguard.${shell}`);
    writeFileSync(file, out);
    return file;
  };

  it('bash: offers commands, subcommands, options, listed values and files, as the parser accepts them', async () => {
    const file = await script('bash');
    const dir = mkdtempSync(join(tmpdir(), 'rg-completion-cwd-'));
    writeFileSync(join(dir, 'roomguard.yaml'), '');
    const complete = (...words: string[]) => {
      const run = spawnSync('bash', ['-c', `source "${file}"; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _roomguard; printf '%s\\n' "\${COMPREPLY[@]}"`, 'bash', ...words], { cwd: dir, encoding: 'utf8' });
      expect(run.stderr).toBe('');
      return run.stdout.split('\n').filter(Boolean).sort();
    };
    expect(complete('roomguard', '')).toEqual([...new Set(COMMANDS.map((c) => c.path[0])), '--help', '-h', '--version', '-V'].sort());
    expect(complete('roomguard', 'policy', '')).toEqual(['--help', '-h', 'check', 'explain']);
    expect(complete('roomguard', 'policy', 'explain', '--m')).toEqual(['--mfa', '--mfa-age']);
    expect(complete('roomguard', 'policy', 'explain', '--mfa', '')).toEqual(['idp', 'totp', 'webauthn']);
    expect(complete('roomguard', 'policy', 'explain', '--mfa', '=', '')).toEqual(['idp', 'totp', 'webauthn']);
    expect(complete('roomguard', 'audit', 'query', '--outcome', 'de')).toEqual(['deny']);
    expect(complete('roomguard', 'completion', '')).toEqual(['bash', 'fish', 'zsh']);
    expect(complete('roomguard', 'serve', '--config', 'room')).toEqual(['roomguard.yaml']);
    // Free values (a room name) are not completed to file names.
    expect(complete('roomguard', 'policy', 'explain', '--room', '')).toEqual([]);
  });

  it('fish: offers the same through fish\'s own completion engine', async () => {
    const file = await script('fish');
    const complete = (line: string) => {
      const run = spawnSync('fish', ['-c', `source "${file}"; complete -C "${line}"`], { encoding: 'utf8' });
      expect(run.stderr).toBe('');
      return run.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0]!).sort();
    };
    expect(complete('roomguard ')).toEqual([...new Set(COMMANDS.map((c) => c.path[0]))].sort());
    expect(complete('roomguard policy ')).toEqual(['check', 'explain']);
    expect(complete('roomguard policy explain --m')).toEqual(['--mfa', '--mfa-age']);
    expect(complete('roomguard policy explain --mfa ')).toEqual(['idp', 'totp', 'webauthn']);
    expect(complete('roomguard --help')).toEqual(['--help']);
    expect(complete('roomguard completion ')).toEqual(['bash', 'fish', 'zsh']);
  });

  it('zsh: parses, and hands _describe and _arguments the table\'s commands, options and values', async () => {
    const file = await script('zsh');
    expect(spawnSync('zsh', ['-n', file], { encoding: 'utf8' }).status).toBe(0);
    // zsh's completion widgets need a terminal; the script's own logic runs with the two helpers recorded.
    const driver = `compdef() { :; }\n_describe() { print -rl -- "\${(P)\${@[-1]}[@]}"; }\n_arguments() { print -rl -- "$@"; }\nsource "${file}"\nwords=("$@"); CURRENT=$#\n_roomguard`;
    const complete = (...words: string[]) => spawnSync('zsh', ['-c', driver, 'zsh', ...words], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    expect(complete('roomguard', '').filter((l) => !l.startsWith('(') && !l.startsWith('-')).map((l) => l.split(':')[0])).toEqual([...new Set(COMMANDS.map((c) => c.path[0]))]);
    expect(complete('roomguard', 'policy', '').map((l) => l.split(':')[0])).toEqual(['check', 'explain']);
    const explain = complete('roomguard', 'policy', 'explain', '--m');
    expect(explain).toContain('--mfa[a second factor confirmed with METHOD]:METHOD:(webauthn totp idp)');
    expect(explain).toContain('--dir[the policy directory (default ./policies)]:DIR:_files -/');
    expect(complete('roomguard', 'completion', '')).toContain('1:SHELL:(bash zsh fish)');
  });
});
