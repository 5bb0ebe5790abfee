// Property-based attacks on the two pure functions every admission rests on: room canonicalisation
// (src/backends/room-name.ts) and the policy room matcher (src/policy/rooms.ts). fast-check generates
// spellings of room names and patterns; a counterexample is printed with its seed when a property breaks.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { backendSafeRoomName, canonicalRoom } from '../../src/backends/room-name.js';
import { patternMatches, patternsOverlap } from '../../src/policy/rooms.js';
import { decide } from '../../src/policy/decide.js';
import { parsePolicyText } from '../../src/policy/parse.js';
import type { PolicySet, Subject } from '../../src/policy/types.js';

const RUNS = { numRuns: 2000 };

/** Plain canonical room names as admins write them. */
const roomName = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,23}$/);

/** One character of a room name, spelled the way an attacker might: upper case, %XX in either hex case, full width. */
function spellings(ch: string): fc.Arbitrary<string> {
  const code = ch.charCodeAt(0);
  const hex = code.toString(16).padStart(2, '0');
  const options = [ch, ch.toUpperCase(), `%${hex}`, `%${hex.toUpperCase()}`];
  // NFKC folds the full-width block U+FF01..U+FF5E onto ASCII 0x21..0x7E.
  if (code >= 0x21 && code <= 0x7e) {
    const wide = String.fromCharCode(code + 0xfee0);
    options.push(wide, encodeURIComponent(wide), encodeURIComponent(wide.toUpperCase()));
  }
  return fc.constantFrom(...options);
}

/** A random other spelling of `name` (every character independently respelled). */
function variantOf(name: string): fc.Arbitrary<string> {
  return fc.tuple(...[...name].map(spellings)).map((parts) => parts.join(''));
}

/** Any text a path segment could carry: printable, controls, percent escapes (valid or not), astral and full-width characters. */
const anySegment = fc.array(
  fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 4 }),
    fc.string({ unit: 'binary', maxLength: 3 }),
    fc.constantFrom('%', '%2', '%zz', '%00', '%0a', '%2f', '%5c', '%2e', '%25', '%c3', '%c3%a4', '%ef%bd%81', '.', '..', ';', '/', '\\', '\u0000', '\u007f', 'Ａ', 'ß', 'İ', 'ﬃ', 'Ω'),
  ),
  { maxLength: 8 },
).map((parts) => parts.join(''));

describe('canonical room names (property)', () => {
  it('is idempotent: the canonical name of a canonical name is itself', () => {
    fc.assert(fc.property(anySegment, (raw) => {
      const canonical = canonicalRoom(raw);
      if (canonical === undefined) return;
      expect(canonicalRoom(canonical)).toBe(canonical);
    }), RUNS);
  });

  it('judges exactly the room Jitsi opens: canonicalRoom agrees with getBackendSafeRoomName whenever it admits a name', () => {
    fc.assert(fc.property(anySegment, (raw) => {
      const canonical = canonicalRoom(raw);
      if (canonical === undefined) return;
      expect(backendSafeRoomName(raw)).toBe(canonical);
      // The gateway forwards the canonical name; Jitsi canonicalises it again and must land in the same room.
      expect(backendSafeRoomName(canonical)).toBe(canonical);
    }), RUNS);
  });

  it('lets a respelling change nothing but the spelling, also next to separators, escapes and controls', () => {
    // No malformed escapes here: one anywhere makes Jitsi (and so roomguard) take the whole segment
    // literally, a different room, which the "judges exactly the room Jitsi opens" property covers.
    const tails = fc.constantFrom('', ';x', '%3b', '%00', '%2f', '/', '.', '%2e', '%20', '\t', '?', '#', '%25', '%c3%a4');
    const spelled = roomName.chain((name) => fc.tuple(fc.constant(name), variantOf(name), tails, tails));
    fc.assert(fc.property(spelled, ([name, variant, before, after]) => {
      // Whatever the plain spelling with the same surroundings names (or refuses), the respelling names (or refuses) too.
      expect(canonicalRoom(before + variant + after)).toBe(canonicalRoom(before + name + after));
    }), RUNS);
  });

  it('never yields a name with a slash, backslash, control character or dot segment in it', () => {
    fc.assert(fc.property(anySegment, (raw) => {
      const canonical = canonicalRoom(raw);
      if (canonical === undefined) return;
      const decoded = decodeURIComponent(canonical);
      // eslint-disable-next-line no-control-regex
      expect(decoded).not.toMatch(/[\u0000-\u001f\u007f/\\]/);
      expect(['', '.', '..']).not.toContain(decoded);
    }), RUNS);
  });

  it('maps every case, percent-encoded and full-width spelling of a room onto that room', () => {
    const named = roomName.chain((name) => fc.tuple(fc.constant(name), variantOf(name)));
    fc.assert(fc.property(named, ([name, variant]) => {
      expect(canonicalRoom(variant)).toBe(name);
    }), RUNS);
  });

  it('never maps a spelling of a denied room onto an allowed room', () => {
    const policy = parsePolicyText('open.yaml', 'rooms: [town-hall, "staff-*", "a?"]\nallow:\n  - anyone: true\n');
    expect(policy.problems).toEqual([]);
    const set: PolicySet = { policies: [policy.policy!], version: 'test' };
    const subject: Subject = { identity: { sub: 'mallory', iss: 'https://idp.test', groups: [], emailVerified: true } };
    const allowed = (room: string) => decide(subject, room, set, 0).outcome === 'allow';
    // Denied names that sit one character away from allowed ones, so a sloppy fold would cross over.
    const denied = fc.oneof(roomName, fc.constantFrom('town-hal', 'town-hall-', 'townhall', 'staff', 'staf-x', 'a', 'ab1', 'town-hall2'))
      .filter((name) => !allowed(name));
    const spelled = denied.chain((name) => fc.tuple(fc.constant(name), variantOf(name)));
    fc.assert(fc.property(spelled, ([name, raw]) => {
      const canonical = canonicalRoom(raw);
      if (canonical === undefined) return;
      expect(canonical).toBe(name);
      expect(allowed(canonical), `${JSON.stringify(raw)} spells the denied ${name} but was allowed`).toBe(false);
    }), RUNS);
  });
});

/** A reference glob matcher written the obvious way: * any run, ? one character, everything else literal. */
function referenceMatch(pattern: string, room: string): boolean {
  if (pattern === '') return room === '';
  const [head, rest] = [pattern[0]!, pattern.slice(1)];
  if (head === '*') {
    for (let i = 0; i <= room.length; i++) if (referenceMatch(rest, room.slice(i))) return true;
    return false;
  }
  if (room === '') return false;
  if (head === '?' || head === room[0]) return referenceMatch(rest, room.slice(1));
  return false;
}

// A small alphabet with regular-expression metacharacters, so escaping mistakes in the matcher show up.
const ALPHABET = ['a', 'b', '-', '.', '%', '2', '+', '(', ')', '[', ']', '^', '$', '|', '\\', '{', '}', '\n'];
const roomText = fc.array(fc.constantFrom(...ALPHABET), { maxLength: 10 }).map((c) => c.join(''));
const patternText = fc.array(fc.constantFrom(...ALPHABET, '*', '?', '*', '?'), { maxLength: 10 }).map((c) => c.join(''));

describe('policy room matcher (property)', () => {
  it('agrees with a reference glob matcher on random patterns and rooms', () => {
    fc.assert(fc.property(patternText, roomText, (pattern, room) => {
      expect(patternMatches(pattern, room)).toBe(referenceMatch(pattern, room));
    }), { numRuns: 5000 });
  });

  it('agrees with the reference on rooms built to match the pattern (so the true side is exercised too)', () => {
    const matching = patternText.chain((pattern) => fc.tuple(
      fc.constant(pattern),
      fc.tuple(...[...pattern].map((c) => (c === '*' ? roomText : c === '?' ? fc.constantFrom(...ALPHABET) : fc.constant(c)))).map((p) => p.join('')),
    ));
    fc.assert(fc.property(matching, ([pattern, room]) => {
      expect(referenceMatch(pattern, room)).toBe(true);
      expect(patternMatches(pattern, room)).toBe(true);
    }), { numRuns: 3000 });
  });

  it('reports an overlap whenever some room matches both patterns (lint relies on it for ambiguity)', () => {
    fc.assert(fc.property(patternText, patternText, roomText, (a, b, room) => {
      if (referenceMatch(a, room) && referenceMatch(b, room)) expect(patternsOverlap(a, b)).toBe(true);
    }), { numRuns: 5000 });
  });
});
