// "Did you mean …?" for names an admin typed: config keys, ROOMGUARD_* variables, commands. A typo is one
// or two edits away (a dropped, doubled, swapped or wrong letter); case, `_` and `-` never count, so
// `public_url`, `PUBLIC-URL` and `publicUrl` are the same name.

/** The spelling that tells names apart: letters and digits, lower case. */
export function nameKey(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** How many edits still read as a typo of a name this long (short names allow fewer, or every name would match). */
function tolerance(length: number): number {
  return length <= 3 ? 0 : length <= 6 ? 1 : length <= 12 ? 2 : 3;
}

/**
 * The candidates closest to `typed` within typo distance, best first (several only when equally close).
 * Empty when nothing is close: then the caller lists what is known instead of guessing.
 */
export function closestNames(typed: string, candidates: Iterable<string>): string[] {
  const key = nameKey(typed);
  let best: string[] = [];
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(key, nameKey(candidate));
    if (distance > tolerance(Math.max(key.length, nameKey(candidate).length))) continue;
    if (distance < bestDistance) {
      best = [candidate];
      bestDistance = distance;
    } else if (distance === bestDistance && !best.includes(candidate)) best.push(candidate);
  }
  return best;
}

/** ` (did you mean "a"?)`, ` (did you mean "a" or "b"?)`, or '' when nothing is close. */
export function didYouMean(typed: string, candidates: Iterable<string>): string {
  const close = closestNames(typed, candidates).slice(0, 3);
  if (close.length === 0) return '';
  return ` (did you mean ${close.map((c) => `"${c}"`).join(' or ')}?)`;
}
