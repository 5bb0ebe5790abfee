// The proxy snippets shipped in deploy/ carry every identity header roomguard answers with, and strip
// every header of the rule in src/gateway/identity-headers.ts (a name missing from a snippet would let a
// client's own value through to the backend). Their header lines are generated from the rule: a drift
// test holds the shipped files to the generator, and the checks below read the files themselves, so a
// generator that lost a name fails too.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { IDENTITY_HEADER_NAMES, UPSTREAM_COOKIE_HEADER, VERIFY_PATH } from '../../src/gateway/forward-auth.js';
import { fillRegions, generatedRegions, namesInUse, OTHER_NAME_CHARACTERS } from '../../src/gateway/header-snippets.js';
import { PROXY_ONLY_HEADERS } from '../../src/gateway/identity-headers.js';

const read = (path: string) => readFileSync(new URL(`../../deploy/${path}`, import.meta.url), 'utf8');

/** Names the tests expect stripped whatever the rule says: the attack's class and the other proxies' headers. */
const MUST_STRIP = [
  'remote-user', 'remote-email', 'remote-name', 'remote-groups', 'x-remote-user', 'x-remote-group', 'x-forwarded-user', 'x-forwarded-email', 'x-forwarded-groups',
  'x-forwarded-preferred-username', 'x-forwarded-access-token', 'x-auth-request-user', 'x-auth-request-email', 'x-auth-request-groups', 'x-auth-request-preferred-username',
  'x-webauth-user', 'x-authenticated-user', 'x-original-url', 'x-rewrite-url', 'x-original-uri', 'x-original-method',
];

/** Go's http.CanonicalHeaderKey, which is how Traefik holds a request header's name when it matches the regex. */
function goCanonical(name: string): string {
  let upper = true;
  return Array.from(name, (ch) => {
    const out = upper ? ch.toUpperCase() : ch.toLowerCase();
    upper = ch === '-';
    return out;
  }).join('');
}

describe('generated regions of the shipped snippets', () => {
  it.each(Object.entries(generatedRegions()))('deploy/%s is what `npm run deploy:snippets` writes', (file, regions) => {
    const shipped = read(file);
    expect(shipped).toBe(fillRegions(shipped, regions, file));
  });

  it('refuses a file that lost a region marker, or names a region nobody writes', () => {
    expect(() => fillRegions('# BEGIN generated strip\n# END generated strip\n', { strip: [], copy: [] })).toThrow(/"copy" is missing/);
    expect(() => fillRegions('# BEGIN generated other\n# END generated other\n', {})).toThrow(/unknown generated region "other"/);
  });
});

describe('forward-auth snippets', () => {
  it('nginx: every identity header is taken from roomguard\'s answer, every other name of the rule is blanked', () => {
    const auth = read('nginx/roomguard-auth.conf');
    const lower = auth.toLowerCase();
    for (const name of IDENTITY_HEADER_NAMES) {
      const variable = name.replace(/-/g, '_');
      expect(auth).toMatch(new RegExp(`auth_request_set \\$\\S+ \\$upstream_http_${variable};`));
      expect(lower).toMatch(new RegExp(`^proxy_set_header ${name} \\$\\S+;$`, 'm'));
    }
    for (const name of [...namesInUse(), ...MUST_STRIP].filter((n) => !(IDENTITY_HEADER_NAMES as readonly string[]).includes(n))) {
      expect(lower, name).toMatch(new RegExp(`^proxy_set_header ${name} "";$`, 'm'));
    }
    expect(auth).toContain(`auth_request ${VERIFY_PATH};`);
    // The backend's Cookie header is the one roomguard computed (without its own cookies).
    expect(auth).toMatch(new RegExp(`auth_request_set \\$(\\S+) \\$upstream_http_${UPSTREAM_COOKIE_HEADER.replace(/-/g, '_')};[\\s\\S]*proxy_set_header Cookie \\$\\1;`));
    // nginx sets the original URI and method itself on the question it asks.
    const server = read('nginx/roomguard-server.conf');
    expect(server).toMatch(/proxy_set_header X-Original-URI \$request_uri;/);
    expect(server).toMatch(new RegExp(`location = ${VERIFY_PATH} \\{\\s+internal;`));
  });

  it('nginx: drops names spelt with "_" or other characters itself, and no snippet turns that off', () => {
    const server = read('nginx/roomguard-server.conf');
    expect(server).toMatch(/^ignore_invalid_headers on;$/m);
    expect(server).toMatch(/^underscores_in_headers off;$/m);
    for (const file of ['nginx/roomguard-server.conf', 'nginx/roomguard-auth.conf', 'nginx/jitsi-meet.conf']) {
      expect(read(file), file).not.toMatch(/^\s*(underscores_in_headers\s+on|ignore_invalid_headers\s+off)/m);
    }
  });

  it('Caddy: every family is dropped by prefix, every name by name, every other spelling whole; identity is copied from roomguard\'s answer', () => {
    const caddyfile = read('caddy/Caddyfile');
    const dropped = [...caddyfile.matchAll(/^\s*request_header -(\S+)$/gm)].map((m) => m[1]!.toLowerCase());
    for (const ch of OTHER_NAME_CHARACTERS) expect(dropped, ch).toContain(`*${ch}*`);
    for (const entry of PROXY_ONLY_HEADERS) {
      expect(dropped, entry.key).toContain(entry.key);
      if (entry.kind === 'family') expect(dropped, entry.key).toContain(`${entry.key}-*`);
    }
    // What Caddy does with those lines (prefix and whole-name matches, any case), checked against the hand-picked names.
    const removes = (name: string) => dropped.some((d) => (d.startsWith('*') && d.endsWith('*') && d.length > 2 ? name.includes(d.slice(1, -1)) : d.endsWith('*') ? name.startsWith(d.slice(0, -1)) : name === d));
    for (const name of MUST_STRIP) {
      expect(removes(name), name).toBe(true);
      expect(removes(name.replace(/-/g, '_')), name).toBe(true);
    }
    for (const name of ['accept', 'x-forwarded-for', 'authorization', 'x-user-agent']) expect(removes(name), name).toBe(false);
    const copied = /copy_headers ([^\n]+)/.exec(caddyfile)![1]!.toLowerCase().split(/\s+/);
    expect(copied.sort()).toEqual([...IDENTITY_HEADER_NAMES].sort());
    // The strip runs before forward_auth, inside a route (which keeps the written order).
    expect(caddyfile.indexOf('request_header -Remote-*')).toBeLessThan(caddyfile.indexOf('forward_auth {'));
    expect(caddyfile).toMatch(/route \{[\s\S]*request_header -X-Roomguard-\*[\s\S]*forward_auth/);
    expect(caddyfile).toContain(`uri ${VERIFY_PATH}`);
    expect(caddyfile).toMatch(new RegExp(`handle ${VERIFY_PATH} \\{\\s+respond 404`));
  });

  it('Traefik: one regex removes every header of the rule in any spelling (as Traefik names them) and copies roomguard\'s answer', () => {
    type Traefik = { http: { middlewares: Record<string, { forwardAuth?: { address: string; trustForwardHeader: boolean; authResponseHeaders?: string[]; authResponseHeadersRegex: string } }>; routers: Record<string, { rule: string; middlewares?: string[] }> } };
    const config = parse(read('traefik/roomguard.yml')) as Traefik;
    const forwardAuth = config.http.middlewares.roomguard!.forwardAuth!;
    expect(new URL(forwardAuth.address).pathname).toBe(VERIFY_PATH);
    expect(forwardAuth.trustForwardHeader).toBe(false);
    expect(forwardAuth.authResponseHeaders).toBeUndefined();
    expect(forwardAuth.authResponseHeadersRegex.startsWith('(?i)')).toBe(true);
    // RE2's leading (?i) is JavaScript's i flag; the rest is syntax both read alike.
    const regex = new RegExp(forwardAuth.authResponseHeadersRegex.slice('(?i)'.length), 'i');
    const spellings = (name: string) => [name, name.toUpperCase(), name.replace(/-/g, '_'), name.replace(/-/g, '.'), name.replace(/-/, '_')].map(goCanonical);
    for (const name of [...namesInUse(), ...MUST_STRIP, 'remote-anything', 'x-auth-request-new-claim']) for (const spelt of spellings(name)) expect(regex.test(spelt), spelt).toBe(true);
    // Everything roomguard answers with is copied (it matches); nothing else of its answer is.
    for (const name of IDENTITY_HEADER_NAMES) expect(regex.test(goCanonical(name)), name).toBe(true);
    // X-Forwarded-For (and -Proto, -Host) Traefik sets for the backend itself: removing them would lose the client's address.
    for (const name of ['Cache-Control', 'X-Request-Id', 'Content-Length', 'Accept', 'Authorization', 'X-Forwarded-For', 'X-Forwarded-Proto', 'X-Forwarded-Host', 'X-User-Agent']) expect(regex.test(name), name).toBe(false);
    expect(config.http.routers.meeting!.middlewares).toEqual(['roomguard']);
    expect(config.http.routers['roomguard-pages']!.rule).toContain(`!Path(\`${VERIFY_PATH}\`)`);
  });
});
