// How commands print configuration and policy problems: one line each, `file:line: field: message`,
// then a count, so an admin (or a CI job) can read and grep them.
import { formatProblem, formatWarning, type Problem } from '../config/yaml-source.js';

export function printProblems(problems: readonly Problem[], out: (text: string) => void = (t) => void process.stdout.write(t)): void {
  for (const p of problems) out(`${formatProblem(p)}\n`);
  out(`${problems.length} problem${problems.length === 1 ? '' : 's'} found\n`);
}

export function printWarnings(warnings: readonly Problem[], out: (text: string) => void = (t) => void process.stdout.write(t)): void {
  for (const w of warnings) out(`${formatWarning(w)}\n`);
}
