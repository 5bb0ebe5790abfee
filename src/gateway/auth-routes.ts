// roomguard's own pages around login: assets, JWKS, login, callback, logout, the room notice.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { RoomguardError, isRoomguardError } from '../errors.js';
import { BackchannelLogout } from '../identity/backchannel.js';
import type { PendingLogin } from '../identity/pending-logins.js';
import { safeReturnTo } from '../identity/return-to.js';
import { noticePage, signOutPage, signedOutPage } from '../ui/pages.js';
import type { GatewayContext } from './context.js';
import { canonicalRoom } from '../backends/room-name.js';
import { noticeKey, policyFor } from '../policy/decide.js';

const require = createRequire(import.meta.url);
const ASSETS: Record<string, { body: string; type: string }> = {
  'style.css': { body: readFileSync(new URL('../ui/assets/style.css', import.meta.url), 'utf8'), type: 'text/css; charset=utf-8' },
  'mfa.js': { body: readFileSync(new URL('../ui/assets/mfa.js', import.meta.url), 'utf8'), type: 'text/javascript; charset=utf-8' },
  // @simplewebauthn/browser, served from roomguard itself (no CDN).
  'webauthn-browser.js': { body: readFileSync(join(dirname(dirname(require.resolve('@simplewebauthn/browser'))), 'dist/bundle/index.umd.min.js'), 'utf8'), type: 'text/javascript; charset=utf-8' },
};

/** The key under which a notice acknowledgement is remembered: the room and the policy version that showed it. */
export function registerAuthRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  const { config, publicUrl, cookies, cookieBase } = ctx;
  const oidc = ctx.deps.oidc;
  const theme = `:root { --accent: ${config.ui.primaryColor}; }\n`;

  /** Hands the browser its pending logins (sealed, newest first), or drops the cookie when none are left. */
  async function keepPendingLogins(reply: FastifyReply, logins: PendingLogin[]): Promise<void> {
    if (logins.length === 0) reply.clearCookie(cookies.binding, cookieBase);
    else reply.setCookie(cookies.binding, await ctx.pendingLogins.seal(logins), { ...cookieBase, maxAge: Math.ceil(config.oidc.loginTimeout / 1000) });
  }

  app.get('/_roomguard/assets/:name', async (request, reply) => {
    const name = (request.params as { name: string }).name;
    if (name === 'theme.css') return reply.header('cache-control', 'public, max-age=300').type('text/css; charset=utf-8').send(theme);
    if (name === 'logo' && ctx.deps.logo) return reply.header('cache-control', 'public, max-age=3600').type(ctx.deps.logo.type).send(ctx.deps.logo.body);
    const asset = ASSETS[name];
    if (!asset) return ctx.fail(request, reply, 'RG_NOT_FOUND');
    return reply.header('cache-control', 'public, max-age=3600').header('x-content-type-options', 'nosniff').type(asset.type).send(asset.body);
  });

  app.get('/_roomguard/jwks.json', async (_request, reply) => reply.header('cache-control', 'public, max-age=300').send(ctx.deps.assertion.jwks));

  app.get('/_roomguard/login', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    if (Array.isArray(query.returnTo)) throw new RoomguardError('RG_RETURN_TO_INVALID', 'returnTo given twice');
    const returnTo = query.returnTo === undefined ? '/' : safeReturnTo(query.returnTo, publicUrl);
    if (returnTo === undefined) throw new RoomguardError('RG_RETURN_TO_INVALID');
    const fresh = query.fresh === '1';
    const { url, pending } = await oidc.begin(returnTo, fresh ? { maxAgeSeconds: Math.floor(config.mfa.freshLogin / 1000) } : {}, ctx.now());
    // The browser keeps its pending logins (this one first); the store is not written for a login start.
    await keepPendingLogins(reply, [pending, ...(await ctx.pendingLogins.open(request.cookies[cookies.binding]))]);
    reply.headers({ 'cache-control': 'no-store', 'referrer-policy': 'same-origin' });
    return reply.redirect(url.href, 302);
  });

  app.get('/_roomguard/callback', async (request, reply) => {
    const callbackUrl = new URL(request.url, publicUrl);
    const pending = await ctx.pendingLogins.open(request.cookies[cookies.binding]);
    // This callback spends its pending login, whatever comes of it; the browser keeps the others.
    const state = callbackUrl.searchParams.get('state');
    const others = pending.filter((login) => login.state !== state);
    if (others.length !== pending.length) await keepPendingLogins(reply, others);
    let login;
    try {
      login = await oidc.complete(callbackUrl, pending, ctx.now());
    } catch (err) {
      if (isRoomguardError(err)) ctx.auditQuietly(request, undefined, { type: 'login.failure', outcome: 'failure', reason: err.code });
      throw err;
    }
    const previous = await ctx.loadSession(request);
    if (previous) await ctx.sessions.destroy(previous);
    const trusted = config.oidc.trustAmr.length > 0 && login.amr.some((m) => config.oidc.trustAmr.includes(m));
    const session = await ctx.sessions.create(login.identity, {
      sid: login.sid, idToken: login.idToken, authTime: login.authTime,
      ...(trusted ? { mfa: { method: 'idp' as const, at: login.authTime } } : {}),
      ...(request.headers['user-agent'] ? { userAgent: String(request.headers['user-agent']).slice(0, 200) } : {}),
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
  });

  app.get('/_roomguard/logout', async (request, reply) => {
    const session = await ctx.loadSession(request);
    const who = session?.data.identity.email ?? session?.data.identity.name;
    return ctx.page(request, reply, (frame) => signOutPage(frame, who, session ? ctx.csrfToken(session) : undefined));
  });

  app.post('/_roomguard/logout', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const session = await ctx.loadSession(request);
    if (request.headers.origin !== undefined && request.headers.origin !== publicUrl.origin) throw new RoomguardError('RG_CSRF', 'foreign Origin');
    if (session) {
      if (!ctx.csrfValid(request, session, body.csrf)) throw new RoomguardError('RG_CSRF');
      await ctx.sessions.destroy(session);
      request.log.info({ session: session.hash.slice(0, 16), event: 'logout' }, 'logout');
      ctx.auditQuietly(request, session, { type: 'logout', outcome: 'success' });
    }
    reply.clearCookie(cookies.session, cookieBase);
    reply.header('clear-site-data', '"cookies", "storage"');
    const endSession = await oidc.endSessionUrl(session?.data.idToken);
    return reply.redirect(endSession?.href ?? '/_roomguard/logged-out', 303);
  });

  // Jitsi's tokenAuthUrl ("I am the host"): TOKEN_AUTH_URL=<publicUrl>/_roomguard/jitsi/auth?room={room}
  // (or &state={state} with tenants). The room page itself does login, second factor and token.
  app.get('/_roomguard/jitsi/auth', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    let room = typeof query.room === 'string' ? query.room : undefined;
    let tenant: string | undefined;
    if (typeof query.state === 'string' && query.state.length < 2000) {
      try {
        const state = JSON.parse(query.state) as Record<string, unknown>;
        if (typeof state.roomSafe === 'string') room = state.roomSafe;
        else if (typeof state.room === 'string') room = state.room;
        if (typeof state.tenant === 'string' && state.tenant !== '') tenant = state.tenant;
      } catch {
        throw new RoomguardError('RG_REQUEST_INVALID', 'state is not JSON');
      }
    }
    const canonical = room ? canonicalRoom(room) : undefined;
    const canonicalTenant = tenant === undefined ? undefined : canonicalRoom(tenant);
    if (!canonical || (tenant !== undefined && !canonicalTenant)) throw new RoomguardError('RG_ROOM_INVALID');
    return reply.redirect(`/${canonicalTenant ? `${canonicalTenant}/` : ''}${canonical}`, 302);
  });

  // OIDC back-channel logout: the IdP ends this person's sessions here, server to server.
  const backchannel = new BackchannelLogout(oidc, ctx.deps.store);
  app.post('/_roomguard/backchannel-logout', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    reply.header('cache-control', 'no-store');
    let target;
    try {
      target = await backchannel.verify(body.logout_token, ctx.now());
    } catch (err) {
      request.log.warn({ err: (err as Error).message }, 'back-channel logout refused');
      return reply.code(400).send({ error: 'invalid_request' });
    }
    const ended = target.sid ? await ctx.sessions.destroyBySid(target.sid) : await ctx.sessions.destroyAllFor(target.sub!);
    request.log.info({ event: 'backchannel-logout', ended }, 'back-channel logout');
    ctx.auditQuietly(request, undefined, { type: 'session.revoked', outcome: 'success', details: { scope: target.sid ? 'idp-session' : 'idp-subject', count: ended }, ...(target.sub ? { actor: { sub: target.sub, iss: oidc.settings.issuer.href } } : {}) });
    return reply.code(200).send();
  });

  app.get('/_roomguard/logged-out', async (request, reply) => ctx.page(request, reply, (frame) => signedOutPage(frame)));

  // The room policy's notice, acknowledged once per session, room and policy version.
  app.get('/_roomguard/notice', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const session = await ctx.loadSession(request);
    const returnTo = safeReturnTo(query.returnTo ?? '/', publicUrl);
    if (!returnTo) throw new RoomguardError('RG_RETURN_TO_INVALID');
    if (!session) return reply.redirect(ctx.loginHref(returnTo), 302);
    const room = typeof query.room === 'string' ? canonicalRoom(query.room) : undefined;
    const policy = room ? policyFor(room, ctx.deps.policies.current).policy : undefined;
    const lang = ctx.lang(request);
    const text = policy?.notice?.[lang] ?? policy?.notice?.en ?? policy?.notice?.de;
    if (!room || !policy || !text) return reply.redirect(returnTo, 302);
    return ctx.page(request, reply, (frame) => noticePage(frame, { room, text, csrfToken: ctx.csrfToken(session), returnTo }));
  });

  app.post('/_roomguard/notice', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const session = await ctx.loadSession(request);
    const returnTo = safeReturnTo(body.returnTo ?? '/', publicUrl);
    if (!returnTo) throw new RoomguardError('RG_RETURN_TO_INVALID');
    if (!session) return reply.redirect(ctx.loginHref(returnTo), 303);
    if (!ctx.csrfValid(request, session, body.csrf)) throw new RoomguardError('RG_CSRF');
    const room = typeof body.room === 'string' ? canonicalRoom(body.room) : undefined;
    const policy = room ? policyFor(room, ctx.deps.policies.current).policy : undefined;
    if (room && policy) {
      const seen = new Set(session.data.noticesSeen ?? []);
      seen.add(noticeKey(room, policy.sha256));
      await ctx.sessions.update(session, { noticesSeen: [...seen].slice(-100) });
    }
    return reply.redirect(returnTo, 303);
  });
}
