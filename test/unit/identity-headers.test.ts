// Identity headers cannot be spoofed (DESIGN invariant 6), the upstream never sees roomguard's cookies,
// header values survive HTTP intact; and participants get every message in German and English.
import { describe, expect, it } from 'vitest';
import { headerSafe, identityHeaders, isSpoofable, stripOwnCookies } from '../../src/gateway/identity-headers.js';
import { ERROR_TEXT, pickLang } from '../../src/ui/i18n.js';
import { ERRORS, type ErrorCode } from '../../src/errors.js';

/** The headers the proxy copies to the upstream, as far as spoofing goes. */
const kept = (headers: Record<string, unknown>) => Object.fromEntries(Object.entries(headers).filter(([name]) => !isSpoofable(name)));

describe('isSpoofable', () => {
  it('removes X-Roomguard-* headers in any casing', () => {
    const headers: Record<string, unknown> = {
      'x-roomguard-user': 'mallory',
      'X-Roomguard-Email': 'ceo@example.org',
      'X-ROOMGUARD-GROUPS': 'board',
      'x-RoomGuard-Role': 'moderator',
      'x-roomguard-assertion': 'forged.jwt.value',
      'x-roomguard-anything-new': '1',
    };
    expect(kept(headers)).toEqual({});
  });

  it('keeps every other header, including look-alikes without the dash', () => {
    const headers: Record<string, unknown> = {
      host: 'meet.example.org',
      cookie: 'a=1',
      'x-forwarded-for': '203.0.113.7',
      'x-roomguardian': 'not ours',
      'x-roomguard': 'no suffix',
      'x-roomguard-user': 'mallory',
    };
    // x-forwarded-for is dropped too: roomguard sets its own from the address it trusts.
    expect(kept(headers)).toEqual({
      host: 'meet.example.org',
      cookie: 'a=1',
      'x-roomguardian': 'not ours',
      'x-roomguard': 'no suffix',
    });
  });

  it('removes underscore spellings (CGI/WSGI read them as the same header) and proxy headers upstreams trust', () => {
    const headers: Record<string, unknown> = {
      X_Roomguard_User: 'admin', 'x-roomguard_role': 'moderator', 'X-Original-URL': '/rooms/vault', 'x-rewrite-url': '/x',
      'X-Real-IP': '10.0.0.1', 'x-forwarded-prefix': '/admin', 'x-forwarded-port': '443', forwarded: 'for=1.2.3.4', 'remote-user': 'admin', accept: 'text/html',
    };
    expect(kept(headers)).toEqual({ accept: 'text/html' });
  });

  it('removes a spoofed header given as an array of values', () => {
    const headers: Record<string, unknown> = { 'x-roomguard-groups': ['board', 'staff'] };
    expect(kept(headers)).toEqual({});
  });
});

describe('stripOwnCookies', () => {
  const own = ['__Host-roomguard_session', 'roomguard_login'];

  it('removes exactly the named cookies and keeps the others in order', () => {
    expect(stripOwnCookies('a=1; __Host-roomguard_session=SECRET; b=2; roomguard_login=X; c=3', own)).toBe('a=1; b=2; c=3');
  });

  it('keeps cookies whose names only contain or extend an own name', () => {
    const header = 'x__Host-roomguard_session=1; __Host-roomguard_session2=2; roomguard_login_hint=3';
    expect(stripOwnCookies(header, own)).toBe(header);
  });

  it('keeps a cookie whose value mentions an own name', () => {
    expect(stripOwnCookies('pref=__Host-roomguard_session=1', own)).toBe('pref=__Host-roomguard_session=1');
  });

  it('removes every copy of an own cookie sent twice', () => {
    expect(stripOwnCookies('__Host-roomguard_session=A; a=1; __Host-roomguard_session=B', own)).toBe('a=1');
  });

  it('tolerates missing spaces after the semicolon', () => {
    expect(stripOwnCookies('a=1;__Host-roomguard_session=S;b=2', own)).toBe('a=1; b=2');
  });

  it('returns undefined when nothing is left, or nothing was sent', () => {
    expect(stripOwnCookies('__Host-roomguard_session=S', own)).toBeUndefined();
    expect(stripOwnCookies(undefined, own)).toBeUndefined();
    expect(stripOwnCookies('', own)).toBeUndefined();
  });
});

describe('headerSafe', () => {
  const samples = ['Jürgen Müller', 'Zoë, Dr.', '100% sure', 'a,b,c', 'plain', 'Łódź 東京 👩‍💻', '%41 is not A', 'tab\there', 'line\nbreak', 'quote"s'];

  it('round-trips through decodeURIComponent', () => {
    for (const value of samples) expect(decodeURIComponent(headerSafe(value)), value).toBe(value);
  });

  it('produces only printable ASCII, without commas (so group lists can be split on ,)', () => {
    for (const value of samples) {
      const out = headerSafe(value);
      expect(out, value).toMatch(/^[\x20-\x7e]*$/);
      expect(out, value).not.toContain(',');
    }
  });

  it('percent-encodes non-ASCII, % and , and leaves plain ASCII alone', () => {
    expect(headerSafe('ä')).toBe('%C3%A4');
    expect(headerSafe('%')).toBe('%25');
    expect(headerSafe(',')).toBe('%2C');
    expect(headerSafe('alice@example.org')).toBe('alice@example.org');
    expect(headerSafe('Alice Example')).toBe('Alice Example');
  });

  it('encodes control characters, so no header can be split', () => {
    expect(headerSafe('a\r\nX-Roomguard-Role: moderator')).not.toMatch(/[\r\n]/);
  });

  it('keeps a group containing a comma as one group in X-Roomguard-Groups', () => {
    const h = identityHeaders({ sub: 's', groups: ['a,b', 'c'], assertion: 'jwt' });
    expect(h['x-roomguard-groups']!.split(',').map(decodeURIComponent)).toEqual(['a,b', 'c']);
  });
});

describe('pickLang', () => {
  it('defaults to English without Accept-Language', () => {
    expect(pickLang(undefined)).toBe('en');
    expect(pickLang('')).toBe('en');
  });

  it('picks German for a German browser', () => {
    expect(pickLang('de-DE,de;q=0.9,en;q=0.8')).toBe('de');
    expect(pickLang('de')).toBe('de');
    expect(pickLang('de-AT')).toBe('de');
  });

  it('picks English for an English browser that also accepts German', () => {
    expect(pickLang('en-US,en;q=0.9,de;q=0.8')).toBe('en');
  });

  it('follows q-values rather than order', () => {
    expect(pickLang('en;q=0.2, de;q=0.9')).toBe('de');
    expect(pickLang('de;q=0.1, en;q=0.9')).toBe('en');
  });

  it('skips languages it does not have and uses the next supported one', () => {
    expect(pickLang('fr-FR, de;q=0.5, en;q=0.4')).toBe('de');
    expect(pickLang('fr-FR, en;q=0.5, de;q=0.4')).toBe('en');
  });

  it('treats q=0 as "not acceptable"', () => {
    expect(pickLang('de;q=0, en;q=0.1')).toBe('en');
    expect(pickLang('de;q=0')).toBe('en');
  });

  it('falls back to English for unsupported languages, wildcards and garbage', () => {
    expect(pickLang('fr')).toBe('en');
    expect(pickLang('*')).toBe('en');
    expect(pickLang(';;;,,,q=abc')).toBe('en');
  });
});

describe('ERROR_TEXT', () => {
  const codes = Object.keys(ERRORS) as ErrorCode[];

  it('has German and English title, text and next step for every error code', () => {
    expect(codes.length).toBeGreaterThan(0);
    for (const code of codes) {
      for (const lang of ['de', 'en'] as const) {
        const t = ERROR_TEXT[code]?.[lang];
        expect(t, `${code}.${lang}`).toBeDefined();
        for (const part of ['title', 'text', 'next'] as const) {
          expect(typeof t![part], `${code}.${lang}.${part}`).toBe('string');
          expect(t![part].trim(), `${code}.${lang}.${part}`).not.toBe('');
        }
      }
    }
  });

  it('really translates: the German title differs from the English one for every code', () => {
    for (const code of codes) expect(ERROR_TEXT[code].de.title, code).not.toBe(ERROR_TEXT[code].en.title);
  });

  it('has no texts for codes that are not in the catalogue', () => {
    expect(Object.keys(ERROR_TEXT).sort()).toEqual([...codes].sort());
  });
});
