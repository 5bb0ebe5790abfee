// Headers the upstream may trust because only roomguard (or the web server in front) sets them (DESIGN
// invariant 6). This module holds the one rule for which request headers never come from a client: the
// identity headers of roomguard and of every common auth proxy, and the headers that re-describe the
// request. Proxy mode strips by it; the nginx, Caddy and Traefik snippets in deploy/ are generated from it
// (scripts/deploy-snippets.ts, with a drift test). How a name with non-ASCII letters travels is the
// admin's choice per header family (`identityHeaders.*`, docs/identity-headers.md): percent-encoded UTF-8,
// raw UTF-8 bytes (as Authelia sends), or RFC 8187 `UTF-8''…`; control characters never pass.

export interface IdentityFacts {
  sub: string;
  email?: string;
  name?: string;
  groups: string[];
  room?: string;
  role?: string;
  assertion: string;
}

/** The string with each lone UTF-16 surrogate as U+FFFD (String.prototype.toWellFormed), so no encoder can throw. */
const wellFormed = (value: string): string => (value as unknown as { toWellFormed(): string }).toWellFormed();

/** Printable ASCII without `%` and `,`: already header-safe (most names and addresses). */
const ALREADY_SAFE = /^[\x20-\x24\x26-\x2b\x2d-\x7e]*$/;

export function headerSafe(text: string): string {
  // A lone surrogate (not UTF-8 encodable) would make encodeURIComponent throw: U+FFFD in its place.
  const value = wellFormed(text);
  if (ALREADY_SAFE.test(value)) return value;
  return Array.from(value)
    .map((ch) => (/^[\x20-\x7e]$/.test(ch) && ch !== '%' && ch !== ',' ? ch : encodeURIComponent(ch).replace(/[,!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)))
    .join('');
}

/** How non-ASCII identity values are written into a header (`identityHeaders.encoding`, `.remoteEncoding`). */
export type HeaderEncoding = 'percent' | 'utf8' | 'rfc8187';

/** C0 controls, DEL and C1 controls: never in a header, in any encoding (U+FFFD in their place in raw UTF-8). */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** RFC 8187's attr-char: what an ext-value leaves as it is. */
const ATTR_CHAR = /^[A-Za-z0-9!#$&+\-.^_`|~]$/;

/** One value in `encoding`. In a list (groups) a `,` inside a value is always written `%2C`. */
export function encodeHeaderValue(text: string, encoding: HeaderEncoding, inList = false): string {
  const value = wellFormed(text);
  if (encoding === 'percent') return headerSafe(value);
  if (encoding === 'rfc8187') {
    // Plain printable ASCII stays as it is only when it cannot be read as an ext-value (charset'lang'value)
    // nor as percent-encoded: no `'` and no `%` (and in a list no `,`); anything else is written UTF-8''….
    if (/^[\x20-\x7e]*$/.test(value) && !/['%]/.test(value) && !(inList && value.includes(','))) return value;
    return `UTF-8''${Array.from(Buffer.from(value, 'utf8')).map((b) => { const c = String.fromCharCode(b); return b < 0x80 && ATTR_CHAR.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`; }).join('')}`;
  }
  const clean = value.replace(CONTROL, '\ufffd');
  // Node writes a header string's code units as bytes: the UTF-8 bytes, one per code unit. In a list `,` is
  // written %2C and therefore `%` itself %25, so `a%2Cb` and `a,b` stay two different values.
  return Buffer.from(inList ? clean.replace(/%/g, '%25').replace(/,/g, '%2C') : clean, 'utf8').toString('latin1');
}

/** A comma-separated list (groups), each value in `encoding`. */
export function encodeHeaderList(values: readonly string[], encoding: HeaderEncoding): string {
  return values.map((v) => encodeHeaderValue(v, encoding, true)).join(',');
}

/**
 * One entry of the rule. A `family` is a prefix some auth proxy or app owns: the stem itself and every
 * name that continues it after a separator (`remote` covers `Remote`, `Remote-User`, `Remote-Anything`).
 * A `name` is one header under a prefix that others share (`X-Forwarded-User`, but not `X-Forwarded-For`).
 * Keys are lower case with `-` between words. `known` lists a family's members in use today, for web servers
 * that cannot match a prefix (nginx): they are blanked by name.
 */
export interface ProxyOnlyHeader {
  kind: 'family' | 'name';
  key: string;
  /** Who sets or reads it: why it is here. */
  source: string;
  known?: readonly string[];
}

const family = (key: string, source: string, known: readonly string[] = []): ProxyOnlyHeader => ({ kind: 'family', key, source, known });
const names = (keys: readonly string[], source: string): ProxyOnlyHeader[] => keys.map((key) => ({ kind: 'name', key, source }));

/**
 * Every request header that only a trusted proxy may set. The principle: a header belongs here when some
 * widely used auth proxy, identity-aware gateway or TLS terminator sets it for the upstream to believe,
 * or some widely used app believes it (who the person is, their groups, tokens or client certificate;
 * which URL or method was really asked for). Where the proxy owns the whole prefix, the family; where the
 * prefix is shared with ordinary headers, the names.
 *
 * Left out on purpose: `X-Auth-Token` (the client's own credential in many APIs, which an upstream checks
 * itself), `Authorization`, and the free attribute names a Shibboleth SP may be configured to emit
 * (`eppn`, `mail` …: its SP blanks them itself when it uses headers at all).
 */
export const PROXY_ONLY_HEADERS: readonly ProxyOnlyHeader[] = [
  family('x-roomguard', 'roomguard itself', ['user', 'email', 'name', 'groups', 'room', 'role', 'assertion', 'upstream-cookie', 'location', 'error']),
  family('remote', 'Authelia; apps that read REMOTE_USER-style variables (Django, Paperless, Guacamole, Seafile …)', ['user', 'email', 'name', 'groups']),
  family('x-remote', 'Kubernetes and OpenShift request-header authentication; Django\'s X-Remote-User', ['user', 'group', 'groups', 'email', 'name']),
  family('x-auth-request', 'oauth2-proxy (--set-xauthrequest)', ['user', 'email', 'groups', 'preferred-username', 'access-token']),
  family('x-webauth', 'Grafana auth proxy, Gitea and Forgejo reverse-proxy login', ['user', 'email', 'name', 'fullname', 'groups', 'role']),
  family('x-authenticated', 'Kong, Istio and hand-written gateways', ['user', 'userid', 'email', 'groups', 'scope']),
  family('x-pomerium', 'Pomerium', ['jwt-assertion', 'claim-email', 'claim-user', 'claim-groups', 'claim-name', 'claim-sub']),
  family('x-vouch', 'Vouch Proxy', ['user', 'success', 'idp-claims-email', 'idp-claims-groups']),
  family('cf-access', 'Cloudflare Access', ['jwt-assertion', 'authenticated-user-email']),
  family('x-goog-authenticated-user', 'Google Identity-Aware Proxy', ['email', 'id']),
  family('x-goog-iap-jwt-assertion', 'Google Identity-Aware Proxy'),
  family('x-amzn-oidc', 'AWS Application Load Balancer', ['data', 'identity', 'accesstoken']),
  family('x-ms-client-principal', 'Azure App Service authentication', ['name', 'id', 'idp']),
  family('x-ms-token', 'Azure App Service authentication (tokens)', ['aad-id-token', 'aad-access-token']),
  family('shib', 'Shibboleth SP', ['session-id', 'identity-provider', 'application-id', 'authentication-instant', 'authentication-method', 'authncontext-class']),
  family('oidc', 'Apache mod_auth_openidc (OIDC_CLAIM_*, OIDC_access_token)', ['claim-sub', 'claim-email', 'claim-name', 'claim-groups', 'access-token', 'id-token']),
  family('mellon', 'Apache mod_auth_mellon', ['name-id', 'session']),
  family('tailscale-user', 'Tailscale Serve', ['login', 'name', 'profile-pic']),
  family('x-ssl-client', 'client certificates passed on by a TLS terminator', ['cert', 'verify', 's-dn', 'i-dn', 'dn']),
  family('ssl-client', 'client certificates passed on by a TLS terminator (Apache SSL_CLIENT_*)', ['cert', 'verify', 's-dn', 'i-dn']),
  family('x-client-cert', 'client certificates (Google Cloud load balancer mTLS, hand-written configs)', ['present', 'chain-verified', 'hash', 'spiffe', 'uri-sans', 'dnsname-sans']),
  family('x-forwarded-tls-client-cert', 'Traefik passTLSClientCert', ['info']),
  family('x-amzn-mtls-clientcert', 'AWS Application Load Balancer mTLS', ['serial-number', 'issuer', 'subject', 'validity', 'leaf']),
  ...names(['x-forwarded-user', 'x-forwarded-email', 'x-forwarded-groups', 'x-forwarded-preferred-username', 'x-forwarded-access-token'], 'oauth2-proxy, traefik-forward-auth, Jenkins reverse-proxy-auth'),
  ...names(['x-forwarded-displayname', 'x-forwarded-mail'], 'Jenkins reverse-proxy-auth'),
  ...names(['x-forwarded-client-cert'], 'Envoy and Istio (XFCC)'),
  ...names(['x-arr-clientcert'], 'Azure Application Gateway / IIS ARR'),
  ...names(['x-ssl-cert', 'x-client-verify', 'x-client-dn'], 'nginx and HAProxy client-certificate setups'),
  ...names(['x-proxy-user', 'x-proxy-roles'], 'OpenSearch and Search Guard proxy authentication'),
  ...names(['x-auth-userid', 'x-auth-username', 'x-auth-email', 'x-auth-subject', 'x-auth-groups', 'x-auth-roles', 'x-auth-audience', 'x-auth-expiresin'], 'Keycloak Gatekeeper / Louketo Proxy'),
  ...names(['x-jwt-payload', 'x-jwt-assertion'], 'Envoy JWT authentication, WSO2 API Manager'),
  ...names(['x-user', 'x-user-id', 'x-user-name', 'x-username', 'x-user-email', 'x-email', 'x-user-groups', 'x-user-roles'], 'Ory Oathkeeper header mutators and hand-written auth proxies'),
  // Not who, but what: the URL or method really asked for, which these upstreams believe over the request line.
  ...names(['x-original-url', 'x-rewrite-url'], 'IIS URL Rewrite, Symfony and Laminas'),
  ...names(['x-original-uri', 'x-original-method'], 'the nginx auth_request convention'),
  ...names(['x-forwarded-uri', 'x-forwarded-method', 'x-forwarded-prefix', 'x-forwarded-path'], 'the Traefik and Caddy forward-auth convention, and path prefixes apps prepend to their links'),
  ...names(['x-envoy-original-path'], 'Envoy and Istio (the path before a rewrite)'),
  ...names(['x-http-method-override', 'x-http-method', 'x-method-override'], 'method overrides that many frameworks obey over the request line'),
  // The client's address, which some apps believe over the connection's.
  ...names(['x-client-ip', 'true-client-ip', 'cf-connecting-ip', 'x-cluster-client-ip', 'fastly-client-ip'], 'client address headers of CDNs and load balancers'),
];

/** Every concrete name the rule covers: each name, each family's stem and its members in use today. */
export function namesInUse(entries: readonly ProxyOnlyHeader[] = PROXY_ONLY_HEADERS): string[] {
  return entries.flatMap((h) => (h.kind === 'name' ? [h.key] : [h.key, ...(h.known ?? []).map((member) => `${h.key}-${member}`)]));
}

/** What roomguard's own proxy sets itself from what it knows, so a client's never passes (proxy mode only). */
const FORWARDING_HEADERS: readonly ProxyOnlyHeader[] = [
  family('x-forwarded', 'X-Forwarded-For, -Proto, -Host, -Prefix …: roomguard sets its own'),
  ...names(['forwarded', 'x-real-ip'], 'the client address: roomguard sets its own'),
];

/**
 * A separator as an upstream may read it: any character other than a letter or digit. CGI, WSGI, Rack and
 * PHP hand `Remote-User` and `Remote_User` to the app as the same `HTTP_REMOTE_USER`, and PHP also turns
 * `.` into `_`; reading every such character as `-` covers what any server may do.
 */
const SEPARATOR = '[^0-9a-z]';

/**
 * A regular expression (source, for a case-insensitive match) for the header names `entries` cover, in
 * every spelling: any case, any separator. Written in the syntax JavaScript and Go's RE2 share, so
 * Traefik's `authResponseHeadersRegex` runs this very pattern.
 */
export function headerNamePattern(entries: readonly ProxyOnlyHeader[]): string {
  const spelt = (h: ProxyOnlyHeader) => h.key.split('-').join(SEPARATOR);
  const families = entries.filter((h) => h.kind === 'family').map(spelt);
  const exact = entries.filter((h) => h.kind === 'name').map(spelt);
  return `^(?:(?:${families.join('|')})(?:${SEPARATOR}.*)?|${exact.join('|')})$`;
}

const PROXY_ONLY = new RegExp(headerNamePattern(PROXY_ONLY_HEADERS), 'i');
const SPOOFABLE = new RegExp(headerNamePattern([...PROXY_ONLY_HEADERS, ...FORWARDING_HEADERS]), 'i');

/** Whether a client's header of this name must never reach the upstream: it is in PROXY_ONLY_HEADERS. */
export function isProxyOnly(name: string): boolean {
  return PROXY_ONLY.test(name);
}

/**
 * Whether roomguard's proxy drops this request header rather than copy it to the upstream: everything in
 * PROXY_ONLY_HEADERS, and the forwarding headers (X-Forwarded-*, Forwarded, X-Real-IP), which it sets
 * itself from the address it trusts.
 */
export function isSpoofable(name: string): boolean {
  return SPOOFABLE.test(name);
}

/** Removes roomguard's own cookies from a Cookie header so the upstream never sees the session id. */
export function stripOwnCookies(cookieHeader: string | undefined, ownNames: readonly string[]): string | undefined {
  if (!cookieHeader) return undefined;
  const kept = cookieHeader
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '' && !ownNames.includes(part.slice(0, Math.max(0, part.indexOf('=')))));
  return kept.length > 0 ? kept.join('; ') : undefined;
}

export function identityHeaders(facts: IdentityFacts, encoding: HeaderEncoding = 'percent'): Record<string, string> {
  const out: Record<string, string> = {
    'x-roomguard-user': encodeHeaderValue(facts.sub, encoding),
    'x-roomguard-groups': encodeHeaderList(facts.groups, encoding),
    'x-roomguard-assertion': facts.assertion,
  };
  if (facts.email) out['x-roomguard-email'] = encodeHeaderValue(facts.email, encoding);
  if (facts.name) out['x-roomguard-name'] = encodeHeaderValue(facts.name, encoding);
  if (facts.room) out['x-roomguard-room'] = facts.room;
  if (facts.role) out['x-roomguard-role'] = facts.role;
  return out;
}
