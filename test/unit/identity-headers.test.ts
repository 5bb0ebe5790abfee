// Identity headers cannot be spoofed (DESIGN invariant 6), the upstream never sees roomguard's cookies,
// header values survive HTTP intact; and participants get every message in German and English.
import { describe, expect, it } from 'vitest';
import { encodeHeaderList, encodeHeaderValue, headerNamePattern, headerSafe, identityHeaders, isProxyOnly, isSpoofable, PROXY_ONLY_HEADERS, stripOwnCookies } from '../../src/gateway/identity-headers.js';
import { namesInUse } from '../../src/gateway/header-snippets.js';
import { IDENTITY_HEADER_NAMES, UPSTREAM_COOKIE_HEADER } from '../../src/gateway/forward-auth.js';
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
      'x-roomguard': 'the stem itself',
      'x-roomguard-user': 'mallory',
    };
    // x-forwarded-for is dropped too: roomguard sets its own from the address it trusts.
    expect(kept(headers)).toEqual({
      host: 'meet.example.org',
      cookie: 'a=1',
      'x-roomguardian': 'not ours',
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

/** A name in several spellings an upstream may read as the same: case, and `_`, `.` or `~` between words. */
function spellings(name: string): string[] {
  const words = name.split('-');
  const title = words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('-');
  const zigzag = Array.from(name, (ch, i) => (i % 2 ? ch.toUpperCase() : ch)).join('');
  const mixed = words.map((w, i) => (i === 0 ? w : (i % 2 ? '_' : '-') + w)).join('');
  return [name, name.toUpperCase(), title, zigzag, words.join('_'), words.join('_').toUpperCase(), words.join('.'), words.join('~'), mixed];
}

describe('the rule: headers only a proxy may set', () => {
  it('strips Remote-Groups, Remote-Email and Remote-Name (the attack\'s class) in proxy mode, in any spelling', () => {
    for (const name of ['Remote-Groups', 'Remote-Email', 'Remote-Name', 'remote-user', 'REMOTE_GROUPS', 'Remote_Email', 'remote.name', 'Remote~Groups', 'rEmOtE-gRoUpS']) {
      expect(isSpoofable(name), name).toBe(true);
      expect(isProxyOnly(name), name).toBe(true);
    }
  });

  it('strips the identity headers other proxies and apps use, written out here by hand', () => {
    const names = [
      'X-Forwarded-User', 'X-Forwarded-Email', 'X-Forwarded-Groups', 'X-Forwarded-Preferred-Username', 'X-Forwarded-Access-Token',
      'X-Auth-Request-User', 'X-Auth-Request-Email', 'X-Auth-Request-Groups', 'X-Auth-Request-Preferred-Username', 'X-Auth-Request-Access-Token',
      'X-Remote-User', 'X-Remote-Group', 'X-Remote-Extra-Scopes', 'X-WEBAUTH-USER', 'X-Webauth-Email', 'X-Authenticated-User', 'X-Authenticated-Userid',
      'X-Pomerium-Jwt-Assertion', 'Cf-Access-Authenticated-User-Email', 'X-Goog-Authenticated-User-Email', 'X-Amzn-Oidc-Identity', 'X-MS-CLIENT-PRINCIPAL-NAME',
      'Shib-Identity-Provider', 'OIDC_CLAIM_email', 'MELLON_NAME_ID', 'Tailscale-User-Login', 'X-SSL-Client-S-DN', 'X-Forwarded-Client-Cert', 'X-Original-URL', 'X-Original-URI',
    ];
    for (const name of names) for (const spelt of spellings(name.toLowerCase())) expect(isProxyOnly(spelt), spelt).toBe(true);
  });

  it('covers every name in use of every entry in every spelling, and a family\'s members not listed yet', () => {
    for (const name of namesInUse()) for (const spelt of spellings(name)) expect(isProxyOnly(spelt), spelt).toBe(true);
    for (const entry of PROXY_ONLY_HEADERS.filter((h) => h.kind === 'family')) {
      expect(isProxyOnly(`${entry.key}-something-new`), entry.key).toBe(true);
      expect(isProxyOnly(`${entry.key.replace(/-/g, '_')}_Something_New`), entry.key).toBe(true);
    }
  });

  it('covers every header roomguard itself emits, in proxy and in forward-auth mode', () => {
    const emitted = Object.keys(identityHeaders({ sub: 's', email: 'e', name: 'n', groups: ['g'], room: 'r', role: 'moderator', assertion: 'jwt' }));
    for (const name of [...emitted, ...IDENTITY_HEADER_NAMES, UPSTREAM_COOKIE_HEADER, 'x-roomguard-location', 'x-roomguard-error']) expect(isProxyOnly(name), name).toBe(true);
  });

  it('keeps ordinary headers, look-alikes that only share a stem\'s letters, and client credentials', () => {
    const ordinary = [
      'accept', 'user-agent', 'x-user-agent', 'x-requested-with', 'authorization', 'x-auth-token', 'x-api-key', 'cookie', 'x-roomguardian', 'remoteness', 'x-remotely',
      'shibboleth', 'oidcx', 'x-users', 'x-emails', 'x-client-certificate', 'sec-websocket-key', 'x-forwarded-for', 'forwarded', 'x-csrf-token', 'x-request-id',
    ];
    for (const name of ordinary) expect(isProxyOnly(name), name).toBe(false);
    // The forwarding headers are the proxy's own business: roomguard's proxy drops a client's (and sets its own).
    for (const name of ['x-forwarded-for', 'X_Forwarded_Host', 'x-forwarded-prefix', 'forwarded', 'x-real-ip', 'X.Real.IP']) expect(isSpoofable(name), name).toBe(true);
    for (const name of ordinary.filter((n) => n !== 'x-forwarded-for' && n !== 'forwarded')) expect(isSpoofable(name), name).toBe(false);
  });

  it('writes every key as lower-case words joined by single dashes, each once (the pattern is built from them)', () => {
    const keys = PROXY_ONLY_HEADERS.map((h) => h.key);
    for (const key of keys) expect(key).toMatch(/^[a-z0-9]+(?:-[a-z0-9]+)*$/);
    for (const member of PROXY_ONLY_HEADERS.flatMap((h) => h.known ?? [])) expect(member).toMatch(/^[a-z0-9]+(?:-[a-z0-9]+)*$/);
    expect(new Set(keys).size).toBe(keys.length);
    // A name already covered by a family would be dead weight (and hide a family that lost its members).
    const families = PROXY_ONLY_HEADERS.filter((h) => h.kind === 'family').map((h) => h.key);
    for (const entry of PROXY_ONLY_HEADERS.filter((h) => h.kind === 'name')) {
      expect(families.filter((f) => entry.key.startsWith(`${f}-`)), entry.key).toEqual([]);
    }
  });

  it('builds a pattern from nothing but anchors, groups, alternatives and separator classes (shared by JavaScript and RE2)', () => {
    const pattern = headerNamePattern(PROXY_ONLY_HEADERS);
    expect(pattern.replace(/\[\^0-9a-z\]/g, '')).toMatch(/^\^\(\?:[a-z0-9|():?.*]+\)\$$/);
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

describe('encodeHeaderValue (identityHeaders.encoding)', () => {
  it('never lets a control character through, in any encoding', () => {
    for (const encoding of ['percent', 'utf8', 'rfc8187'] as const) {
      for (const value of ['a\r\nSet-Cookie: x=1', 'tab\there', 'nul\u0000', 'del\u007f', 'c1\u0085']) {
        const out = encodeHeaderValue(value, encoding);
        expect(out, `${encoding} ${JSON.stringify(value)}`).not.toMatch(/[\u0000-\u001f\u007f]/);
      }
    }
  });

  it('writes UTF-8 bytes one per code unit for utf8, so Node sends them unchanged', () => {
    const out = encodeHeaderValue('Dana Düsseldorf', 'utf8');
    expect(Buffer.from(out, 'latin1').toString('utf8')).toBe('Dana Düsseldorf');
    expect(encodeHeaderValue('line\nbreak', 'utf8')).toBe(Buffer.from('line\ufffdbreak', 'utf8').toString('latin1'));
  });

  it('writes RFC 8187 ext-values that decode back, and leaves plain ASCII alone unless it looks like one', () => {
    const out = encodeHeaderValue('Zoë 🎉', 'rfc8187');
    expect(out).toBe("UTF-8''Zo%C3%AB%20%F0%9F%8E%89");
    expect(decodeURIComponent(out.slice("UTF-8''".length))).toBe('Zoë 🎉');
    expect(encodeHeaderValue('Alice Example', 'rfc8187')).toBe('Alice Example');
    expect(encodeHeaderValue("UTF-8''Alice", 'rfc8187')).toBe("UTF-8''UTF-8%27%27Alice");
  });

  it('keeps a list unambiguous: a comma inside a value is never a separator', () => {
    for (const encoding of ['percent', 'utf8', 'rfc8187'] as const) expect(encodeHeaderList(['a,b', 'c'], encoding).split(',')).toHaveLength(2);
  });
});

/** A reader of RFC 8187 as an upstream may be: an ext-value (charset'lang'pct) is decoded, anything else taken as it is. */
function readRfc8187(header: string): string {
  const ext = /^([!#$%&+\-^_`{}~A-Za-z0-9]+)'([A-Za-z0-9-]*)'(.*)$/.exec(header);
  if (!ext) return header;
  const bytes = Buffer.from(ext[3]!.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
  return /^utf-8$/i.test(ext[1]!) ? bytes.toString('utf8') : bytes.toString('latin1');
}

describe('every encoding reads back as one value (attack 17, findings 3, 4 and 7)', () => {
  const tricky = ["UTF-8'en'%61dmin", "ISO-8859-1''admins", "us-ascii''ceo@corp.example", "utf-8''x", "O'Brien", '100%', 'a%2Cb', 'a,b', 'plain', 'Zoë'];

  it('rfc8187: a raw value never parses as an ext-value or as percent-encoding', () => {
    for (const value of tricky) expect(readRfc8187(encodeHeaderValue(value, 'rfc8187')), value).toBe(value);
    expect(encodeHeaderValue("ISO-8859-1''admins", 'rfc8187')).toBe("UTF-8''ISO-8859-1%27%27admins");
    expect(encodeHeaderValue('50%', 'rfc8187')).toBe("UTF-8''50%25");
    expect(encodeHeaderValue('Alice Example', 'rfc8187')).toBe('Alice Example');
  });

  it('utf8 lists: `%` is written %25 where `,` is %2C, so a%2Cb and a,b differ and both read back', () => {
    const read = (list: string) => list.split(',').map((v) => Buffer.from(v, 'latin1').toString('utf8').replace(/%(25|2C)/g, (_, h: string) => (h === '25' ? '%' : ',')));
    expect(encodeHeaderList(['a%2Cb'], 'utf8')).not.toBe(encodeHeaderList(['a,b'], 'utf8'));
    expect(read(encodeHeaderList(['a%2Cb', 'a,b', '100%', 'Zoë'], 'utf8'))).toEqual(['a%2Cb', 'a,b', '100%', 'Zoë']);
    for (const encoding of ['percent', 'rfc8187'] as const) expect(encodeHeaderList(['a%2Cb'], encoding)).not.toBe(encodeHeaderList(['a,b'], encoding));
  });

  it('no encoder throws on a lone surrogate; it travels as U+FFFD', () => {
    for (const value of ['a\ud800', '\udfff', 'x\ud83d', 'Zo\udc00ë']) {
      expect(() => headerSafe(value)).not.toThrow();
      for (const encoding of ['percent', 'utf8', 'rfc8187'] as const) {
        expect(() => encodeHeaderValue(value, encoding)).not.toThrow();
        expect(() => encodeHeaderList([value, 'b'], encoding)).not.toThrow();
      }
    }
    expect(headerSafe('a\ud800')).toBe('a%EF%BF%BD');
    expect(readRfc8187(encodeHeaderValue('a\ud800', 'rfc8187'))).toBe('a\ufffd');
    expect(() => identityHeaders({ sub: 's\ud800', name: 'n\udc00', email: 'e\ud800@x', groups: ['g\ud800'], assertion: 'x' })).not.toThrow();
  });
});
