// Assembles the gateway from its route groups: health, roomguard's own pages (login, second factor,
// account), and the guarded HTTP + WebSocket proxy. Errors become pages with catalogue codes.
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import { isRoomguardError } from '../errors.js';
import { UI_TEXT } from '../ui/i18n.js';
import { GatewayContext, type GatewayDeps } from './context.js';
import { registerAuthRoutes } from './auth-routes.js';
import { registerNoticeRoutes } from './notice-routes.js';
import { registerMfaRoutes } from './mfa-routes.js';
import { registerAccountRoutes } from './account-routes.js';
import { registerAuditRoutes } from './audit-routes.js';
import { registerForwardAuth, registerRefusedPage } from './forward-auth.js';
import { registerProxy } from './proxy.js';
import { registerHealthRoutes } from './health-routes.js';
import { securityHeaders } from '../ui/security-headers.js';
import { requestIdSource } from './request-id.js';
import { rawRefusals } from './client-errors.js';

export type { GatewayDeps } from './context.js';

export async function buildGateway(deps: GatewayDeps): Promise<FastifyInstance> {
  const ctx = new GatewayContext(deps);
  const { config } = deps;

  const newRequestId = requestIdSource();
  let log: FastifyInstance['log'] | undefined;
  const refusals = rawRefusals({ orgName: config.ui.orgName, hasLogo: Boolean(deps.logo), https: ctx.https, links: ctx.frames.links, newRequestId, log: () => log });
  const app = Fastify({
    logger: deps.logger ?? false,
    trustProxy: config.trustProxy.length > 0 ? config.trustProxy : false,
    genReqId: newRequestId,
    requestIdHeader: false,
    bodyLimit: 1024 * 1024,
    // Slow clients: a whole request within http.requestTimeout, headers within http.headersTimeout
    // (fastify's default 0 would let a body trickling in byte by byte hold a connection for ever).
    requestTimeout: config.http.requestTimeout,
    // requireHostHeader off: Node's own answer to a request without Host is a bare 400; a hook gives the page.
    http: { headersTimeout: config.http.headersTimeout, connectionsCheckingInterval: connectionsCheckingInterval(config.http), requireHostHeader: false },
    // One access line per request (below) instead of fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    ...(deps.serverFactory ? { serverFactory: deps.serverFactory } : {}),
    routerOptions: { maxParamLength: 500 },
    // Route schemas (route-input.ts) check input as it came: a value of the wrong type is refused, never
    // converted (fastify's default would turn a JSON number into a code or a one-item list into a token).
    ajv: { customOptions: { coerceTypes: false } },
    // A URL the router cannot decode (`%c3` alone, `%zz`) gets the same page as a path roomguard refuses.
    frameworkErrors: (error, request, reply) => refuseUnroutable(ctx, error, request, reply),
    clientErrorHandler: refusals.clientError,
  });
  log = app.log;
  refusals.attach(app.server);
  app.server.headersTimeout = config.http.headersTimeout;
  await app.register(fastifyCookie);
  // The session a hook read after the body arrived, for the handler (context.ts loadSession's `keep`).
  app.decorateRequest('keptSession', undefined);

  addRequestHooks(app, ctx);

  app.setErrorHandler((error, request, reply) => answerError(ctx, error, request, reply));
  registerHealthRoutes(app, deps);

  const ownHeaders = securityHeaders({ https: ctx.https, formActions: [deps.oidc.settings.issuer.origin] });
  await app.register(async (own) => registerOwnPages(own, ctx, ownHeaders));

  await app.register(async (verify) => registerVerifyEndpoint(verify, ctx, ownHeaders));

  app.addHook('onClose', async () => {
    await ctx.sessions.close();
    ctx.rooms.stop();
    ctx.closings?.stop();
  });
  await registerProxy(app, ctx);
  return app;
}

/** A request the router refused: the refusal page, whatever goes wrong (nothing may throw past fastify here). */
function refuseUnroutable(ctx: GatewayContext, error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  request.log.info({ event: 'request.unroutable', code: error.code }, 'request refused by the router');
  try {
    // The app's hooks (request id, cookies) have not run for a request the router refused.
    reply.header('x-request-id', request.id);
    void ctx.fail(request, reply, error.code === 'FST_ERR_BAD_URL' ? 'RG_REQUEST_BAD_PATH' : 'RG_REQUEST_INVALID');
  } catch (err) {
    // Nothing here may throw past fastify: it would end the process.
    request.log.error({ err }, 'refusal page failed');
    if (!reply.sent) reply.raw.writeHead(400).end();
  }
}

/** Every request: our request id on the response, one access line and a metric; in the demo, page loads moved to publicUrl's host. */
function addRequestHooks(app: FastifyInstance, ctx: GatewayContext): void {
  const deps = ctx.deps;
  // HTTP/1.1 requires Host; Node's own refusal of a request without one is a bare 400.
  app.addHook('onRequest', async (request, reply) => {
    if (request.headers.host === undefined && request.raw.httpVersion !== '1.0') return ctx.fail(request, reply, 'RG_REQUEST_INVALID');
  });
  // The proxy takes the usual methods on every path; anything else (PROPFIND, TRACE …) ends here.
  app.setNotFoundHandler((request, reply) => ctx.fail(request, reply, 'RG_METHOD_NOT_ALLOWED'));
  // Every response, the upstream's included, carries our request id (set last, so an upstream's own
  // X-Request-Id cannot replace it). Callback hooks: these run for every request, a promise each adds up.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    // The backend's public static files, answered without error: at debug (docs/operations.md, "Health and
    // logs"). The line cost about 9 µs of the gateway's 86 µs per such request (docs/performance.md).
    const level = request.admission?.public === true && reply.statusCode < 400 ? 'debug' : 'info';
    request.log[level]({ req: request, res: { statusCode: reply.statusCode }, responseTime: Math.round(reply.elapsedTime * 10) / 10 }, 'request completed');
    // The route pattern, not the URL: no room names or tokens in metric labels.
    deps.metrics.requests.inc({ route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
    done();
  });
  if (deps.redirectToPublicHost) {
    app.addHook('onRequest', async (request, reply) => {
      if (request.headers.host !== ctx.publicUrl.host && (request.method === 'GET' || request.method === 'HEAD') && !request.url.startsWith('/healthz') && !request.url.startsWith('/readyz')) {
        // Only a plain path may follow the origin: `//evil` or an absolute URL would leave it.
        if (!/^\/(?!\/)/.test(request.url) || request.url.includes('\\')) return ctx.fail(request, reply, 'RG_REQUEST_BAD_PATH');
        return reply.redirect(ctx.publicUrl.origin + request.url, 302);
      }
    });
  }
}

/** Errors become catalogue refusals: roomguard's own as they are, other 4xx RG_REQUEST_INVALID, the rest RG_INTERNAL. */
function answerError(ctx: GatewayContext, error: unknown, request: FastifyRequest, reply: FastifyReply) {
  if (isRoomguardError(error)) {
    if (error.status >= 500) request.log.error({ code: error.code, err: error.message }, 'request failed');
    else request.log.info({ code: error.code, detail: error.message }, 'request refused');
    const action = error.code.startsWith('RG_LOGIN') ? { href: '/_roomguard/login', label: UI_TEXT[ctx.lang(request)].signIn } : undefined;
    return ctx.fail(request, reply, error.code, action ? { action } : {});
  }
  const status = (error as { statusCode?: number }).statusCode;
  if (status && status >= 400 && status < 500) {
    request.log.info({ err: (error as Error).message }, 'bad request');
    return ctx.fail(request, reply, 'RG_REQUEST_INVALID');
  }
  request.log.error({ err: error as Error }, 'unexpected error');
  return ctx.fail(request, reply, 'RG_INTERNAL');
}

/** roomguard's own pages, with their own body parsers (the proxy passes bodies through untouched). */
async function registerOwnPages(own: FastifyInstance, ctx: GatewayContext, ownHeaders: Record<string, string>): Promise<void> {
  await own.register(fastifyFormbody, { bodyLimit: 16 * 1024 });
  own.addHook('onRequest', async (_request, reply) => {
    // Pages replace the CSP with one carrying their nonce; redirects and JSON keep this one.
    reply.headers(ownHeaders);
  });
  registerAuthRoutes(own, ctx);
  registerNoticeRoutes(own, ctx);
  registerMfaRoutes(own, ctx);
  registerAccountRoutes(own, ctx);
  registerAuditRoutes(own, ctx);
  (await import('./guest-routes.js')).registerGuestRoutes(own, ctx);
  registerRefusedPage(own, ctx);
  own.all('/_roomguard/*', async (request, reply) => ctx.fail(request, reply, 'RG_NOT_FOUND'));
}

/** Forward-auth's verify endpoint: no page headers on what only the web server reads (forward-auth.ts). */
async function registerVerifyEndpoint(verify: FastifyInstance, ctx: GatewayContext, ownHeaders: Record<string, string>): Promise<void> {
  await verify.register(fastifyFormbody, { bodyLimit: 16 * 1024 });
  // Errors (an unparsable body, the store away) become pages or JSON that Caddy and Traefik hand to
  // the browser: they get the page headers, then the gateway's own error handler answers.
  verify.setErrorHandler(async (error, _request, reply) => {
    reply.headers(ownHeaders);
    throw error;
  });
  registerForwardAuth(verify, ctx, ownHeaders);
}

/**
 * How often Node looks for connections past their header or request timeout. Its default, 30 s, would let
 * a 10 s header timeout bite only after up to 40 s; a quarter of the shorter timeout lets each bite within
 * a quarter of itself more. Bounded to 250 ms … 1 s: each check walks every open connection.
 */
export function connectionsCheckingInterval(http: { headersTimeout: number; requestTimeout: number }): number {
  return Math.min(1000, Math.max(250, Math.floor(Math.min(http.headersTimeout, http.requestTimeout) / 4)));
}
