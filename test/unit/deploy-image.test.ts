// The container image without a container engine: the Dockerfile's own build-stage steps run on a copy
// of exactly the files it copies from the build context, then the result is started the way the image
// starts it (`node dist/cli/cli.js serve`) under the image's runtime constraints — as UID 10001 without
// capabilities, in a mount namespace where the root filesystem is read-only and only /tmp is writable —
// against real Redis, and probed with the image's own HEALTHCHECK command. SIGTERM must stop it cleanly.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dockerfileStages } from '../helpers/dockerfile.js';
import { testConfigYaml, testKeys } from '../helpers/gateway.js';
import { portOfAddress } from '../helpers/ports.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const stages = dockerfileStages(readFileSync(join(root, 'Dockerfile'), 'utf8'));
const buildStage = stages.find((s) => s.instructions.some((i) => i.keyword === 'RUN' && /npm run build/.test(i.args)))!;
const runtime = stages.at(-1)!;
const RUNTIME_UID = Number(runtime.instructions.find((i) => i.keyword === 'USER')!.args.split(':')[0]);

/** The files a stage copies from the build context (not from another stage). */
const contextCopies = (stage: typeof runtime) => stage.instructions.filter((i) => i.keyword === 'COPY' && !i.flags.from).flatMap((i) => i.args.split(/\s+/).slice(0, -1));

/** The image's HEALTHCHECK command, exec form: ["node", "-e", "…"]. */
function healthcheckCommand(): string[] {
  const args = runtime.instructions.find((i) => i.keyword === 'HEALTHCHECK')!.args;
  return JSON.parse(args.slice(args.indexOf('CMD ') + 4)) as string[];
}

function runHealthcheck(url: string): number | null {
  const [command, ...args] = healthcheckCommand();
  expect(command).toBe('node');
  return spawnSync(process.execPath, args, { env: { ...process.env, ROOMGUARD_HEALTHCHECK_URL: url }, timeout: 20_000 }).status;
}

/** The port in the server's "started" log line (JSON on stdout), once it has written it. */
function startedPort(output: string): number | undefined {
  for (const line of output.split('\n')) {
    if (!line.includes('"event":"started"')) continue;
    const { address } = JSON.parse(line) as { address: string };
    return portOfAddress(address);
  }
  return undefined;
}

let context: string;
let auditDir: string;
let configFile: string;
let server: ChildProcess | undefined;
let output = '';

beforeAll(() => {
  // Under the repository, so dist/ finds node_modules the way /app/dist finds /app/node_modules.
  mkdirSync(join(root, 'test-artifacts'), { recursive: true });
  context = mkdtempSync(join(root, 'test-artifacts', 'image-'));
  // Like /app in the image: owned by root, readable (not writable) by the runtime user.
  chmodSync(context, 0o755);
  for (const path of new Set([...contextCopies(buildStage), ...contextCopies(runtime)])) cpSync(join(root, path), join(context, path), { recursive: true });
  for (const step of buildStage.instructions.filter((i) => i.keyword === 'RUN')) {
    // The dependency install is the one step not repeated: it needs the registry, and the repository's node_modules is the same lock file.
    if (/^npm ci\b/.test(step.args)) continue;
    const run = spawnSync('sh', ['-c', step.args], { cwd: context, encoding: 'utf8', timeout: 240_000 });
    expect(`${step.args}: ${run.status}\n${run.stdout}${run.stderr}`).toBe(`${step.args}: 0\n${run.stdout}${run.stderr}`);
  }
}, 300_000);

afterAll(() => {
  server?.kill('SIGKILL');
  rmSync(context, { recursive: true, force: true });
  if (auditDir) rmSync(auditDir, { recursive: true, force: true });
});

describe('the image, built and run without a container engine', () => {
  it('builds a dist/ whose CLI runs from the runtime layout (no sources, no tsx)', () => {
    expect(readdirSync(join(context, 'dist', 'ui', 'assets')).sort()).toEqual(readdirSync(join(root, 'src', 'ui', 'assets')).sort());
    rmSync(join(context, 'src'), { recursive: true, force: true });
    const help = spawnSync(process.execPath, ['dist/cli/cli.js', 'keys', 'generate'], { cwd: context, encoding: 'utf8' });
    expect(help.stderr).toBe('');
    expect(help.stdout).toMatch(/BEGIN PRIVATE KEY/);
  });

  it('serves as an unprivileged user on a read-only root filesystem, passes its HEALTHCHECK and stops cleanly on SIGTERM', async () => {
    auditDir = mkdtempSync(join(tmpdir(), 'rg-image-audit-'));
    chownSync(auditDir, RUNTIME_UID, RUNTIME_UID);
    const configDir = mkdtempSync(join(tmpdir(), 'rg-image-config-'));
    // Like a mounted config: readable by the runtime user only (it holds the test's literal secrets).
    chownSync(configDir, RUNTIME_UID, RUNTIME_UID);
    configFile = join(configDir, 'roomguard.yaml');
    // publicUrl is not the address the HEALTHCHECK uses, as in a container behind a proxy.
    // It listens on a port of the kernel's choice (port 0) and names it in its "started" log line.
    writeFileSync(configFile, testConfigYaml({ port: 0, publicUrl: 'https://meet.example.org', issuer: 'http://127.0.0.1:9/unreachable', clientSecret: 'x'.repeat(32), upstream: 'http://127.0.0.1:9', store: inject('redisUrl'), keyPrefix: `rgimage:${randomUUID()}:`, keys: testKeys(), policiesDir: join(context, 'policies'), auditDir }));
    const confine = [
      'set -e',
      // A private mount namespace: /tmp stays writable (as the image's tmpfs), everything else read-only.
      'mount --bind /tmp /tmp',
      'mount -o remount,bind,ro /',
      `mount --bind "${root}" "${root}" && mount -o remount,bind,ro "${root}"`,
      `if touch "${context}/.writable" 2>/dev/null; then echo "the root filesystem is still writable" >&2; exit 97; fi`,
      `exec setpriv --reuid=${RUNTIME_UID} --regid=${RUNTIME_UID} --clear-groups --no-new-privs --inh-caps=-all --bounding-set=-all "$@"`,
    ].join('\n');
    server = spawn('unshare', ['--mount', 'sh', '-c', confine, 'sh', process.execPath, 'dist/cli/cli.js', 'serve', '--config', configFile], { cwd: context, stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    server.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    const exited = new Promise<number | null>((resolve) => server!.once('exit', (code) => resolve(code)));

    let port: number | undefined;
    try {
      await expect.poll(() => (port = startedPort(output)), { timeout: 20_000, interval: 100 }).toBeDefined();
      await expect.poll(() => runHealthcheck(`http://127.0.0.1:${port}/healthz`), { timeout: 20_000, interval: 250 }).toBe(0);
    } catch (err) {
      throw new Error(`the server did not become healthy:\n${output}`, { cause: err });
    }
    // The start-up records went to the audit volume, written by the runtime user.
    const written = readdirSync(auditDir);
    expect(written.length, output).toBeGreaterThan(0);
    for (const name of written) expect(statSync(join(auditDir, name)).uid).toBe(RUNTIME_UID);
    expect(output).not.toMatch(/EROFS|EACCES|read-only file system/i);

    server.kill('SIGTERM');
    expect(await exited, output).toBe(0);
    server = undefined;
    // Nothing answers any more: the same HEALTHCHECK now reports the container unhealthy.
    expect(runHealthcheck(`http://127.0.0.1:${port}/healthz`)).toBe(1);
  }, 60_000);
});
