// The proxy snippets shipped in deploy/ must carry every identity header roomguard answers with (a
// header missing from a snippet would let a client's own value through to the backend).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { IDENTITY_HEADER_NAMES, UPSTREAM_COOKIE_HEADER, VERIFY_PATH } from '../../src/gateway/forward-auth.js';

/** Headers that describe a request or a user in some other proxy's scheme: a client must never set them. */
const FOREIGN = ['x-original-uri', 'x-original-method', 'x-forwarded-user', 'x-forwarded-email', 'x-remote-user', 'x-original-url', 'x-rewrite-url'];

const read = (path: string) => readFileSync(new URL(`../../deploy/${path}`, import.meta.url), 'utf8');

describe('forward-auth snippets', () => {
  it('nginx: every identity header is taken from roomguard\'s answer and set on the upstream request', () => {
    const auth = read('nginx/roomguard-auth.conf');
    for (const name of IDENTITY_HEADER_NAMES) {
      const variable = name.replace(/-/g, '_');
      expect(auth).toMatch(new RegExp(`auth_request_set \\$\\S+ \\$upstream_http_${variable};`));
      expect(auth.toLowerCase()).toMatch(new RegExp(`proxy_set_header ${name} \\$\\S+;`));
    }
    expect(auth).toContain(`auth_request ${VERIFY_PATH};`);
    // The backend's Cookie header is the one roomguard computed (without its own cookies).
    expect(auth).toMatch(new RegExp(`auth_request_set \\$(\\S+) \\$upstream_http_${UPSTREAM_COOKIE_HEADER.replace(/-/g, '_')};[\\s\\S]*proxy_set_header Cookie \\$\\1;`));
    // nginx sets the original URI and method itself on the question it asks.
    expect(read('nginx/roomguard-server.conf')).toMatch(/proxy_set_header X-Original-URI \$request_uri;/);
    expect(read('nginx/roomguard-server.conf')).toMatch(new RegExp(`location = ${VERIFY_PATH} \\{\\s+internal;`));
  });

  it('Caddy: every identity header is dropped from the client request and copied from roomguard\'s answer', () => {
    const caddyfile = read('caddy/Caddyfile');
    const copied = /copy_headers ([^\n]+)/.exec(caddyfile)![1]!.toLowerCase().split(/\s+/);
    expect(copied.sort()).toEqual([...IDENTITY_HEADER_NAMES].sort());
    for (const name of IDENTITY_HEADER_NAMES) expect(caddyfile.toLowerCase()).toContain(`request_header -${name}\n`);
    for (const name of FOREIGN) expect(caddyfile.toLowerCase()).toContain(`request_header -${name}\n`);
    for (const pattern of ['x_roomguard_*', 'remote_*']) expect(caddyfile.toLowerCase()).toContain(`request_header -${pattern}\n`);
    expect(caddyfile).toContain(`uri ${VERIFY_PATH}`);
    expect(caddyfile).toMatch(new RegExp(`handle ${VERIFY_PATH} \\{\\s+respond 404`));
  });

  it('Traefik: the middleware asks the verify endpoint and copies exactly the identity headers', () => {
    const config = parse(read('traefik/roomguard.yml')) as { http: { middlewares: { roomguard: { forwardAuth: { address: string; trustForwardHeader: boolean; authResponseHeaders: string[] } } }; routers: Record<string, { middlewares?: string[] }> } };
    const forwardAuth = config.http.middlewares.roomguard.forwardAuth;
    expect(new URL(forwardAuth.address).pathname).toBe(VERIFY_PATH);
    expect(forwardAuth.trustForwardHeader).toBe(false);
    expect(forwardAuth.authResponseHeaders.map((h) => h.toLowerCase()).sort()).toEqual([...IDENTITY_HEADER_NAMES].sort());
    expect(config.http.routers.meeting!.middlewares).toEqual(['roomguard-strip', 'roomguard']);
    const blanked = Object.keys((config.http.middlewares as unknown as Record<string, { headers?: { customRequestHeaders: Record<string, string> } }>)['roomguard-strip']!.headers!.customRequestHeaders).map((h) => h.toLowerCase());
    for (const name of FOREIGN) expect(blanked).toContain(name);
    for (const name of IDENTITY_HEADER_NAMES) expect(blanked).toContain(name.replace(/-/g, '_'));
    expect((config.http.routers as unknown as Record<string, { rule: string }>)['roomguard-pages']!.rule).toContain(`!Path(\`${VERIFY_PATH}\`)`);
  });
});
