// Paths the gateway refuses to forward because an upstream might normalise them into another path than
// the one the policy judged (DESIGN invariant 2): empty segments, dot segments, encoded slash/backslash/NUL.
import { describe, expect, it } from 'vitest';
import { isCleanPath } from '../../src/gateway/path-hygiene.js';

describe('isCleanPath: accepted', () => {
  it.each([
    ['/'],
    ['/rooms/town-hall'],
    ['/rooms/board/'],
    ['/rooms/team%20meeting%20%c3%a4'],
    ['/static/app.js'],
    ['/rooms/a.b'],
    ['/rooms/...'],
    ['/rooms/.well-known'],
    ['/_roomguard/login'],
  ])('accepts the normal path %s', (path) => {
    expect(isCleanPath(path)).toBe(true);
  });
});

describe('isCleanPath: refused', () => {
  it.each([
    ['an empty segment in the middle', '/rooms//board'],
    ['a leading double slash', '//rooms/board'],
    ['a trailing double slash', '/rooms//'],
    ['a plain . segment', '/rooms/./board'],
    ['a plain .. segment', '/rooms/../board'],
    ['a trailing .. segment', '/rooms/board/..'],
    ['a trailing . segment', '/rooms/.'],
    ['an encoded . segment (%2e)', '/rooms/%2e/board'],
    ['an encoded .. segment (%2e%2e)', '/rooms/%2e%2e/board'],
    ['an encoded .. segment in mixed case (%2E%2e)', '/rooms/%2E%2e/board'],
    ['a half-encoded .. segment (.%2e)', '/rooms/.%2e/board'],
    ['a half-encoded .. segment (%2E.)', '/rooms/%2E./board'],
    ['an encoded slash %2f', '/rooms/a%2fb'],
    ['an encoded slash %2F', '/rooms/a%2Fb'],
    ['an encoded backslash %5c', '/rooms/a%5cb'],
    ['an encoded backslash %5C', '/rooms/a%5Cb'],
    ['an encoded NUL %00', '/rooms/a%00b'],
    ['a backslash', '/rooms\\board'],
    ['a raw NUL', '/rooms/a\u0000b'],
    ['a tab', '/rooms/a\tb'],
    ['a newline', '/rooms/a\nb'],
    ['a DEL character', '/rooms/a\u007fb'],
    ['a path not starting with /', 'rooms/board'],
    ['the empty string', ''],
  ])('refuses %s', (_label, path) => {
    expect(isCleanPath(path)).toBe(false);
  });
});
