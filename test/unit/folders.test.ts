// Issue 18's layering, held: no two src folders import each other, and each folder imports only what
// docs/architecture.md's table says it may — so the table a newcomer reads is the one the code obeys.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve('src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** The first part of a path below src/ (a folder, or a module at the top such as `errors`). */
function unitOf(path: string): string {
  return relative(SRC, path).split('/')[0]!.replace(/\.[jt]s$/, '');
}

/** Relative imports of a source text: static, type-only, re-exports and dynamic `import()`. */
export function importsOf(text: string): string[] {
  return [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);
}

/** Which unit imports which, across units. */
function importGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sourceFiles(SRC)) {
    const from = unitOf(file);
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      const to = unitOf(resolve(dirname(file), spec));
      if (to === from) continue;
      if (!graph.has(from)) graph.set(from, new Set());
      graph.get(from)!.add(to);
    }
  }
  return graph;
}

/** The "may import" column of docs/architecture.md's folder table, by folder. */
function documentedImports(): Map<string, Set<string>> {
  const doc = readFileSync('docs/architecture.md', 'utf8');
  const rows = new Map<string, Set<string>>();
  for (const m of doc.matchAll(/^\| `([a-z]+)\/` \| [^|]+ \| ([^|]+) \|$/gm)) {
    const allowed = /^every/.test(m[2]!.trim()) ? ['*'] : [...m[2]!.matchAll(/`([a-z]+)`/g)].map((n) => n[1]!);
    rows.set(m[1]!, new Set(allowed));
  }
  return rows;
}

describe('folder layering (issue 18, docs/architecture.md)', () => {
  const graph = importGraph();

  it('finds the imports it checks (the reader itself works)', () => {
    expect(importsOf(`import a from './a.js';\nimport type { B } from '../b/b.js';\nexport { c } from "../c.js";\nconst d = await import('../d/d.js');\nimport './side.js';`))
      .toEqual(['./a.js', '../b/b.js', '../c.js', '../d/d.js', './side.js']);
    expect(graph.get('gateway')?.has('policy')).toBe(true);
    expect(graph.get('cli')?.has('audit')).toBe(true);
  });

  it('no two src folders import each other', () => {
    const pairs: string[] = [];
    for (const [a, targets] of graph) for (const b of targets) if (a < b && graph.get(b)?.has(a)) pairs.push(`${a} <-> ${b}`);
    expect(pairs).toEqual([]);
  });

  it('each folder imports only what docs/architecture.md says it may', () => {
    const documented = documentedImports();
    expect([...documented.keys()].sort()).toEqual([...new Set(sourceFiles(SRC).map(unitOf))].filter((u) => statSync(join(SRC, u), { throwIfNoEntry: false })?.isDirectory()).sort());
    const undocumented: string[] = [];
    for (const [from, targets] of graph) {
      const allowed = documented.get(from);
      if (!allowed || allowed.has('*')) continue;
      for (const to of targets) if (to !== 'errors' && !allowed.has(to)) undocumented.push(`${from} -> ${to}`);
    }
    expect(undocumented).toEqual([]);
  });

  it('policy/decide.ts imports nothing that does I/O', () => {
    const specs = importsOf(readFileSync('src/policy/decide.ts', 'utf8'));
    expect(specs.length).toBeGreaterThan(0);
    for (const spec of specs) expect(spec).not.toMatch(/store|load|redis|writer|watch|node:/);
    expect(readFileSync('src/policy/decide.ts', 'utf8')).not.toMatch(/from ['"]node:/);
  });
});
