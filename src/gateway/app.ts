// Assembles the gateway: roomguard's own routes under /_roomguard/, health endpoints, and the guarded
// HTTP + WebSocket proxy to the backend. The guard follows DESIGN's path of a join: which room (backend)
// → who (session) → decide() → login / second factor / deny page, or proxy with identity headers.
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import httpProxy from '@fastify/http-proxy';
import type { Config } from '../config/schema.js';
import { ERRORS, RoomguardError, isRoomguardError, type ErrorCode } from '../errors.js';
import type { Backend } from '../backends/backend.js';
import type { Store } from '../store/store.js';
import { decide } from '../policy/decide.js';
import type { LivePolicies } from '../policy/load.js';
import type { Decision, Subject } from '../policy/types.js';
import { Sessions, type LoadedSession } from '../session/sessions.js';
import { newBrowserBinding, type OidcRelyingParty } from '../identity/oidc.js';
import { safeReturnTo } from '../identity/return-to.js';
import { errorPage, signOutPage, signedOutPage } from '../ui/pages.js';
import { pickLang, UI_TEXT } from '../ui/i18n.js';
import { AssertionSigner } from './assertion.js';
import { identityHeaders, stripOwnCookies, stripSpoofable } from './identity-headers.js';
import { isCleanPath } from './path-hygiene.js';
import { securityHeaders } from './security-headers.js';

export interface GatewayDeps {
  config: Config;
  /** The store sessions live in (already sealed); `rawStore` is pinged by /readyz. */
  store: Store;
  policies: LivePolicies;
  backend: Backend;
  oidc: OidcRelyingParty;
  assertion: AssertionSigner;
  /** Secret for CSRF tokens (derived from secrets.encryptionKey). */
  encryptionKey: Buffer;
  logger?: boolean | object;
  now?: () => number;
}

interface Admission {
  session?: LoadedSession;
  decision?: Decision;
}

declare module 'fastify' {
  interface FastifyRequest {
    admission?: Admission;
  }
}

const STYLE_CSS = readFileSync(new URL('../ui/assets/style.css', import.meta.url), 'utf8');
const WS_STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 502: 'Bad Gateway', 503: 'Service Unavailable' };

export async function buildGateway(deps: GatewayDeps): Promise<FastifyInstance> {
  const { config, backend, oidc, policies } = deps;
  const now = deps.now ?? Date.now;
  const publicUrl = config.publicUrl;
  const https = publicUrl.protocol === 'https:';
  const cookiePrefix = https ? '__Host-' : '';
  const sessionCookie = `${cookiePrefix}${config.session.cookieName}`;
  const bindingCookie = `${cookiePrefix}${config.session.cookieName}_login`;
  const sessions = new Sessions(deps.store, { idleMs: config.session.idleTimeout, absoluteMs: config.session.absoluteTimeout }, now);
  const csrfKey = Buffer.from(hkdfSync('sha256', deps.encryptionKey, Buffer.alloc(0), 'roomguard csrf v1', 32));
  const cookieBase = { path: '/', httpOnly: true, secure: https, sameSite: 'lax' as const };
  const pageHeaders = securityHeaders({ https, formActions: [oidc.settings.issuer.origin] });

  const app = Fastify({
    logger: deps.logger ?? false,
    trustProxy: config.trustProxy.length > 0 ? config.trustProxy : false,
    genReqId: () => randomBytes(8).toString('hex'),
    requestIdHeader: false,
    bodyLimit: 1024 * 1024,
    routerOptions: { maxParamLength: 500 },
  });
  await app.register(fastifyCookie);

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  const isWebSocket = (request: FastifyRequest) => request.headers.upgrade?.toLowerCase() === 'websocket';

  /** Ends a request with a catalogued error: an HTML page, or a bare status line for WebSocket upgrades. */
  const fail = (request: FastifyRequest, reply: FastifyReply, code: ErrorCode, action?: { href: string; label: string }) => {
    const status = ERRORS[code].status;
    if (isWebSocket(request)) {
      // The socket never reaches the upstream; the client sees a plain HTTP refusal.
      return reply.code(status).header('connection', 'close').header('x-roomguard-reason', code).type('text/plain').send(`${WS_STATUS_TEXT[status] ?? 'Refused'}: ${code}\n`);
    }
    const lang = pickLang(request.headers['accept-language']);
    return reply.code(status).headers(pageHeaders).type('text/html; charset=utf-8').send(errorPage({ lang, code, requestId: request.id, ...(action ? { action } : {}) }));
  };

  const loginLink = (request: FastifyRequest, returnTo: string | undefined) => ({
    href: `/_roomguard/login${returnTo ? `?returnTo=${encodeURIComponent(returnTo)}` : ''}`,
    label: UI_TEXT[pickLang(request.headers['accept-language'])].signIn,
  });

  app.setErrorHandler((error, request, reply) => {
    if (isRoomguardError(error)) {
      if (error.status >= 500) request.log.error({ code: error.code, err: error.message }, 'request failed');
      else request.log.info({ code: error.code, detail: error.message }, 'request refused');
      const action = error.code.startsWith('RG_LOGIN') ? loginLink(request, undefined) : undefined;
      return fail(request, reply, error.code, action);
    }
    const status = (error as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) {
      request.log.info({ err: (error as Error).message }, 'bad request');
      return fail(request, reply, 'RG_REQUEST_INVALID');
    }
    request.log.error({ err: error as Error }, 'unexpected error');
    return fail(request, reply, 'RG_INTERNAL');
  });

  // ---- health --------------------------------------------------------------------------------
  app.get('/healthz', async (_request, reply) => reply.header('cache-control', 'no-store').send({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const checks: Record<string, { ok: boolean; detail?: string }> = {};
    try {
      await deps.store.ping();
      checks.store = { ok: true };
    } catch (err) {
      checks.store = { ok: false, detail: isRoomguardError(err) ? err.code : 'error' };
    }
    try {
      await oidc.metadata();
      checks.idp = { ok: true };
    } catch (err) {
      checks.idp = { ok: false, detail: isRoomguardError(err) ? err.code : 'error' };
    }
    checks.policies = { ok: true, detail: policies.current.version.slice(0, 12) };
    const ok = Object.values(checks).every((c) => c.ok);
    return reply.code(ok ? 200 : 503).header('cache-control', 'no-store').send({ status: ok ? 'ready' : 'not ready', checks });
  });

  // ---- roomguard's own routes (no proxy, own parsers) ---------------------------------------
  await app.register(async (own) => {
    await own.register(fastifyFormbody, { bodyLimit: 8 * 1024 });
    own.addHook('onRequest', async (_request, reply) => {
      reply.headers(pageHeaders);
    });

    own.get('/_roomguard/assets/style.css', async (_request, reply) =>
      reply.header('cache-control', 'public, max-age=3600').type('text/css; charset=utf-8').send(STYLE_CSS));

    own.get('/_roomguard/jwks.json', async (_request, reply) =>
      reply.header('cache-control', 'public, max-age=300').send(deps.assertion.jwks));

    own.get('/_roomguard/login', async (request, reply) => {
      const query = request.query as Record<string, unknown>;
      const rawReturnTo = query.returnTo;
      if (Array.isArray(rawReturnTo)) throw new RoomguardError('RG_RETURN_TO_INVALID', 'returnTo given twice');
      const returnTo = rawReturnTo === undefined ? '/' : safeReturnTo(rawReturnTo, publicUrl);
      if (returnTo === undefined) throw new RoomguardError('RG_RETURN_TO_INVALID');
      let binding = request.cookies[bindingCookie];
      if (!binding || !/^[A-Za-z0-9_-]{43}$/.test(binding)) binding = newBrowserBinding();
      const target = await oidc.begin(returnTo, binding);
      reply.setCookie(bindingCookie, binding, { ...cookieBase, maxAge: Math.ceil(config.oidc.loginTimeout / 1000) });
      return reply.redirect(target.href, 302);
    });

    own.get('/_roomguard/callback', async (request, reply) => {
      const callbackUrl = new URL(request.url, publicUrl);
      const login = await oidc.complete(callbackUrl, request.cookies[bindingCookie]);
      const previous = await sessions.load(request.cookies[sessionCookie]);
      if (previous) await sessions.destroy(previous);
      const session = await sessions.create(login.identity, { sid: login.sid, idToken: login.idToken });
      request.log.info({ session: session.hash.slice(0, 16), event: 'login' }, 'login completed');
      reply.setCookie(sessionCookie, session.id, cookieBase);
      reply.clearCookie(bindingCookie, cookieBase);
      return reply.redirect(login.returnTo, 302);
    });

    own.get('/_roomguard/logout', async (request, reply) => {
      const session = await sessions.load(request.cookies[sessionCookie]);
      const lang = pickLang(request.headers['accept-language']);
      const who = session?.data.identity.email ?? session?.data.identity.name;
      return reply.type('text/html; charset=utf-8').send(signOutPage(lang, who, session ? csrfToken(csrfKey, session.hash) : undefined));
    });

    own.post('/_roomguard/logout', async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      const session = await sessions.load(request.cookies[sessionCookie]);
      const origin = request.headers.origin;
      if (origin !== undefined && origin !== publicUrl.origin) throw new RoomguardError('RG_CSRF', 'foreign Origin');
      if (session) {
        if (typeof body.csrf !== 'string' || !csrfValid(csrfKey, session.hash, body.csrf)) throw new RoomguardError('RG_CSRF');
        await sessions.destroy(session);
        request.log.info({ session: session.hash.slice(0, 16), event: 'logout' }, 'logout');
      }
      reply.clearCookie(sessionCookie, cookieBase);
      reply.header('clear-site-data', '"cookies", "storage"');
      const endSession = await oidc.endSessionUrl(session?.data.idToken);
      return reply.redirect(endSession?.href ?? '/_roomguard/logged-out', 303);
    });

    own.get('/_roomguard/logged-out', async (request, reply) =>
      reply.type('text/html; charset=utf-8').send(signedOutPage(pickLang(request.headers['accept-language']))));

    own.all('/_roomguard/*', async (request, reply) => fail(request, reply, 'RG_NOT_FOUND'));
  });

  // ---- the guarded proxy ---------------------------------------------------------------------
  const publicPaths = config.backend.public;
  const isPublic = (path: string) => publicPaths.some((p) => (p.endsWith('*') ? path.startsWith(p.slice(0, -1)) : path === p));

  const guard = async (request: FastifyRequest, reply: FastifyReply) => {
    const rawUrl = request.raw.url ?? '/';
    const queryAt = rawUrl.indexOf('?');
    const path = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
    if (!isCleanPath(path)) return fail(request, reply, 'RG_REQUEST_BAD_PATH');
    const lookup = backend.roomOf(path);
    if (lookup.kind === 'invalid') return fail(request, reply, 'RG_ROOM_INVALID');
    if (lookup.kind === 'room' && lookup.canonicalPath !== undefined) {
      if (isWebSocket(request) || (request.method !== 'GET' && request.method !== 'HEAD')) return fail(request, reply, 'RG_ROOM_INVALID');
      return reply.redirect(lookup.canonicalPath + (queryAt === -1 ? '' : rawUrl.slice(queryAt)), 302);
    }
    if (lookup.kind === 'none' && isPublic(path)) {
      request.admission = {};
      return;
    }
    const session = await sessions.load(request.cookies[sessionCookie]);
    const needLogin = () => {
      if (isWebSocket(request) || (request.method !== 'GET' && request.method !== 'HEAD')) return fail(request, reply, 'RG_LOGIN_REQUIRED');
      return reply.redirect(`/_roomguard/login?returnTo=${encodeURIComponent(rawUrl.length <= 2048 ? rawUrl : path)}`, 302);
    };
    if (lookup.kind === 'none') {
      if (!session) return needLogin();
      request.admission = { session };
      return;
    }
    const set = policies.current;
    const subject: Subject = {};
    const policyIdle = set.policies.length > 0 ? roomIdleLimit(lookup.room, deps) : undefined;
    if (session && !(policyIdle !== undefined && session.idleFor > policyIdle)) {
      subject.identity = session.data.identity;
      if (session.data.mfa) subject.mfa = session.data.mfa;
    }
    const decision = decide(subject, lookup.room, set, now());
    request.log.info({
      event: 'decision', room: decision.room, outcome: decision.outcome, reasons: decision.reasons,
      policy: decision.policy?.file, rule: decision.rule ? `${decision.rule.kind}[${decision.rule.index}]` : undefined,
      session: session?.hash.slice(0, 16),
    }, 'room decision');
    switch (decision.outcome) {
      case 'allow':
        request.admission = { session, decision };
        return;
      case 'login':
        return needLogin();
      case 'mfa':
        // Second factors arrive with the MFA issue; until then such rooms stay closed, loudly.
        return fail(request, reply, 'RG_MFA_UNAVAILABLE');
      case 'deny':
        return fail(request, reply, decision.reasons[0] ?? 'RG_POLICY_NOT_ALLOWED');
    }
  };

  const upstreamHeaders = async (request: FastifyRequest, incoming: Record<string, unknown>): Promise<Record<string, string | string[] | undefined>> => {
    const headers = stripSpoofable({ ...incoming }) as Record<string, string | string[] | undefined>;
    const cookie = stripOwnCookies(typeof headers.cookie === 'string' ? headers.cookie : undefined, [sessionCookie, bindingCookie]);
    if (cookie) headers.cookie = cookie;
    else delete headers.cookie;
    headers['x-forwarded-for'] = request.ip;
    headers['x-forwarded-proto'] = publicUrl.protocol.slice(0, -1);
    headers['x-forwarded-host'] = publicUrl.host;
    delete headers.forwarded;
    const admission = request.admission;
    const identity = admission?.session?.data.identity;
    if (identity) {
      const room = admission?.decision?.room;
      const role = admission?.decision?.role;
      const assertion = await deps.assertion.sign({
        sub: identity.sub, iss: identity.iss, groups: identity.groups,
        ...(identity.email ? { email: identity.email } : {}), ...(identity.name ? { name: identity.name } : {}),
        ...(room ? { room } : {}), ...(role ? { role } : {}),
      }, now());
      Object.assign(headers, identityHeaders({
        sub: identity.sub, groups: identity.groups, assertion,
        ...(identity.email ? { email: identity.email } : {}), ...(identity.name ? { name: identity.name } : {}),
        ...(room ? { room } : {}), ...(role ? { role } : {}),
      }));
    }
    return headers;
  };

  await app.register(async (proxied) => {
    proxied.addHook('onRequest', guard);
    // Identity headers are signed asynchronously; prepare them before the (synchronous) proxy rewrite.
    proxied.addHook('preHandler', async (request) => {
      (request as FastifyRequest & { upstreamHeaders?: Record<string, unknown> }).upstreamHeaders = await upstreamHeaders(request, request.headers as Record<string, unknown>);
    });
    const prepared = (request: FastifyRequest) => (request as FastifyRequest & { upstreamHeaders?: Record<string, string | string[] | undefined> }).upstreamHeaders;
    await proxied.register(httpProxy, {
      upstream: config.backend.upstream.origin + config.backend.upstream.pathname.replace(/\/$/, ''),
      websocket: true,
      proxyPayloads: true,
      replyOptions: {
        rewriteRequestHeaders: (request, headers) => {
          const ready = prepared(request as FastifyRequest);
          // Hop-by-hop and length headers come from the proxy's own view of this request.
          const merged = { ...(ready ?? stripSpoofable({ ...headers })) } as Record<string, string | string[] | undefined>;
          merged.host = headers.host as string;
          if (headers['content-length'] !== undefined) merged['content-length'] = headers['content-length'] as string;
          else delete merged['content-length'];
          delete merged.connection;
          delete merged['transfer-encoding'];
          delete merged.upgrade;
          return merged as typeof headers;
        },
        onError: (reply, { error }) => {
          reply.request.log.warn({ err: error.message }, 'upstream unavailable');
          void fail(reply.request as FastifyRequest, reply as unknown as FastifyReply, 'RG_UPSTREAM_UNAVAILABLE');
        },
      },
      wsClientOptions: {
        // Typed loosely upstream; the plugin calls it with (headers, request) for every proxied upgrade.
        rewriteRequestHeaders: (_headers: Record<string, string>, request: FastifyRequest) => {
          const ready = prepared(request as FastifyRequest) ?? {};
          const out: Record<string, string> = {};
          for (const [name, value] of Object.entries(ready)) {
            if (typeof value !== 'string') continue;
            if (name === 'cookie' || name === 'user-agent' || name === 'accept-language' || name === 'origin' || name.startsWith('x-forwarded-') || name.startsWith('x-roomguard-')) out[name] = value;
          }
          return out;
        },
      } as object,
    });
  });

  return app;
}

function roomIdleLimit(room: string, deps: GatewayDeps): number | undefined {
  // A stricter idle limit of the room's own policy (risk: high ⇒ 15 min) applies on top of the gateway's.
  const match = deps.policies.current.policies.find((p) => p.rooms.some((r) => r === room));
  return match?.sessionIdleTimeout;
}

export function csrfToken(key: Buffer, sessionHash: string): string {
  return createHmac('sha256', key).update(sessionHash).digest('base64url');
}

function csrfValid(key: Buffer, sessionHash: string, token: string): boolean {
  const expected = Buffer.from(csrfToken(key, sessionHash));
  const given = Buffer.from(token);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
