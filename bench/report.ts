// What a benchmark run reports: one row per figure (baseline, roomguard, their ratio or difference, the
// goal and whether it was met), the machine it ran on, printed as a table and written to results.json.
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { writeFileSync } from 'node:fs';
import type { HttpRun } from './load.js';
import { median } from './stats.js';

export interface Row {
  scenario: string;
  metric: string;
  unit: string;
  /** Median of the baseline runs (absent for figures with no baseline, e.g. memory per connection). */
  baseline?: number;
  /** Median of roomguard's runs. */
  roomguard?: number;
  /** The compared figure: a ratio (roomguard ÷ baseline) or a difference (roomguard − baseline). */
  compared?: { kind: 'ratio' | 'difference'; value: number };
  goal: string;
  /** true/false against the goal; undefined when the figure is only reported or was not available. */
  pass?: boolean;
  note?: string;
}

export interface Machine {
  cores: number;
  cpuModel: string;
  node: string;
  platform: string;
  memoryGiB: number;
  date: string;
  gitCommit: string;
  /** 1-minute load average when the run started and ended: how busy the shared machine was. */
  loadAverage: { start: number; end?: number };
}

export function machine(): Machine {
  let gitCommit = 'unknown';
  try {
    gitCommit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    if (execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() !== '') gitCommit += ' (with uncommitted changes)';
  } catch {
    // Not a git checkout: the results still stand, without a commit to pin them to.
  }
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    date: new Date().toISOString(),
    gitCommit,
    loadAverage: { start: loadavg()[0]! },
  };
}

export function ratioRow(base: Omit<Row, 'compared' | 'pass'>, atLeast?: number, atMost?: number): Row {
  if (base.baseline === undefined || base.roomguard === undefined) return base;
  const value = base.roomguard / base.baseline;
  const pass = atLeast !== undefined ? value >= atLeast : atMost !== undefined ? value <= atMost : undefined;
  return { ...base, compared: { kind: 'ratio', value }, ...(pass !== undefined ? { pass } : {}) };
}

export function differenceRow(base: Omit<Row, 'compared' | 'pass'>, atMost?: number): Row {
  if (base.baseline === undefined || base.roomguard === undefined) return base;
  const value = base.roomguard - base.baseline;
  return { ...base, compared: { kind: 'difference', value }, ...(atMost !== undefined ? { pass: value <= atMost } : {}) };
}

function figure(value: number | undefined): string {
  if (value === undefined) return '–';
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function compared(row: Row): string {
  if (!row.compared) return '–';
  // Two significant digits below 0.1, so a 1/5,000 speed-up does not print as 0.00×.
  if (row.compared.kind === 'ratio') return `${row.compared.value < 0.1 ? row.compared.value.toPrecision(2) : row.compared.value.toFixed(2)}×`;
  return `${row.compared.value >= 0 ? '+' : ''}${figure(row.compared.value)} ${row.unit}`;
}

function marker(row: Row): string {
  if (row.pass === undefined) return row.note?.startsWith('not available') ? 'n/a' : 'info';
  return row.pass ? 'pass' : 'MISS';
}

/** The table as Markdown, so the same text goes to the terminal and into docs/performance.md. */
export function table(rows: Row[]): string {
  const head = ['scenario', 'metric', 'baseline', 'roomguard', 'compared', 'goal', ''];
  const lines = rows.map((r) => [r.scenario, `${r.metric} (${r.unit})`, figure(r.baseline), figure(r.roomguard), compared(r), r.goal, marker(r) + (r.note ? ` — ${r.note}` : '')]);
  const all = [head, ...lines];
  const widths = head.map((_, i) => Math.max(...all.map((l) => l[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(line)].join('\n');
}

export function writeResults(path: string, run: { mode: 'quick' | 'full'; machine: Machine; seconds: number; rows: Row[] }): void {
  writeFileSync(path, `${JSON.stringify(run, null, 2)}\n`);
}

/**
 * Where the time of the saturation runs went: CPU (user + system, from /proc) per answered request of the
 * process under test and of the load generator. Steadier than throughput on a shared machine, and it
 * says what roomguard itself adds per request.
 */
export function cpuRows(scenario: string, what: string, runs: { baseline: HttpRun[]; contender: HttpRun[] }): Row[] {
  const m = (list: HttpRun[], key: 'serverCpuUs' | 'clientCpuUs') => median(list.map((r) => r[key] ?? Number.NaN));
  return [
    differenceRow({ scenario, metric: `CPU per request: ${what} process`, unit: 'µs', baseline: m(runs.baseline, 'serverCpuUs'), roomguard: m(runs.contender, 'serverCpuUs'), goal: 'report' }),
    differenceRow({ scenario, metric: 'CPU per request: load generator', unit: 'µs', baseline: m(runs.baseline, 'clientCpuUs'), roomguard: m(runs.contender, 'clientCpuUs'), goal: 'report' }),
    // The throughput ratio a CPU-bound process would reach whatever else runs on the machine: baseline ÷ roomguard.
    ratioRow({ scenario, metric: `requests per CPU-second: ${what} process`, unit: '1/s', baseline: 1e6 / m(runs.baseline, 'serverCpuUs'), roomguard: 1e6 / m(runs.contender, 'serverCpuUs'), goal: 'report' }),
  ];
}
