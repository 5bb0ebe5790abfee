// Room patterns: canonical names and globs (* any run of characters, ? one character), their
// precedence (exact beats glob; among globs more literal characters win) and whether two globs overlap.
import { backendSafeRoomName } from '../backends/room-name.js';

export function isGlob(pattern: string): boolean {
  return /[*?]/.test(pattern);
}

/** Canonicalises the literal parts of a pattern, so `Board-*` is matched as `board-*`. */
export function canonicalPattern(pattern: string): string {
  // A single "/" separates a Jitsi tenant from its room (`tenant/room`); each side is canonical.
  return pattern
    .split('/')
    .map((side) => side
      .split(/([*?])/)
      .map((part) => (part === '*' || part === '?' || part === '' ? part : backendSafeRoomName(part)))
      .join(''))
    .join('/');
}

const globCache = new Map<string, { prefix: string; re: RegExp }>();

export function patternMatches(pattern: string, room: string): boolean {
  if (!isGlob(pattern)) return pattern === room;
  let glob = globCache.get(pattern);
  if (!glob) {
    const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    glob = { prefix: pattern.slice(0, pattern.search(/[*?]/)), re: new RegExp(`^${body}$`, 's') };
    if (globCache.size > 10_000) globCache.clear();
    globCache.set(pattern, glob);
  }
  // The literal prefix rules out most globs before the regular expression runs (bench/run.ts).
  return room.startsWith(glob.prefix) && glob.re.test(room);
}

/** Higher is more specific: exact names rank above every glob; globs rank by their literal characters. */
export function specificity(pattern: string): number {
  if (!isGlob(pattern)) return Number.MAX_SAFE_INTEGER;
  return pattern.replace(/[*?]/g, '').length;
}

/** True when some room name matches both patterns. */
export function patternsOverlap(a: string, b: string): boolean {
  const memo = new Map<number, boolean>();
  const width = b.length + 1;
  const visit = (i: number, j: number): boolean => {
    const key = i * width + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    memo.set(key, false);
    let result = false;
    const ca = a[i];
    const cb = b[j];
    if (ca === undefined && cb === undefined) result = true;
    else if (ca === '*' && visit(i + 1, j)) result = true;
    else if (cb === '*' && visit(i, j + 1)) result = true;
    else if (ca !== undefined && cb !== undefined) {
      if (ca === '*') result = visit(i, j + 1);
      else if (cb === '*') result = visit(i + 1, j);
      else if (ca === '?' || cb === '?' || ca === cb) result = visit(i + 1, j + 1);
    }
    memo.set(key, result);
    return result;
  };
  return visit(0, 0);
}
