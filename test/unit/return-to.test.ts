// returnTo (DESIGN invariant 7 "Redirects stay home"; issue 2: only same-origin relative paths,
// `//evil`, `/\evil`, `https:evil` and encoded forms refused).
import { describe, expect, it } from 'vitest';
import { safeReturnTo } from '../../src/identity/return-to.js';

const PUBLIC = new URL('https://meet.example.org');

describe('safeReturnTo: accepted', () => {
  it('accepts the root path', () => {
    expect(safeReturnTo('/', PUBLIC)).toBe('/');
  });

  it('accepts a room path with query and fragment, unchanged', () => {
    expect(safeReturnTo('/rooms/board?x=1#y', PUBLIC)).toBe('/rooms/board?x=1#y');
  });

  it('accepts a path with an ordinary percent-encoded character (a space)', () => {
    expect(safeReturnTo('/rooms/team%20meeting', PUBLIC)).toBe('/rooms/team%20meeting');
  });

  it('always returns a path that resolves to the public origin', () => {
    for (const value of ['/', '/rooms/board?x=1#y', '/rooms/town-hall/', '/a/b/c?returnTo=//evil', '/rooms/team%20meeting']) {
      const result = safeReturnTo(value, PUBLIC);
      expect(result, value).toBeDefined();
      expect(result!.startsWith('/'), value).toBe(true);
      expect(result!.startsWith('//'), value).toBe(false);
      expect(new URL(result!, PUBLIC).origin, value).toBe(PUBLIC.origin);
      // Resolving against another base must not reach a different host either.
      expect(new URL(result!, 'https://other.example').host, value).toBe('other.example');
    }
  });
});

describe('safeReturnTo: refused', () => {
  it.each([
    ['protocol-relative //evil', '//evil'],
    ['protocol-relative //evil.example/path', '//evil.example/path'],
    ['backslash /\\evil (browsers read \\ as /)', '/\\evil'],
    ['double backslash \\\\evil', '\\\\evil'],
    ['absolute https://evil', 'https://evil'],
    ['scheme without slashes https:evil', 'https:evil'],
    ['javascript:alert(1)', 'javascript:alert(1)'],
    ['data: URL', 'data:text/html,<script>alert(1)</script>'],
    ['encoded slashes /%2F%2Fevil', '/%2F%2Fevil'],
    ['encoded slashes, lowercase /%2f%2fevil', '/%2f%2fevil'],
    ['double-encoded slashes /%252F%252Fevil', '/%252F%252Fevil'],
    ['encoded backslash /%5Cevil', '/%5Cevil'],
    ['double-encoded backslash /%255Cevil', '/%255Cevil'],
    ['tab inside /\\t/evil', '/\t/evil'],
    ['newline inside /\\n/evil', '/\n/evil'],
    ['carriage return inside', '/rooms\r\n/evil'],
    ['encoded tab /%09/evil', '/%09/evil'],
    ['NUL', '/rooms/\u0000'],
    ['a relative path without leading slash', 'rooms/board'],
    ['the empty string', ''],
    ['roomguard\'s own logout', '/_roomguard/logout'],
    ['roomguard\'s own login (a redirect loop)', '/_roomguard/login?returnTo=/'],
    ['the /_roomguard prefix itself', '/_roomguard'],
  ])('refuses %s', (_label, value) => {
    expect(safeReturnTo(value, PUBLIC)).toBeUndefined();
  });

  it('refuses the percent-encoded /%5Froomguard/logout, which Fastify routes to /_roomguard/logout', () => {
    // find-my-way decodes %5F before routing, so this spelling reaches the same handler as /_roomguard/logout.
    expect(safeReturnTo('/%5Froomguard/logout', PUBLIC)).toBeUndefined();
    expect(safeReturnTo('/%5froomguard/login?returnTo=/', PUBLIC)).toBeUndefined();
  });

  it('refuses a dot-segment path that resolves into /_roomguard/', () => {
    expect(safeReturnTo('/rooms/../_roomguard/logout', PUBLIC)).toBeUndefined();
  });

  it('refuses non-strings', () => {
    for (const value of [undefined, null, 42, true, {}, { toString: () => '/' }]) {
      expect(safeReturnTo(value, PUBLIC), String(value)).toBeUndefined();
    }
  });

  it('refuses arrays (a repeated query parameter), even of safe paths', () => {
    expect(safeReturnTo(['/rooms/board'], PUBLIC)).toBeUndefined();
    expect(safeReturnTo(['/a', '/b'], PUBLIC)).toBeUndefined();
  });

  it('refuses over-long values', () => {
    expect(safeReturnTo('/' + 'a'.repeat(10_000), PUBLIC)).toBeUndefined();
  });

  it('accepts a long but reasonable path (the deny side of the length limit)', () => {
    const path = '/rooms/' + 'a'.repeat(500);
    expect(safeReturnTo(path, PUBLIC)).toBe(path);
  });

  it('refuses malformed percent-encoding instead of guessing', () => {
    expect(safeReturnTo('/rooms/%E0%A4%A', PUBLIC)).toBeUndefined();
  });
});

describe('dot segments', () => {
  const pub = new URL('https://meet.example.org');
  it.each(['/.//evil.example', '/..//evil.example', '/%2e//evil.example', '/a/../b', '/./rooms/x', '/rooms/..'])('refuses %s', (value) => {
    expect(safeReturnTo(value, pub)).toBeUndefined();
  });
  it('still accepts names that merely contain dots', () => {
    expect(safeReturnTo('/rooms/v1.2?x=a.b', pub)).toBe('/rooms/v1.2?x=a.b');
  });
});
