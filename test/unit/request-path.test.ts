// The one path model (src/backends/request-path.ts), class by class: what every upstream reads the same
// way passes; what a servlet container, nginx or Node would read as another path is refused; an escaped
// letter is sent to its plain spelling. The same decisions are held against real Tomcat and nginx by
// test/security/path-differential.test.ts.
import { describe, expect, it } from 'vitest';
import { readRequestPath, type PathRefusal } from '../../src/backends/request-path.js';

describe('request path model: accepted as sent', () => {
  it.each([
    ['/'],
    ['/rooms/town-hall'],
    ['/rooms/board/'],
    ['/rooms/team%20meeting%20%c3%a4'],
    ['/rooms/Team%20Meeting%20%C3%84'],
    ['/static/app.js'],
    ['/rooms/a.b'],
    ['/rooms/...'],
    ['/rooms/board.'],
    ['/rooms/.well-known'],
    ['/_roomguard/login'],
    ["/rooms/a!$&'()*+,=:@b"],
    ['/rooms/b%25oard'],
    ['/rooms/%ef%bd%82oard'],
  ])('%s', (path) => {
    const reading = readRequestPath(path);
    expect(reading.kind).toBe('path');
    if (reading.kind === 'path') expect(reading.path.raw).toBe(path);
  });

  it('hands on the raw segments and the decoded path', () => {
    expect(readRequestPath('/rooms/b%C3%A4rd/')).toEqual({ kind: 'path', path: { raw: '/rooms/b%C3%A4rd/', segments: ['rooms', 'b%C3%A4rd', ''], decoded: '/rooms/bärd/' } });
    expect(readRequestPath('/')).toEqual({ kind: 'path', path: { raw: '/', segments: [''], decoded: '/' } });
  });
});

describe('request path model: refused', () => {
  it.each<[string, string, PathRefusal]>([
    ['a path parameter in the first segment (servlets read /rooms/board)', '/rooms;x/board', 'path-parameter'],
    ['an empty path parameter', '/rooms;/board/chat', 'path-parameter'],
    ['a path parameter in the last segment', '/rooms/board;jsessionid=1', 'path-parameter'],
    ['a path parameter after ..', '/x/..;/rooms/board', 'path-parameter'],
    ['an escaped ; (%3b)', '/rooms%3bx/board', 'path-parameter'],
    ['an escaped ; (%3B)', '/rooms/board%3B', 'path-parameter'],
    ['a BBB API prefix with a parameter', '/bigbluebutton;x/api/join', 'path-parameter'],
    ['an empty segment in the middle', '/rooms//board', 'empty-segment'],
    ['a leading double slash', '//rooms/board', 'empty-segment'],
    ['a trailing double slash', '/rooms//', 'empty-segment'],
    ['a . segment', '/rooms/./board', 'dot-segment'],
    ['a .. segment', '/rooms/../board', 'dot-segment'],
    ['a trailing .. segment', '/rooms/board/..', 'dot-segment'],
    ['a trailing . segment', '/rooms/board/.', 'dot-segment'],
    ['an escaped . segment', '/rooms/%2e/board', 'dot-segment'],
    ['an escaped .. segment', '/rooms/%2e%2e/board', 'dot-segment'],
    ['a half-escaped .. segment', '/rooms/.%2E/board', 'dot-segment'],
    ['a trailing escaped . segment', '/rooms/board/%2e', 'dot-segment'],
    ['an escaped slash', '/rooms/a%2fb', 'encoded-separator'],
    ['an escaped slash, upper case', '/rooms%2Fboard', 'encoded-separator'],
    ['an escaped backslash', '/rooms/a%5Cb', 'encoded-separator'],
    ['an escaped NUL', '/rooms/a%00b', 'encoded-control'],
    ['an escaped newline', '/rooms/bo%0aard', 'encoded-control'],
    ['an escaped DEL', '/rooms/bo%7Fard', 'encoded-control'],
    ['a lone %', '/rooms/a%', 'malformed-escape'],
    ['% with one hex digit', '/rooms/a%2', 'malformed-escape'],
    ['% with non-hex digits', '/rooms/%zz', 'malformed-escape'],
    ['an escaped escape of a letter', '/rooms/%2562oard', 'double-encoding'],
    ['an escaped escape of a slash', '/rooms/a%252fb', 'double-encoding'],
    ['an overlong / (C0 AF)', '/rooms/%c0%af', 'invalid-utf8'],
    ['an overlong . (C0 AE)', '/rooms/%c0%ae%c0%ae/x', 'invalid-utf8'],
    ['a stray byte FF', '/rooms/%ff', 'invalid-utf8'],
    ['a lone continuation byte', '/rooms/%80board', 'invalid-utf8'],
    ['a truncated sequence', '/rooms/%c3', 'invalid-utf8'],
    ['an encoded surrogate', '/rooms/%ed%a0%80', 'invalid-utf8'],
    ['a backslash', '/rooms\\board', 'raw-character'],
    ['a raw NUL', '/rooms/a\u0000b', 'raw-character'],
    ['a tab', '/rooms/a\tb', 'raw-character'],
    ['a space', '/rooms/a b', 'raw-character'],
    ['a raw #', '/rooms/board#x', 'raw-character'],
    ['a raw non-ASCII character', '/rooms/bärd', 'raw-character'],
    ['a raw full-width letter', '/ｒooms/board', 'raw-character'],
    ['a raw | (Tomcat refuses it)', '/rooms/a|b', 'raw-character'],
    ['raw brackets', '/rooms/[board]', 'raw-character'],
    ['a raw quote', '/rooms/"board"', 'raw-character'],
    ['an absolute URI', 'http://evil.example/rooms/board', 'not-a-path'],
    ['the empty string', '', 'not-a-path'],
    ['a relative path', 'rooms/board', 'not-a-path'],
    ['a path over 4096 characters', `/rooms/${'a'.repeat(4096)}`, 'too-long'],
  ])('%s: %s', (_label, path, why) => {
    expect(readRequestPath(path)).toEqual({ kind: 'refused', why });
  });
});

describe('request path model: escaped letters, digits and -._~ are sent to the plain spelling', () => {
  it.each([
    ['/%72ooms/board', '/rooms/board'],
    ['/rooms/%62oard', '/rooms/board'],
    ['/rooms/%62%4F%61rd', '/rooms/bOard'],
    ['/%5froomguard/login', '/_roomguard/login'],
    ['/rooms/a%2eb', '/rooms/a.b'],
    ['/rooms/a%7Eb%2D', '/rooms/a~b-'],
    ['/bigbluebutton/%61pi/join', '/bigbluebutton/api/join'],
  ])('%s → %s', (path, plain) => {
    const reading = readRequestPath(path);
    expect(reading.kind).toBe('respelled');
    expect(reading.kind === 'respelled' && reading.path).toEqual((readRequestPath(plain) as { path: unknown }).path);
  });

  it('refuses a respelling whose plain form would itself be refused (%25%34%31 → %2541)', () => {
    expect(readRequestPath('/rooms/%25%34%31')).toEqual({ kind: 'refused', why: 'double-encoding' });
  });
});
