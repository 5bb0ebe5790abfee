// Repetitions and medians: a baseline and its contender run alternately (A B A B …) so drift in the
// shared machine's load hits both alike, and the median of the runs is what gets reported.

export function median(values: number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Runs baseline and contender `reps` times, alternating, and returns every run of each. */
export async function alternate<T>(reps: number, baseline: () => Promise<T>, contender: () => Promise<T>): Promise<{ baseline: T[]; contender: T[] }> {
  const runs = { baseline: [] as T[], contender: [] as T[] };
  for (let i = 0; i < reps; i++) {
    runs.baseline.push(await baseline());
    runs.contender.push(await contender());
  }
  return runs;
}
