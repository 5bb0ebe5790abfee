// Two ways one file could take the gateway down; each case runs the real loader in a child process,
// because the failure would be a process abort or a blocked event loop.
//  1. Deep nesting ("- - - … x", 10,000 levels) overflows the yaml parser's stack and leaves it broken:
//     a later parse in the same process aborted Node. parseYamlSource refuses more than 64 levels first.
//  2. A FIFO (or device) named *.yaml, or given as a `file:` secret: its size reads 0 and the read
//     blocks for ever. Only regular files are read.
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SECRET_MODULE = fileURLToPath(new URL('../../src/config/secret.ts', import.meta.url));
const LOAD_TWICE = fileURLToPath(new URL('../../src/policy/load.ts', import.meta.url));

function loadInChild(dir: string): { status: number | null; stdout: string; stderr: string } {
  const script = `import { loadPolicyDir } from ${JSON.stringify(LOAD_TWICE)};
for (let i = 0; i < 3; i++) console.log(JSON.stringify(loadPolicyDir(process.argv[1]).problems.map((p) => p.file + ': ' + p.message)));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, dir], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('policy files that must not take the process down', () => {
  it.each([1000, 10_000, 50_000])('refuses a policy file nested %i levels deep with a problem, and keeps parsing (three reloads)', (depth) => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-deep-'));
    writeFileSync(join(dir, 'a-deep.yaml'), `${'- '.repeat(depth)}x\n`);
    writeFileSync(join(dir, 'b-good.yaml'), 'rooms: [good]\nallow:\n  - anyone: true\n');
    const r = loadInChild(dir);
    expect(r.stderr).not.toMatch(/FATAL ERROR/);
    expect(r.status).toBe(0);
    const reloads = r.stdout.trim().split('\n').map((line) => JSON.parse(line) as string[]);
    expect(reloads).toHaveLength(3);
    // The same single problem each time: the parser's state is not left broken by the first attempt.
    for (const problems of reloads) expect(problems).toEqual([expect.stringMatching(/a-deep\.yaml: /)]);
  });

  it('refuses a FIFO named like a policy file instead of blocking on it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-fifo-'));
    writeFileSync(join(dir, 'a.yaml'), 'rooms: [a]\nallow:\n  - anyone: true\n');
    execFileSync('mkfifo', [join(dir, 'pipe.yaml')]);
    const r = loadInChild(dir);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/pipe\.yaml: not a regular file/);
  });

  it('refuses a FIFO given as a file: secret instead of blocking on it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-fifo-secret-'));
    execFileSync('mkfifo', [join(dir, 'key')]);
    const script = `import { resolveSecret } from ${JSON.stringify(SECRET_MODULE)};
console.log(JSON.stringify(resolveSecret('file:' + process.argv[1], {})));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, join(dir, 'key')], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/is not a regular file/);
  });
});
