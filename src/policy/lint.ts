// Checks a whole policy set: two files must never judge the same room equally (same exact name, or
// overlapping globs with the same number of literal characters). Pure.
import type { Problem } from '../config/yaml-source.js';
import { isGlob, patternsOverlap, specificity } from './rooms.js';
import type { Policy } from './types.js';

export function lintPolicySet(policies: Policy[]): Problem[] {
  const problems: Problem[] = [];
  for (let i = 0; i < policies.length; i++) {
    for (let j = i + 1; j < policies.length; j++) {
      const a = policies[i]!;
      const b = policies[j]!;
      for (const pa of a.rooms) {
        for (const [k, pb] of b.rooms.entries()) {
          const clash = !isGlob(pa) && !isGlob(pb) ? pa === pb : isGlob(pa) && isGlob(pb) && specificity(pa) === specificity(pb) && patternsOverlap(pa, pb);
          if (clash) {
            problems.push({
              file: b.file, line: b.roomLines[k] ?? 1, field: `rooms[${k}]`,
              message: `"${pb}" and "${pa}" in ${a.file} match the same rooms equally; make one more specific or merge the files`,
            });
          }
        }
      }
    }
  }
  return problems;
}
