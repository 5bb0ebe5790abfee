// The release as an admin installs it (issue 16): `npm pack` (which builds dist/ afresh), then
// `npm install -g --prefix <empty dir> ./roomguard-<version>.tgz` from the npm registry, and the
// installed `roomguard` command run from an empty directory, far from the repository: --version,
// --help on every command, and `roomguard demo` serving its health check and the login page of its
// embedded identity provider with the example policies shipped in the package. One build, one install.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS, GROUPS, nameOf } from '../../src/cli/table.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import { AddressInUse, isAddressInUse, onFreePort } from '../helpers/ports.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };

let work: string;
let prefix: string;
let installed: string;
let packedFiles: string[];
/** The installed command's environment: its bin first, this Node.js next, nothing of the repository. */
let env: NodeJS.ProcessEnv;
let demo: ChildProcess | undefined;

function run(command: string, args: string[], cwd: string, timeout = 240_000) {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout });
  if (result.error) throw new Error(`${command} ${args.join(' ')}: ${result.error.message}`);
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'rg-package-'));
  prefix = join(work, 'prefix');
  // The machine's own settings (CA bundle, proxies, HOME for npm's cache) stay; npm's and the test
  // runner's variables, and anything that could load code from the repository, go.
  const inherited = Object.entries(process.env).filter(([name]) => !/^(npm_|VITEST|TSX|NODE_OPTIONS$|NODE_PATH$|ROOMGUARD_)/i.test(name));
  env = { ...Object.fromEntries(inherited), PATH: [join(prefix, 'bin'), dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(delimiter) };
  // The build runs once, as npm's prepack of the repository itself (what a release does).
  const pack = run('npm', ['pack', '--json', '--pack-destination', work], ROOT, 300_000);
  expect(pack.code, pack.stderr).toBe(0);
  const [report] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  expect(report!.filename).toBe(`roomguard-${PACKAGE.version}.tgz`);
  packedFiles = report!.files.map((f) => f.path);
  const install = run('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', `./${report!.filename}`], work, 300_000);
  expect(install.code, install.stderr).toBe(0);
  installed = join(prefix, 'lib', 'node_modules', 'roomguard');
}, 600_000);

afterAll(() => {
  demo?.kill('SIGKILL');
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('holds the compiled CLI, the bin, the example policies and the docs, and no sources, tests or CI files', () => {
    for (const file of ['package.json', 'README.md', 'CHANGELOG.md', 'bin/roomguard.js', 'dist/cli/cli.js', 'dist/ui/assets/style.css', 'policies/town-hall.yaml', 'examples/roomguard.yaml', 'docs/upgrading.md', 'docs/configuration.md', 'deploy/systemd/roomguard.service']) {
      expect(packedFiles, file).toContain(file);
    }
    expect(packedFiles.filter((f) => /^(src|test|bench|scripts|\.ci)\//.test(f) || (/\.ts$/.test(f) && !f.endsWith('.d.ts')) || /^(node_modules|\.roomguard-demo|audit|test-artifacts)\//.test(f) || /\.(pem|key)$/.test(f))).toEqual([]);
  });

  it('installs without tsx: nothing at run time needs it', () => {
    expect(Object.keys(PACKAGE.dependencies)).not.toContain('tsx');
    expect(existsSync(join(installed, 'node_modules', 'tsx'))).toBe(false);
    expect(existsSync(join(prefix, 'lib', 'node_modules', 'tsx'))).toBe(false);
    expect(existsSync(join(installed, 'src'))).toBe(false);
    expect(statSync(join(prefix, 'bin', 'roomguard')).isFile()).toBe(true);
  });
});

describe('the installed roomguard command, run from an empty directory', () => {
  let cwd: string;
  beforeAll(() => {
    cwd = mkdtempSync(join(work, 'cwd-'));
  });

  it('prints its version', () => {
    expect(run('roomguard', ['--version'], cwd, 30_000)).toEqual({ code: 0, stdout: `roomguard ${PACKAGE.version}\n`, stderr: '' });
  });

  it('answers --help on every command and group with exit 0 and that command\'s usage', () => {
    for (const words of [...COMMANDS.map((c) => [...c.path]), ...GROUPS.map((g) => [g.name])]) {
      const help = run('roomguard', [...words, '--help'], cwd, 30_000);
      expect(help.code, words.join(' ')).toBe(0);
      expect(help.stderr, words.join(' ')).toBe('');
      expect(help.stdout.startsWith(`usage: roomguard ${words.join(' ')}`), `${words.join(' ')}:\n${help.stdout}`).toBe(true);
    }
    expect(COMMANDS.map(nameOf)).toContain('policy explain');
  });

  it('checks the example policies it ships', () => {
    const check = run('roomguard', ['policy', 'check', join(installed, 'policies')], cwd, 30_000);
    expect(check.stdout).toMatch(/3 policy files ok/);
    expect(check.code).toBe(0);
  });

  it('refuses a Node.js older than engines.node with a message, when this machine has one', () => {
    const old = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => existsSync(p) && Number(spawnSync(p, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).stdout) < 22);
    if (!old) return; // Only Node.js 22 or newer here: the unit test of unsupportedRuntime() covers the rule.
    const refused = run(old, [join(installed, 'bin', 'roomguard.js'), '--version'], cwd, 30_000);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^roomguard: roomguard [\d.]+ needs Node\.js 22 or newer \(>=22\); this is Node\.js 20\./);
  });

  it('runs the demo: health check, the identity provider\'s login page, a sign-in into a shipped policy\'s room, and a clean stop', async () => {
    // The demo's port is its public URL: start on one free now, again on another if it was taken meanwhile.
    let output = '';
    let exited!: Promise<number | null>;
    const port = await onFreePort(async (candidate) => {
      output = '';
      demo = spawn('roomguard', ['demo', '--port', String(candidate), '--data', join(work, `demo-data-${candidate}`)], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
      demo.stdout!.on('data', (c: Buffer) => (output += c.toString()));
      demo.stderr!.on('data', (c: Buffer) => (output += c.toString()));
      exited = new Promise<number | null>((resolve) => demo!.once('exit', resolve));
      const healthy = expect.poll(async () => (await fetch(`http://localhost:${candidate}/healthz`).catch(() => undefined))?.status, { timeout: 60_000, interval: 250 }).toBe(200);
      await Promise.race([healthy, exited.then((code) => Promise.reject(isAddressInUse(output) ? new AddressInUse('roomguard demo', output) : new Error(`roomguard demo exited (${code}) before it was healthy:\n${output}`)))]);
      return candidate;
    });
    const origin = `http://localhost:${port}`;
    expect(output).toContain(`Policies:        ${join(installed, 'policies')}`);

    const browser = new ScriptedBrowser();
    const login = await browser.follow(`${origin}/rooms/town-hall`);
    expect(login.final.status).toBe(200);
    expect(login.final.url).not.toContain(`:${port}/`);
    const page = await login.final.clone().text();
    expect(page).toMatch(/<form[^>]*>/);
    expect(page).toMatch(/type="password"/);
    const signedIn = await browser.submitLogin(login.final, 'bob', 'demo');
    expect(signedIn.final.status).toBe(200);
    // Back in the room the shipped policies/town-hall.yaml lets everybody signed in enter, as participant.
    expect(signedIn.final.url).toBe(`${origin}/rooms/town-hall`);
    const room = await signedIn.final.text();
    expect(room).toMatch(/id="room">town-hall</);
    expect(room).toMatch(/id="role">participant</);
    // Text log lines by default in the demo.
    expect(output).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d INFO  /m);

    demo!.kill('SIGTERM');
    expect(await exited, output).toBe(0);
    demo = undefined;
  }, 120_000);
});

describe('bin/roomguard.js in the repository', () => {
  it('runs the dist/ the pack built', () => {
    const version = spawnSync(process.execPath, [join(ROOT, 'bin', 'roomguard.js'), '--version'], { cwd: ROOT, encoding: 'utf8' });
    expect(version.stdout).toBe(`roomguard ${PACKAGE.version}\n`);
  });
});
