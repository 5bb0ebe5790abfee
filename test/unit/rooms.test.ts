// Room patterns: exact names and globs (* any run, ? one character), precedence and overlap (issue 2,
// "Precedence between files").
import { describe, expect, it } from 'vitest';
import { canonicalPattern, isGlob, patternMatches, patternsOverlap, specificity } from '../../src/policy/rooms.js';

describe('patternMatches', () => {
  it('matches an exact name only to that name', () => {
    expect(patternMatches('board', 'board')).toBe(true);
    expect(patternMatches('board', 'board2')).toBe(false);
    expect(patternMatches('board', 'boar')).toBe(false);
    expect(patternMatches('board', 'xboard')).toBe(false);
  });

  it('lets * match any run of characters, including none', () => {
    expect(patternMatches('staff-*', 'staff-weekly')).toBe(true);
    expect(patternMatches('staff-*', 'staff-')).toBe(true);
    expect(patternMatches('*-weekly', 'staff-weekly')).toBe(true);
    expect(patternMatches('a*c', 'ac')).toBe(true);
    expect(patternMatches('a*c', 'abbbc')).toBe(true);
  });

  it('does not let * match outside the literal parts around it', () => {
    expect(patternMatches('staff-*', 'staff')).toBe(false);
    expect(patternMatches('staff-*', 'xstaff-weekly')).toBe(false);
    expect(patternMatches('*-weekly', 'staff-weekly2')).toBe(false);
    expect(patternMatches('a*c', 'ab')).toBe(false);
  });

  it('lets ? match exactly one character, not zero and not two', () => {
    expect(patternMatches('a?c', 'abc')).toBe(true);
    expect(patternMatches('a?c', 'ac')).toBe(false);
    expect(patternMatches('a?c', 'abbc')).toBe(false);
  });

  it('lets * alone match every room', () => {
    expect(patternMatches('*', 'board')).toBe(true);
    expect(patternMatches('*', 'team%20meeting%20%c3%a4')).toBe(true);
  });

  it('treats regex metacharacters in names literally (a.b does not match axb)', () => {
    expect(patternMatches('a.b*', 'a.bc')).toBe(true);
    expect(patternMatches('a.b*', 'axbc')).toBe(false);
    expect(patternMatches('a+b*', 'aab')).toBe(false);
    expect(patternMatches('a+b*', 'a+b')).toBe(true);
    expect(patternMatches('(x)*', '(x)y')).toBe(true);
    expect(patternMatches('(x)*', 'xy')).toBe(false);
    expect(patternMatches('a$*', 'a$')).toBe(true);
    expect(patternMatches('[ab]*', 'a')).toBe(false);
    expect(patternMatches('a|b*', 'b')).toBe(false);
    expect(patternMatches('a.b', 'axb')).toBe(false);
  });

  it('matches the whole name: * also spans a newline, and no pattern matches just a prefix', () => {
    expect(patternMatches('a*', 'a\nb')).toBe(true);
    expect(patternMatches('a', 'a\n')).toBe(false);
    expect(patternMatches('a?', 'a\nb')).toBe(false);
  });
});

describe('isGlob', () => {
  it('recognises * and ? as glob characters', () => {
    expect(isGlob('board')).toBe(false);
    expect(isGlob('board-*')).toBe(true);
    expect(isGlob('a?c')).toBe(true);
  });
});

describe('specificity', () => {
  it('ranks an exact name above any glob, however long', () => {
    expect(specificity('a')).toBeGreaterThan(specificity('a-very-long-literal-prefix-*'));
    expect(specificity('board')).toBeGreaterThan(specificity('board?'));
  });

  it('ranks a glob with more literal characters above one with fewer', () => {
    expect(specificity('board-*')).toBeGreaterThan(specificity('b*'));
    expect(specificity('staff-weekly-*')).toBeGreaterThan(specificity('staff-*'));
    expect(specificity('b*')).toBeGreaterThan(specificity('*'));
  });

  it('does not count glob characters as literal (board-*, board-?? and *board- rank equally)', () => {
    expect(specificity('board-*')).toBe(specificity('board-??'));
    expect(specificity('board-*')).toBe(specificity('*board-'));
  });
});

describe('patternsOverlap', () => {
  it('finds overlap between globs anchored at opposite ends (staff-* and *-weekly share staff-weekly)', () => {
    expect(patternsOverlap('staff-*', '*-weekly')).toBe(true);
    expect(patternsOverlap('*-weekly', 'staff-*')).toBe(true);
  });

  it('finds no overlap between globs with different literal prefixes (a* and b*)', () => {
    expect(patternsOverlap('a*', 'b*')).toBe(false);
    expect(patternsOverlap('b*', 'a*')).toBe(false);
  });

  it('finds no overlap between globs with different literal suffixes (*-a and *-b)', () => {
    expect(patternsOverlap('*-a', '*-b')).toBe(false);
  });

  it('finds overlap between a?c and the name abc, and none between a?c and abbc', () => {
    expect(patternsOverlap('a?c', 'abc')).toBe(true);
    expect(patternsOverlap('abc', 'a?c')).toBe(true);
    expect(patternsOverlap('a?c', 'abbc')).toBe(false);
    expect(patternsOverlap('abbc', 'a?c')).toBe(false);
  });

  it('lets * overlap everything, including the empty-suffix and other globs', () => {
    for (const other of ['*', 'board', 'staff-*', '*-weekly', 'a?c', '?']) {
      expect(patternsOverlap('*', other), other).toBe(true);
      expect(patternsOverlap(other, '*'), other).toBe(true);
    }
  });

  it('treats two exact names as overlapping only when equal', () => {
    expect(patternsOverlap('board', 'board')).toBe(true);
    expect(patternsOverlap('board', 'boards')).toBe(false);
  });

  it('respects lengths fixed by ? (?? and ??? never name the same room)', () => {
    expect(patternsOverlap('??', '???')).toBe(false);
    expect(patternsOverlap('??', 'a*')).toBe(true);
    expect(patternsOverlap('a?', '?b')).toBe(true);
    expect(patternsOverlap('a?', 'b?')).toBe(false);
  });

});

describe('canonicalPattern', () => {
  it('canonicalises the literal parts of a glob (Board-* → board-*)', () => {
    expect(canonicalPattern('Board-*')).toBe('board-*');
  });

  it('keeps * and ? and canonicalises every literal part around them', () => {
    expect(canonicalPattern('*-Weekly')).toBe('*-weekly');
    expect(canonicalPattern('A?C*D')).toBe('a?c*d');
    expect(canonicalPattern('*')).toBe('*');
  });

  it('canonicalises exact names like the backend does (spaces and umlauts percent-encoded, lowercase)', () => {
    expect(canonicalPattern('Team Meeting Ä')).toBe('team%20meeting%20%c3%a4');
    expect(canonicalPattern('Team Ä-*')).toBe('team%20%c3%a4-*');
  });
});
