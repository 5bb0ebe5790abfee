// Forward-auth mode: an nginx (`auth_request`), Traefik (`forwardAuth`) or Caddy (`forward_auth`) in
// front of the backend asks `/_roomguard/verify` about each request and proxies it itself. The request
// is judged exactly as in proxy mode (policies, second factors, notices, Jitsi/BBB admission, audit);
// only the answer differs: 200 with identity headers, a step the proxy sends the browser to, or a refusal.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS, type ErrorCode } from '../errors.js';
import { AdmissionJudge, admittedIdentityHeaders, isNavigation, type RequestView, type Verdict } from './admission.js';
import type { GatewayContext } from './context.js';
import { route, routeInput } from './route-input.js';
import { encodeHeaderList, encodeHeaderValue, isProxyOnly, namesInUse, stripOwnCookies, type HeaderEncoding } from './identity-headers.js';

export const VERIFY_PATH = '/_roomguard/verify';
export const REFUSED_PATH = '/_roomguard/refused';

/** The longest original URI accepted from a proxy (anything longer is not a request a browser makes). */
const MAX_URI = 8192;
/** Every header a pass may carry: the snippets in deploy/ copy exactly these (generated, src/gateway/header-snippets.ts). */
export const IDENTITY_HEADER_NAMES = [
  'x-roomguard-user', 'x-roomguard-email', 'x-roomguard-name', 'x-roomguard-groups', 'x-roomguard-room', 'x-roomguard-role', 'x-roomguard-assertion',
  'remote-user', 'remote-email', 'remote-name', 'remote-groups',
] as const;
/** nginx only: the Cookie header for the backend, without roomguard's cookies. */
export const UPSTREAM_COOKIE_HEADER = 'x-roomguard-upstream-cookie';
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

type Style = 'nginx' | 'forwarded';

/**
 * The headers the shipped nginx snippet replaces or blanks. nginx cannot remove a header by prefix, so a
 * client's header of the rule outside this list (a family member nobody listed yet, such as
 * `X-Remote-Extra-Dept`) would reach the backend: its auth subrequest carries the client's headers, and
 * roomguard refuses such a request instead.
 */
const NGINX_COVERED = new Set<string>([...IDENTITY_HEADER_NAMES, ...namesInUse()]);

function uncoveredByNginx(request: FastifyRequest): string | undefined {
  for (const name in request.headers) if (isProxyOnly(name) && !NGINX_COVERED.has(name)) return name;
  return undefined;
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * The original request as the configured proxy describes it, from the headers that proxy sets itself
 * (overwriting any a client sent): nginx's `auth_request` gets `X-Original-URI`/`X-Original-Method` from
 * the shipped snippet and can act only on 2xx/401/403; Caddy and Traefik set `X-Forwarded-Method/Uri`
 * and hand any non-2xx answer to the browser as it is. Never guessed from which headers are present:
 * Caddy and Traefik pass a client's own `X-Original-URI` along.
 */
function describe(request: FastifyRequest, style: Style, publicHost: string): RequestView | { error: string } {
  const rawUrl = header(request, style === 'nginx' ? 'x-original-uri' : 'x-forwarded-uri');
  if (rawUrl === undefined) return { error: style === 'nginx' ? 'X-Original-URI was not sent (see deploy/nginx/roomguard-server.conf)' : 'X-Forwarded-Uri was not sent' };
  if (!rawUrl.startsWith('/') || rawUrl.length > MAX_URI) return { error: 'the original URI must be a path of at most 8192 characters' };
  const method = (header(request, style === 'nginx' ? 'x-original-method' : 'x-forwarded-method') ?? 'GET').toUpperCase();
  if (!METHODS.has(method)) return { error: `unsupported original method ${method.slice(0, 20)}` };
  const smuggled = style === 'nginx' ? uncoveredByNginx(request) : undefined;
  if (smuggled !== undefined) return { error: `the request carries ${smuggled.slice(0, 60)}, a header only a proxy may set, which nginx cannot remove` };
  // The proxy asks about requests for the meeting host only: cookies and returnTo belong to it.
  const host = header(request, 'x-forwarded-host');
  if (style === 'forwarded' && host !== undefined && host.toLowerCase() !== publicHost) return { error: 'X-Forwarded-Host is not the host of publicUrl' };
  // Traefik drops Upgrade from the auth request; the WebSocket handshake's own headers remain.
  const ws = request.headers.upgrade?.toLowerCase() === 'websocket' || request.headers['sec-websocket-key'] !== undefined || request.headers['sec-fetch-dest'] === 'websocket';
  return { method, rawUrl, ws, navigation: !ws && isNavigation(method, request.headers) };
}

/**
 * `/_roomguard/verify`, in a scope of its own: a pass goes to the web server, which copies the identity
 * headers and drops the rest, so it carries no page headers (CSP, framing, …: each one costs the proxy
 * and roomguard on every request); steps and refusals, which Caddy and Traefik show the browser as they
 * are, get `pageHeaders`.
 */
export function registerForwardAuth(app: FastifyInstance, ctx: GatewayContext, pageHeaders: Record<string, string>): void {
  const settings = ctx.config.forwardAuth;
  if (!settings.enabled) return;
  const verify: Verify = {
    ctx, pageHeaders, judge: new AdmissionJudge(ctx),
    publicHost: ctx.publicUrl.host.toLowerCase(),
    style: settings.proxy === 'nginx' ? 'nginx' : 'forwarded',
    remoteHeaders: settings.remoteHeaders,
  };
  app.route({ method: [...METHODS], url: VERIFY_PATH, handler: (request, reply) => answer(verify, request, reply) });
}

/** What every answer of the verify endpoint needs. */
interface Verify {
  ctx: GatewayContext;
  pageHeaders: Record<string, string>;
  judge: AdmissionJudge;
  publicHost: string;
  style: Style;
  remoteHeaders: boolean;
}

async function answer(verify: Verify, request: FastifyRequest, reply: FastifyReply) {
  const { ctx, style } = verify;
  // nginx's verdict cache (deploy/nginx/roomguard-http.conf) keeps only what `pass` marks, in this header,
  // which outranks Cache-Control — in nginx before 1.23 only when it comes first, so it is set first
  // (`pass` overwrites the value in place). Every other answer says 0: never kept.
  if (style === 'nginx') reply.header('x-accel-expires', '0');
  reply.header('cache-control', 'no-store');
  const view = describe(request, style, verify.publicHost);
  if ('error' in view) {
    reply.headers(verify.pageHeaders);
    request.log.warn({ event: 'verify.malformed', detail: view.error }, 'forward-auth request malformed');
    // nginx turns anything but 2xx/401/403 into a bare 500: say it with a 403 and the code.
    if (style === 'nginx') return reply.code(403).header('x-roomguard-error', 'RG_REQUEST_INVALID').send();
    return ctx.fail(request, reply, 'RG_REQUEST_INVALID', { detail: view.error });
  }
  let verdict = await verify.judge.judge(request, view);
  // A request judged by its body cannot be judged here: the web server's check carries none.
  if (verdict.kind === 'pass' && verdict.admission.body) {
    request.log.warn({ event: 'verify.body-needed', path: view.rawUrl.split('?')[0]!.slice(0, 100) }, 'this request must be sent to roomguard itself (see the conference-request location in deploy/nginx/jitsi-meet.conf)');
    verdict = { kind: 'refuse', code: 'RG_FORWARD_AUTH_BODY' };
  }
  // Likewise a connection judged message by message (Jitsi's XMPP): the web server would relay the
  // messages unread after this one check, so a session admitted to one room could join any other.
  if (verdict.kind === 'pass' && verdict.admission.stream) {
    request.log.warn({ event: 'verify.stream-needed', path: view.rawUrl.split('?')[0]!.slice(0, 100) }, 'this connection must be sent to roomguard itself (see the xmpp-websocket and http-bind locations in deploy/nginx/jitsi-meet.conf)');
    verdict = { kind: 'refuse', code: 'RG_FORWARD_AUTH_STREAM' };
  }
  if (verdict.kind !== 'pass') reply.headers(verify.pageHeaders);
  return style === 'nginx' ? answerNginx(verify, request, reply, verdict) : answerForwarded(verify, request, reply, verdict);
}

/** Traefik and Caddy pass non-2xx answers to the browser: send the step or the refusal page itself. */
async function answerForwarded(verify: Verify, request: FastifyRequest, reply: FastifyReply, verdict: Verdict) {
  switch (verdict.kind) {
    case 'pass':
      return pass(verify, request, reply, verdict);
    case 'redirect':
      if (verdict.sensitive) reply.header('referrer-policy', 'no-referrer');
      return reply.redirect(verdict.location, 302);
    case 'refuse':
      return verify.ctx.fail(request, reply, verdict.code);
  }
}

/**
 * nginx's auth_request accepts only 2xx, 401 and 403. Steps are 401 with `X-Roomguard-Location` (the
 * snippet redirects there); refusals are 403 with `X-Roomguard-Error` (the snippet shows our refusal
 * page for that code, with its real status).
 */
async function answerNginx(verify: Verify, request: FastifyRequest, reply: FastifyReply, verdict: Verdict) {
  switch (verdict.kind) {
    case 'pass':
      return pass(verify, request, reply, verdict);
    case 'redirect':
      return reply.code(401).header('x-roomguard-location', verdict.location).send();
    case 'refuse':
      if (ERRORS[verdict.code].status === 401) return reply.code(401).header('x-roomguard-location', verify.ctx.loginHref(returnToOf(request))).send();
      return reply.code(403).header('x-roomguard-error', verdict.code).send();
  }
}

function returnToOf(request: FastifyRequest): string {
  const uri = header(request, 'x-original-uri') ?? '/';
  return uri.length <= 2048 ? uri : uri.slice(0, uri.indexOf('?') === -1 ? 2048 : uri.indexOf('?'));
}

/** 200 with the identity headers the web server copies onto the request for the backend. */
async function pass(verify: Verify, request: FastifyRequest, reply: FastifyReply, verdict: Extract<Verdict, { kind: 'pass' }>) {
  const { ctx, style } = verify;
  // Every name, empty where there is nothing to say: proxies that copy named headers (Caddy 2.6's
  // copy_headers) would otherwise pass an unexpanded placeholder for an absent one.
  const headers: Record<string, string> = style === 'forwarded' ? Object.fromEntries(IDENTITY_HEADER_NAMES.map((name) => [name, ''])) : {};
  Object.assign(headers, await admittedIdentityHeaders(ctx, verdict.admission));
  if (style === 'nginx') {
    // nginx cannot reliably cut cookies out of a header; roomguard hands it the Cookie header for the backend.
    const cookie = stripOwnCookies(header(request, 'cookie'), [ctx.cookies.session, ctx.cookies.binding, ctx.cookies.lang]);
    if (cookie) headers[UPSTREAM_COOKIE_HEADER] = cookie;
  }
  const identity = verdict.admission.session?.data.identity;
  if (identity && verify.remoteHeaders) {
    const encoding = ctx.config.identityHeaders.remoteEncoding as HeaderEncoding;
    headers['remote-user'] = encodeHeaderValue(identity.sub, encoding);
    headers['remote-groups'] = encodeHeaderList(identity.groups, encoding);
    if (identity.email && identity.emailVerified) headers['remote-email'] = encodeHeaderValue(identity.email, encoding);
    if (identity.name) headers['remote-name'] = encodeHeaderValue(identity.name, encoding);
  }
  if (style === 'nginx' && verdict.admission.repeatable) headers['x-accel-expires'] = cacheUntilEndOfSecond(Date.now());
  return reply.code(200).headers(headers).send();
}

/**
 * `@<unix second>`: nginx keeps the answer while its clock reads that second, so at most until the next
 * second begins — never longer than 1 s. A relative `1` would be kept up to 2 s (nginx compares whole
 * seconds). Real time, not the gateway's clock: nginx judges by its own.
 */
export function cacheUntilEndOfSecond(nowMs: number): string {
  return `@${Math.floor(nowMs / 1000)}`;
}

/** nginx names the refusal's code; anything else (or nothing) is a page that does not exist. */
const REFUSED_PAGE = routeInput({ querystring: { type: 'object', properties: { code: { type: 'string', maxLength: 64 } } } });

function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERRORS, code);
}

/** With forward-auth on, among roomguard's own pages (and their headers). */
export function registerRefusedPage(app: FastifyInstance, ctx: GatewayContext): void {
  if (!ctx.config.forwardAuth.enabled) return;
  // The page nginx shows for a refusal (error_page 403 → here): the catalogued text, in the person's language.
  route(app, 'GET', REFUSED_PATH, REFUSED_PAGE, async (request, reply) => {
    const { code } = request.query;
    return ctx.fail(request, reply, code !== undefined && isErrorCode(code) ? code : 'RG_NOT_FOUND');
  });
}
