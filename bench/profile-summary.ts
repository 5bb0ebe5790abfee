// Reads V8 CPU profiles (node --cpu-prof, or `npm run bench -- --profile`) and prints where the time went:
// self time by function and by source file, largest first. Run: npx tsx bench/profile-summary.ts FILE…
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  ms: number;
  share: number;
}

function place(url: string): string {
  if (!url) return '(native)';
  const path = url.startsWith('file:') ? fileURLToPath(url) : url;
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}

function top(totals: Map<string, number>, all: number, limit: number): SelfTime[] {
  return [...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, limit).map(([name, us]) => ({ name, ms: us / 1000, share: us / all }));
}

/**
 * Self time of the heaviest functions and files of one profile, as shares of the busy (non-idle) time,
 * and the inclusive time of roomguard's own functions (src/…: everything they call synchronously).
 */
export function summarise(path: string, limit = 25): { functions: SelfTime[]; files: SelfTime[]; own: SelfTime[]; totalMs: number } {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const frame = byId.get(id)?.callFrame;
    if (!frame || frame.functionName === '(idle)') return;
    all += us;
    const file = place(frame.url);
    const fn = `${frame.functionName || '(anonymous)'} ${file}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    byFile.set(file, (byFile.get(file) ?? 0) + us);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at)!.callFrame;
      if (!f.url.includes('/src/')) continue;
      const name = `${f.functionName || '(anonymous)'} ${place(f.url)}:${f.lineNumber + 1}`;
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + us);
    }
  });
  return { functions: top(byFunction, all, limit), files: top(byFile, all, limit), own: top(inclusive, all, limit), totalMs: all / 1000 };
}

export function printSummary(path: string, limit = 25): void {
  const { functions, files, own, totalMs } = summarise(path, limit);
  const line = (t: SelfTime) => `  ${(t.share * 100).toFixed(1).padStart(5)}%  ${t.ms.toFixed(0).padStart(7)} ms  ${t.name}`;
  console.log(`\n${path}: ${totalMs.toFixed(0)} ms busy\nself time by function:\n${functions.map(line).join('\n')}\nself time by file:\n${files.map(line).join('\n')}\ninclusive time of roomguard functions (synchronous part):\n${own.map(line).join('\n')}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error('usage: npx tsx bench/profile-summary.ts PROFILE.cpuprofile…');
    process.exit(2);
  }
  for (const file of files) printSummary(file);
}

/** The profile of a process's main thread: the busiest one (tsx's loader thread writes a small second one). */
export function busiestProfile(paths: string[]): string | undefined {
  let best: { path: string; ms: number } | undefined;
  for (const path of paths) {
    const ms = summarise(path, 1).totalMs;
    if (!best || ms > best.ms) best = { path, ms };
  }
  return best?.path;
}
