// The header lines of the web-server snippets in deploy/ (nginx, Caddy, Traefik), rendered from the one
// rule in identity-headers.ts and the names forward-auth answers with. `npm run deploy:snippets` writes
// them between the `# BEGIN generated <region>` and `# END generated <region>` lines of each file; a drift
// test fails when a shipped file differs. Each web server gets the rule in the form it can express.
import { IDENTITY_HEADER_NAMES } from './forward-auth.js';
import { headerNamePattern, namesInUse, PROXY_ONLY_HEADERS } from './identity-headers.js';

export { namesInUse };

/** `x-roomguard-user` → `X-Roomguard-User` (web servers match names in any case; this is for the reader). */
export function displayName(key: string): string {
  return key.replace(/(^|-)([a-z])/g, (_m, sep: string, ch: string) => sep + ch.toUpperCase());
}

/**
 * The characters besides letters, digits and `-` that HTTP allows in a header name. nginx drops a header
 * spelt with any of them (its defaults); the Caddy snippet does the same, one line each, so only the
 * `-` spellings remain to be matched.
 */
export const OTHER_NAME_CHARACTERS = ['_', '.', '!', '#', '$', '%', '&', "'", '*', '+', '^', '`', '|', '~'] as const;

const nginxVariable = (key: string) => `$roomguard_${key.replace(/^x-roomguard-/, '').replace(/-/g, '_')}`;

/** nginx (`roomguard-auth.conf`): roomguard's answer copied onto the request, every other listed name blanked. */
export function nginxIdentityLines(): string[] {
  const answered = new Set<string>(IDENTITY_HEADER_NAMES);
  return [
    '# From roomguard\'s answer: a value a client sent is replaced, or removed when roomguard sent none',
    '# (nginx omits headers with empty values).',
    ...IDENTITY_HEADER_NAMES.map((key) => `auth_request_set ${nginxVariable(key)} $upstream_http_${key.replace(/-/g, '_')};`),
    ...IDENTITY_HEADER_NAMES.map((key) => `proxy_set_header ${displayName(key)} ${nginxVariable(key)};`),
    '# Every other header only a proxy may set, never from the client. nginx cannot match a prefix, so',
    '# each family\'s names in use are listed; other spellings ("_", "." …) never get this far, as nginx',
    '# drops such names itself (ignore_invalid_headers, underscores_in_headers off: roomguard-server.conf).',
    ...namesInUse().filter((key) => !answered.has(key)).map((key) => `proxy_set_header ${displayName(key)} "";`),
  ];
}

/** Caddy (`request_header` inside the route, before `forward_auth`): by prefix, in any case. */
export function caddyStripLines(): string[] {
  return [
    '# Names spelt with a character other than a letter, digit or "-" (CGI, PHP, WSGI and Rack backends',
    '# read Remote_User as Remote-User): dropped whole, as nginx does by default.',
    ...OTHER_NAME_CHARACTERS.map((ch) => `request_header -*${ch}*`),
    '# Headers only a proxy may set (src/gateway/identity-headers.ts): every family by prefix, then the',
    '# single names.',
    ...PROXY_ONLY_HEADERS.flatMap((h) => (h.kind === 'family' ? [`request_header -${displayName(h.key)}`, `request_header -${displayName(h.key)}-*`] : [`request_header -${displayName(h.key)}`])),
  ];
}

/** Caddy (`forward_auth`): the names copied from roomguard's answer. */
export function caddyCopyLines(): string[] {
  return [`copy_headers ${IDENTITY_HEADER_NAMES.map(displayName).join(' ')}`];
}

/**
 * Traefik (`forwardAuth.authResponseHeadersRegex`): Traefik removes every request header whose name
 * matches and then copies the matching headers of roomguard's answer, so the whole rule, prefixes and
 * spellings included, fits in this one pattern (Go's RE2; `(?i)` for any case).
 */
export function traefikResponseHeadersRegex(): string {
  return `(?i)${headerNamePattern(PROXY_ONLY_HEADERS)}`;
}

export function traefikIdentityLines(): string[] {
  return [
    '# Traefik removes every request header whose name matches, then copies the matching headers of',
    '# roomguard\'s answer: the rule of src/gateway/identity-headers.ts, in any case and any spelling.',
    `authResponseHeadersRegex: '${traefikResponseHeadersRegex()}'`,
  ];
}

/** What each shipped file's generated regions hold, by file under deploy/ and region name. */
export function generatedRegions(): Record<string, Record<string, string[]>> {
  return {
    'nginx/roomguard-auth.conf': { identity: nginxIdentityLines() },
    'caddy/Caddyfile': { strip: caddyStripLines(), copy: caddyCopyLines() },
    'traefik/roomguard.yml': { identity: traefikIdentityLines() },
  };
}

const REGION = /^([ \t]*)# BEGIN generated ([\w-]+)[^\n]*\n[\s\S]*?^[ \t]*# END generated \2[^\n]*$/gm;

/**
 * `text` with each generated region's lines replaced, indented like its BEGIN line. Fails when a region
 * is missing or unknown, so a hand edit that loses a marker cannot pass as "no drift".
 */
export function fillRegions(text: string, regions: Record<string, string[]>, file = 'file'): string {
  const seen = new Set<string>();
  const out = text.replace(REGION, (_all, indent: string, name: string) => {
    const lines = regions[name];
    if (!lines) throw new Error(`${file}: unknown generated region "${name}"`);
    seen.add(name);
    const body = lines.map((line) => `${indent}${line}`).join('\n');
    return `${indent}# BEGIN generated ${name} (npm run deploy:snippets; edit src/gateway/identity-headers.ts, not here)\n${body}\n${indent}# END generated ${name}`;
  });
  for (const name of Object.keys(regions)) if (!seen.has(name)) throw new Error(`${file}: generated region "${name}" is missing`);
  return out;
}
