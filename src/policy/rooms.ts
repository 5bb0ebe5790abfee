// Room patterns: canonical names and globs (* any run of characters, ? one character), their
// precedence (exact beats glob; among globs more literal characters win), whether two globs overlap,
// and the room index that finds a room's policy without scanning every policy file.
import { LRUCache } from 'lru-cache';
import { backendSafeRoomName } from '../backends/room-name.js';
import type { Policy, PolicySet } from './types.js';

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

/** A glob as a whole-name regular expression (* any run, ? one character, everything else literal). */
function compileGlob(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 's');
}

/** Literal characters before the first wildcard: a room without them cannot match. */
function literalPrefix(pattern: string): string {
  return pattern.slice(0, pattern.search(/[*?]/));
}

// Bounded, but far above what a policy set holds: a cache smaller than the set's globs would be emptied
// and refilled on every scan (at 10,000 files that made one scan 10 ms; bench/scenarios/decide.ts).
const GLOB_CACHE_LIMIT = 100_000;
const globCache = new LRUCache<string, { prefix: string; re: RegExp }>({ max: GLOB_CACHE_LIMIT });

export function patternMatches(pattern: string, room: string): boolean {
  if (!isGlob(pattern)) return pattern === room;
  let glob = globCache.get(pattern);
  if (!glob) {
    glob = { prefix: literalPrefix(pattern), re: compileGlob(pattern) };
    globCache.set(pattern, glob);
  }
  // The literal prefix rules out most globs before the regular expression runs.
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

/** The policy that judges a room, the pattern it matched with, and other policies that match as specifically. */
export interface RoomMatch {
  policy?: Policy;
  pattern?: string;
  /** Other policies that match the room exactly as specifically (a set that passed lint has none). */
  ties: Policy[];
}

interface IndexedPattern {
  /** Position of the policy in the set: the first of equally specific policies wins, the rest are ties. */
  order: number;
  /** Position of the pattern in its policy: the first of a policy's equally specific patterns is reported. */
  slot: number;
  pattern: string;
  rank: number;
  /** The compiled glob (absent for exact names), kept with the index so lookups never recompile. */
  re?: RegExp;
}

/** A character trie; each node holds the globs whose literal prefix (or reversed suffix) ends there. */
class LiteralTrie {
  readonly #next = new Map<string, LiteralTrie>();
  readonly entries: IndexedPattern[] = [];

  add(literal: string, entry: IndexedPattern): void {
    let node: LiteralTrie = this;
    for (const ch of literal) {
      let child = node.#next.get(ch);
      if (!child) node.#next.set(ch, (child = new LiteralTrie()));
      node = child;
    }
    node.entries.push(entry);
  }

  /** Entries whose literal is a prefix of `text` read from `start` in direction `step` (+1 or -1). */
  collect(text: string, start: number, step: 1 | -1, into: IndexedPattern[]): void {
    let node: LiteralTrie | undefined = this;
    for (let i = start; node; i += step) {
      into.push(...node.entries);
      const ch = text[i];
      if (ch === undefined) return;
      node = node.#next.get(ch);
    }
  }
}

/**
 * Every room pattern of a policy set, indexed: exact names in a hash map, globs by their literal
 * prefix (or, when they start with a wildcard, by their literal suffix) in a trie. A lookup costs one
 * map probe and a walk as long as the room name, plus a regular-expression test for each glob whose
 * literal prefix/suffix fits the room, instead of a test of every pattern of every policy.
 */
export class RoomIndex {
  readonly #policies: readonly Policy[];
  readonly #exact = new Map<string, IndexedPattern[]>();
  readonly #byPrefix = new LiteralTrie();
  readonly #bySuffix = new LiteralTrie();
  /** Globs with a wildcard at both ends (`*x*`, `*`): tested for every room. */
  readonly #unanchored: IndexedPattern[] = [];

  constructor(policies: readonly Policy[]) {
    this.#policies = policies;
    policies.forEach((policy, order) => {
      policy.rooms.forEach((pattern, slot) => {
        const entry: IndexedPattern = { order, slot, pattern, rank: specificity(pattern) };
        if (!isGlob(pattern)) {
          const list = this.#exact.get(pattern);
          if (list) list.push(entry);
          else this.#exact.set(pattern, [entry]);
          return;
        }
        const prefix = literalPrefix(pattern);
        const suffix = pattern.slice(Math.max(pattern.lastIndexOf('*'), pattern.lastIndexOf('?')) + 1);
        entry.re = compileGlob(pattern);
        if (prefix !== '') this.#byPrefix.add(prefix, entry);
        else if (suffix !== '') this.#bySuffix.add([...suffix].reverse().join(''), entry);
        else this.#unanchored.push(entry);
      });
    });
  }

  /** The policy that judges `room`: exact name beats glob, then the glob with most literal characters. */
  match(room: string): RoomMatch {
    // An exact name outranks every glob, so globs need not be looked at when one matches.
    const exact = this.#exact.get(room);
    if (exact) return this.#best(exact);
    const candidates: IndexedPattern[] = [...this.#unanchored];
    this.#byPrefix.collect(room, 0, 1, candidates);
    this.#bySuffix.collect(room, room.length - 1, -1, candidates);
    // Candidates come from the tries, so their literal prefix or suffix already fits; test the rest.
    return this.#best(candidates.filter((c) => c.re!.test(room)));
  }

  #best(matching: IndexedPattern[]): RoomMatch {
    if (matching.length === 0) return { ties: [] };
    // Each policy counts once, with its most specific matching pattern (the first of equals).
    const own = new Map<number, IndexedPattern>();
    for (const m of matching) {
      const seen = own.get(m.order);
      if (!seen || m.rank > seen.rank || (m.rank === seen.rank && m.slot < seen.slot)) own.set(m.order, m);
    }
    const ranked = [...own.values()].sort((a, b) => b.rank - a.rank || a.order - b.order);
    const best = ranked[0]!;
    const ties = ranked.filter((m) => m !== best && m.rank === best.rank).map((m) => this.#policies[m.order]!);
    return { policy: this.#policies[best.order]!, pattern: best.pattern, ties };
  }
}

// One index per policy set; a reload brings a new policies array and with it a new index.
const indexes = new WeakMap<readonly Policy[], { size: number; index: RoomIndex }>();

/** The room index of a policy set, built on first use and kept while the set lives. */
export function roomIndexOf(set: PolicySet): RoomIndex {
  const known = indexes.get(set.policies);
  // The size check catches a caller that pushed into the array after a lookup (tests build sets so).
  if (known && known.size === set.policies.length) return known.index;
  const index = new RoomIndex(set.policies);
  indexes.set(set.policies, { size: set.policies.length, index });
  return index;
}
