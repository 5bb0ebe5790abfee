// Room canonicalisation (DESIGN invariant 2): the name the policy judges is the name Jitsi opens.
// Expected values come from reference/jitsi.md §3 (getBackendSafeRoomName: decode, NFKC, lowercase,
// encode, lowercase) and from the spec of issue 2, not from running the code.
import { describe, expect, it } from 'vitest';
import { backendSafeRoomName, canonicalRoom } from '../../src/backends/room-name.js';

describe('backendSafeRoomName (Jitsi getBackendSafeRoomName)', () => {
  it('lowercases and percent-encodes spaces and non-ASCII: "Team Meeting Ä" → team%20meeting%20%c3%a4', () => {
    expect(backendSafeRoomName('Team Meeting Ä')).toBe('team%20meeting%20%c3%a4');
  });

  it('lowercases plain ASCII: "MyRoom" → myroom', () => {
    expect(backendSafeRoomName('MyRoom')).toBe('myroom');
  });

  it('applies NFKC so the ligature "ﬁnance" becomes "finance"', () => {
    expect(backendSafeRoomName('\uFB01nance')).toBe('finance');
  });

  it('decodes percent-encoding first, so an encoded spelling and the plain one agree', () => {
    expect(backendSafeRoomName('Team%20Meeting%20%C3%84')).toBe('team%20meeting%20%c3%a4');
    expect(backendSafeRoomName('%62oard')).toBe('board');
  });

  it('applies NFKC after decoding (an encoded ligature still folds to "fi")', () => {
    // U+FB01 is EF AC 81 in UTF-8.
    expect(backendSafeRoomName('%EF%AC%81nance')).toBe('finance');
  });

  it('lowercases the hex digits of escapes it produces', () => {
    const out = backendSafeRoomName('Ö');
    expect(out).toBe('%c3%b6');
    expect(out).not.toMatch(/[A-F]/);
  });

  it('is idempotent: the canonical name of a canonical name is unchanged', () => {
    for (const raw of ['Team Meeting Ä', 'MyRoom', '\uFB01nance', 'board', '100%', '%zz', 'Grüße aus Köln', 'a b%20c']) {
      const once = backendSafeRoomName(raw);
      expect(backendSafeRoomName(once), `canonical of ${JSON.stringify(raw)}`).toBe(once);
    }
  });

  it('keeps a malformed percent-encoding as text (the literal % is then encoded) instead of throwing', () => {
    expect(() => backendSafeRoomName('%zz')).not.toThrow();
    expect(backendSafeRoomName('%zz')).toBe('%25zz');
    expect(backendSafeRoomName('100%')).toBe('100%25');
    // When decoding fails the whole input is kept, as in Jitsi's safe decode.
    expect(backendSafeRoomName('Ä%zz')).toBe('%c3%a4%25zz');
  });
});

describe('canonicalRoom', () => {
  it('canonicalises /Board-style spellings to the one room "board"', () => {
    for (const raw of ['board', 'Board', 'BOARD', '%62oard', '%42oard', 'b%4Fard']) {
      expect(canonicalRoom(raw), raw).toBe('board');
    }
  });

  it('returns the Jitsi-canonical name for names with spaces and umlauts', () => {
    expect(canonicalRoom('Team%20Meeting%20%C3%84')).toBe('team%20meeting%20%c3%a4');
    expect(canonicalRoom('town-hall')).toBe('town-hall');
  });

  it('refuses an empty segment', () => {
    expect(canonicalRoom('')).toBeUndefined();
  });

  it('refuses dot segments, plain and encoded', () => {
    expect(canonicalRoom('.')).toBeUndefined();
    expect(canonicalRoom('..')).toBeUndefined();
    expect(canonicalRoom('%2e')).toBeUndefined();
    expect(canonicalRoom('%2E%2e')).toBeUndefined();
  });

  it('refuses an encoded slash (a%2Fb), in either case of hex', () => {
    expect(canonicalRoom('a%2Fb')).toBeUndefined();
    expect(canonicalRoom('a%2fb')).toBeUndefined();
  });

  it('refuses a backslash, plain and encoded', () => {
    expect(canonicalRoom('a\\b')).toBeUndefined();
    expect(canonicalRoom('a%5Cb')).toBeUndefined();
  });

  it('refuses control characters, plain and encoded', () => {
    expect(canonicalRoom('a\u0000b')).toBeUndefined();
    expect(canonicalRoom('a\nb')).toBeUndefined();
    expect(canonicalRoom('a%00b')).toBeUndefined();
    expect(canonicalRoom('a%0Ab')).toBeUndefined();
    expect(canonicalRoom('a%7Fb')).toBeUndefined();
  });

  it("refuses characters Jitsi excludes from room names (@ : ? # ')", () => {
    for (const raw of ['a@b', 'a:b', 'a?b', 'a#b', "a'b", 'a%40b', 'a%3Ab', 'a%3Fb', 'a%23b', 'a%27b']) {
      expect(canonicalRoom(raw), raw).toBeUndefined();
    }
  });

  it('refuses the rest of Jitsi\'s excluded set as well ([ ] ! $ & ( ) * + , ; = < > ")', () => {
    for (const ch of ['[', ']', '!', '$', '&', '(', ')', '*', '+', ',', ';', '=', '<', '>', '"']) {
      expect(canonicalRoom(`a${ch}b`), `a${ch}b`).toBeUndefined();
      expect(canonicalRoom(`a${encodeURIComponent(ch) === ch ? `%${ch.charCodeAt(0).toString(16)}` : encodeURIComponent(ch)}b`), `encoded ${ch}`).toBeUndefined();
    }
  });

  it('refuses characters that only become a slash or excluded character under NFKC (fullwidth ／ and ＠)', () => {
    expect(canonicalRoom('a\uFF0Fb')).toBeUndefined();
    expect(canonicalRoom('a\uFF20b')).toBeUndefined();
  });

  it('accepts a name of exactly 200 canonical characters and refuses 201', () => {
    expect(canonicalRoom('a'.repeat(200))).toBe('a'.repeat(200));
    expect(canonicalRoom('a'.repeat(201))).toBeUndefined();
  });

  it('measures the limit after canonicalisation: 40 × "ä" is 40 characters raw but 240 canonical', () => {
    expect(canonicalRoom('ä'.repeat(40))).toBeUndefined();
    expect(canonicalRoom('ä'.repeat(33))).toBe('%c3%a4'.repeat(33)); // 198 characters
  });

  it('gives the same answer as backendSafeRoomName for every name it accepts', () => {
    for (const raw of ['Board', 'Team Meeting Ä', '\uFB01nance', 'Grüße']) {
      expect(canonicalRoom(raw)).toBe(backendSafeRoomName(raw));
    }
  });
});
