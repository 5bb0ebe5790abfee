// roomguard's own pages around login: assets, JWKS, login, callback, logout, back-channel logout, and
// Jitsi's "I am the host" link. One named handler per route, its input declared by a route schema.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RoomguardError, isRoomguardError } from '../errors.js';
import { BackchannelLogout } from '../identity/backchannel.js';
import type { PendingLogin } from '../identity/pending-logins.js';
import { safeReturnTo } from '../identity/return-to.js';
import { signOutPage, signedOutPage } from '../ui/pages.js';
import type { GatewayContext } from './context.js';
import { canonicalRoom } from '../backends/room-name.js';
import { route, routeInput, type ValidRequest } from './route-input.js';
import { truncateIp } from '../audit/privacy.js';

const require = createRequire(import.meta.url);
const ASSETS: Record<string, { body: string; type: string }> = {
  'style.css': { body: readFileSync(new URL('../ui/assets/style.css', import.meta.url), 'utf8'), type: 'text/css; charset=utf-8' },
  'local-time.js': { body: readFileSync(new URL('../ui/assets/local-time.js', import.meta.url), 'utf8'), type: 'text/javascript; charset=utf-8' },
  'mfa.js': { body: readFileSync(new URL('../ui/assets/mfa.js', import.meta.url), 'utf8'), type: 'text/javascript; charset=utf-8' },
  'copy.js': { body: readFileSync(new URL('../ui/assets/copy.js', import.meta.url), 'utf8'), type: 'text/javascript; charset=utf-8' },
  // @simplewebauthn/browser, served from roomguard itself (no CDN).
  'webauthn-browser.js': { body: readFileSync(join(dirname(dirname(require.resolve('@simplewebauthn/browser'))), 'dist/bundle/index.umd.min.js'), 'utf8'), type: 'text/javascript; charset=utf-8' },
};

/** Longest Jitsi state roomguard reads; a longer one is ignored (the room parameter still counts). */
const MAX_JITSI_STATE = 2000;

const ASSET = routeInput({ params: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } });
const LOGIN_START = routeInput({ querystring: { type: 'object', properties: { returnTo: { type: 'string', default: '/' }, fresh: { type: 'string' } } } }, ['returnTo']);
const SIGN_OUT = routeInput({ body: { type: 'object', properties: { csrf: { type: 'string' } } } }, ['csrf']);
/** Jitsi's tokenAuthUrl parameters: the room, or (with tenants) a JSON state naming room and tenant. */
const JITSI_HOST_LINK = routeInput({ querystring: { type: 'object', properties: { room: { type: 'string' }, state: { type: 'string' } } } }, ['room']);
/** The IdP's signed JWT; BackchannelLogout.verify checks everything else about it. */
const LOGOUT_TOKEN = routeInput({ body: { type: 'object', properties: { logout_token: { type: 'string' } } } });

export function registerAuthRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  const theme = `:root { --accent: ${ctx.config.ui.primaryColor}; }\n`;
  const backchannel = new BackchannelLogout(ctx.deps.oidc, ctx.deps.store);
  route(app, 'GET', '/_roomguard/assets/:name', ASSET, (request, reply) => serveAsset(ctx, theme, request, reply));
  app.get('/_roomguard/jwks.json', async (_request, reply) => reply.header('cache-control', 'public, max-age=300').send(ctx.deps.assertion.jwks));
  route(app, 'GET', '/_roomguard/login', LOGIN_START, (request, reply) => startLogin(ctx, request, reply));
  app.get('/_roomguard/callback', (request, reply) => completeLogin(ctx, request, reply));
  app.get('/_roomguard/logout', (request, reply) => showSignOut(ctx, request, reply));
  route(app, 'POST', '/_roomguard/logout', SIGN_OUT, (request, reply) => signOut(ctx, request, reply));
  // Jitsi's tokenAuthUrl ("I am the host"): TOKEN_AUTH_URL=<publicUrl>/_roomguard/jitsi/auth?room={room}
  // (or &state={state} with tenants). The room page itself does login, second factor and token.
  route(app, 'GET', '/_roomguard/jitsi/auth', JITSI_HOST_LINK, (request, reply) => jitsiHostLink(request, reply));
  // OIDC back-channel logout: the IdP ends this person's sessions here, server to server.
  route(app, 'POST', '/_roomguard/backchannel-logout', LOGOUT_TOKEN, (request, reply) => backchannelLogout(ctx, backchannel, request, reply));
  app.get('/_roomguard/logged-out', async (request, reply) => ctx.page(request, reply, (frame) => signedOutPage(frame)));
}

async function serveAsset(ctx: GatewayContext, theme: string, request: ValidRequest<typeof ASSET>, reply: FastifyReply) {
  const { name } = request.params;
  if (name === 'theme.css') return reply.header('cache-control', 'public, max-age=300').type('text/css; charset=utf-8').send(theme);
  if (name === 'logo' && ctx.deps.logo) return reply.header('cache-control', 'public, max-age=3600').type(ctx.deps.logo.type).send(ctx.deps.logo.body);
  const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
  if (!asset) return ctx.fail(request, reply, 'RG_NOT_FOUND');
  return reply.header('cache-control', 'public, max-age=3600').header('x-content-type-options', 'nosniff').type(asset.type).send(asset.body);
}

/** Hands the browser its pending logins (sealed, newest first), or drops the cookie when none are left. */
async function keepPendingLogins(ctx: GatewayContext, reply: FastifyReply, logins: PendingLogin[]): Promise<void> {
  if (logins.length === 0) reply.clearCookie(ctx.cookies.binding, ctx.cookieBase);
  else reply.setCookie(ctx.cookies.binding, await ctx.pendingLogins.seal(logins), { ...ctx.cookieBase, maxAge: Math.ceil(ctx.config.oidc.loginTimeout / 1000) });
}

async function startLogin(ctx: GatewayContext, request: ValidRequest<typeof LOGIN_START>, reply: FastifyReply) {
  const returnTo = safeReturnTo(request.query.returnTo, ctx.publicUrl);
  if (returnTo === undefined) throw new RoomguardError('RG_RETURN_TO_INVALID');
  const fresh = request.query.fresh === '1';
  const { url, pending } = await ctx.deps.oidc.begin(returnTo, fresh ? { maxAgeSeconds: Math.floor(ctx.config.mfa.freshLogin / 1000) } : {}, ctx.now());
  // The browser keeps its pending logins (this one first); the store is not written for a login start.
  await keepPendingLogins(ctx, reply, [pending, ...(await ctx.pendingLogins.open(request.cookies[ctx.cookies.binding]))]);
  reply.headers({ 'cache-control': 'no-store', 'referrer-policy': 'same-origin' });
  return reply.redirect(url.href, 302);
}

/** The IdP's answer: the whole callback URL goes to the OIDC client, which checks state, code and issuer. */
async function completeLogin(ctx: GatewayContext, request: FastifyRequest, reply: FastifyReply) {
  const callbackUrl = new URL(request.url, ctx.publicUrl);
  const pending = await ctx.pendingLogins.open(request.cookies[ctx.cookies.binding]);
  // This callback spends its pending login, whatever comes of it; the browser keeps the others.
  const state = callbackUrl.searchParams.get('state');
  const others = pending.filter((login) => login.state !== state);
  if (others.length !== pending.length) await keepPendingLogins(ctx, reply, others);
  let login;
  try {
    login = await ctx.deps.oidc.complete(callbackUrl, pending, ctx.now());
  } catch (err) {
    if (isRoomguardError(err)) ctx.auditQuietly(request, undefined, { type: 'login.failure', outcome: 'failure', reason: err.code });
    throw err;
  }
  const previous = await ctx.loadSession(request);
  if (previous) await ctx.sessions.destroy(previous);
  const trusted = ctx.config.oidc.trustAmr.length > 0 && login.amr.some((m) => ctx.config.oidc.trustAmr.includes(m));
  const session = await ctx.sessions.create(login.identity, {
    sid: login.sid, idToken: login.idToken, authTime: login.authTime,
    ...(trusted ? { mfa: { method: 'idp' as const, at: login.authTime } } : {}),
    ...(request.headers['user-agent'] ? { userAgent: String(request.headers['user-agent']).slice(0, 200) } : {}),
    ...(truncateIp(request.ip) ? { address: truncateIp(request.ip)! } : {}),
  });
  request.log.info({ session: session.hash.slice(0, 16), event: 'login' }, 'login completed');
  ctx.auditQuietly(request, session, { type: 'login.success', outcome: 'success', details: { amr: login.amr.slice(0, 10), idpMfaTrusted: trusted } });
  if (session.ended.length > 0) {
    // The person's oldest sessions, ended to stay within session.maxPerPerson: recorded like any revocation.
    request.log.info({ event: 'session-limit', ended: session.ended.length }, 'oldest sessions ended');
    ctx.auditQuietly(request, session, { type: 'session.revoked', outcome: 'success', details: { scope: 'session-limit', count: session.ended.length, sessions: session.ended.map((s) => s.hash.slice(0, 16)) } });
  }
  ctx.setSessionCookie(reply, session);
  reply.header('cache-control', 'no-store');
  return reply.redirect(login.returnTo, 302);
}

async function showSignOut(ctx: GatewayContext, request: FastifyRequest, reply: FastifyReply) {
  const session = await ctx.loadSession(request);
  const who = session?.data.identity.email ?? session?.data.identity.name;
  return ctx.page(request, reply, (frame) => signOutPage(frame, who, session ? ctx.csrfToken(session) : undefined));
}

async function signOut(ctx: GatewayContext, request: ValidRequest<typeof SIGN_OUT>, reply: FastifyReply) {
  const session = await ctx.loadSession(request);
  if (request.headers.origin !== undefined && request.headers.origin !== ctx.publicUrl.origin) throw new RoomguardError('RG_CSRF', 'foreign Origin');
  if (session) {
    if (!ctx.csrfValid(request, session, request.body.csrf)) throw new RoomguardError('RG_CSRF');
    await ctx.sessions.destroy(session);
    request.log.info({ session: session.hash.slice(0, 16), event: 'logout' }, 'logout');
    ctx.auditQuietly(request, session, { type: 'logout', outcome: 'success' });
  }
  reply.clearCookie(ctx.cookies.session, ctx.cookieBase);
  reply.header('clear-site-data', '"cookies", "storage"');
  const endSession = await ctx.deps.oidc.endSessionUrl(session?.data.idToken);
  return reply.redirect(endSession?.href ?? '/_roomguard/logged-out', 303);
}

async function jitsiHostLink(request: ValidRequest<typeof JITSI_HOST_LINK>, reply: FastifyReply) {
  const { state } = request.query;
  const named = state !== undefined && state.length < MAX_JITSI_STATE ? jitsiState(state) : {};
  const room = named.room ?? request.query.room;
  const canonical = room ? canonicalRoom(room) : undefined;
  const canonicalTenant = named.tenant === undefined ? undefined : canonicalRoom(named.tenant);
  if (!canonical || (named.tenant !== undefined && !canonicalTenant)) throw new RoomguardError('RG_ROOM_INVALID');
  return reply.redirect(`/${canonicalTenant ? `${canonicalTenant}/` : ''}${canonical}`, 302);
}

/** Room (roomSafe, else room) and tenant from Jitsi's JSON state; what is not a string there is not read. */
function jitsiState(text: string): { room?: string; tenant?: string } {
  let state: unknown;
  try {
    state = JSON.parse(text);
  } catch {
    throw new RoomguardError('RG_REQUEST_INVALID', 'state is not JSON');
  }
  if (state === null) throw new RoomguardError('RG_REQUEST_INVALID', 'state is null');
  if (typeof state !== 'object') return {};
  const room = ('roomSafe' in state ? stringOrUndefined(state.roomSafe) : undefined) ?? ('room' in state ? stringOrUndefined(state.room) : undefined);
  const tenant = 'tenant' in state ? stringOrUndefined(state.tenant) : undefined;
  return { ...(room !== undefined ? { room } : {}), ...(tenant ? { tenant } : {}) };
}

const stringOrUndefined = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

async function backchannelLogout(ctx: GatewayContext, backchannel: BackchannelLogout, request: ValidRequest<typeof LOGOUT_TOKEN>, reply: FastifyReply) {
  reply.header('cache-control', 'no-store');
  let target;
  try {
    target = await backchannel.verify(request.body.logout_token, ctx.now());
  } catch (err) {
    request.log.warn({ err: (err as Error).message }, 'back-channel logout refused');
    return reply.code(400).send({ error: 'invalid_request' });
  }
  const ended = target.sid ? await ctx.sessions.destroyBySid(target.sid) : await ctx.sessions.destroyAllFor(target.sub!);
  request.log.info({ event: 'backchannel-logout', ended }, 'back-channel logout');
  ctx.auditQuietly(request, undefined, { type: 'session.revoked', outcome: 'success', details: { scope: target.sid ? 'idp-session' : 'idp-subject', count: ended }, ...(target.sub ? { actor: { sub: target.sub, iss: ctx.deps.oidc.settings.issuer.href } } : {}) });
  return reply.code(200).send();
}
