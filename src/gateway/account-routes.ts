// The account page: a person's second factors (rename, remove, add), recovery codes. Removing a factor
// or making new recovery codes needs a second factor confirmed within mfa.freshFactor.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RoomguardError } from '../errors.js';
import { userKey } from '../mfa/factors.js';
import type { LoadedSession } from '../session/sessions.js';
import { MFA_TEXT } from '../ui/i18n.js';
import { accountPage } from '../ui/mfa-pages.js';
import type { GatewayContext } from './context.js';

const ACCOUNT = '/_roomguard/account';

export function registerAccountRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  async function sessionOrLogin(request: FastifyRequest, reply: FastifyReply): Promise<LoadedSession | undefined> {
    const session = await ctx.loadSession(request);
    if (!session) {
      await reply.redirect(ctx.loginHref(ACCOUNT), request.method === 'GET' ? 302 : 303);
      return undefined;
    }
    if (request.method !== 'GET' && !ctx.csrfValid(request, session, (request.body as Record<string, unknown> | undefined)?.csrf)) throw new RoomguardError('RG_CSRF');
    return session;
  }

  /** True when the session's second factor is recent enough to change factors; otherwise sends it to confirm first. */
  async function freshFactor(reply: FastifyReply, session: LoadedSession): Promise<boolean> {
    if (ctx.factorIsFresh(session)) return true;
    await reply.redirect(`/_roomguard/mfa?${new URLSearchParams({ returnTo: ACCOUNT })}`, 303);
    return false;
  }

  app.get(ACCOUNT, async (request, reply) => {
    const session = await sessionOrLogin(request, reply);
    if (!session) return reply;
    const doc = await ctx.factors.load(userKey(session.data.identity.sub));
    const done = (request.query as Record<string, unknown>).done;
    const t = MFA_TEXT[ctx.lang(request)];
    const message = done === 'saved' ? t.saved : done === 'removed' ? t.removed : done === 'ended' ? t.othersEnded : undefined;
    const sessions = (await ctx.sessions.listFor(session.data.identity.sub)).map((s) => ({
      current: s.hash === session.hash, createdAt: s.data.createdAt, lastSeenAt: s.data.lastSeenAt, ...(s.data.userAgent ? { userAgent: s.data.userAgent } : {}),
    }));
    return ctx.page(request, reply, (frame) => accountPage(frame, {
      csrf: ctx.csrfToken(session), factors: doc.factors, recoveryLeft: doc.recovery?.hashes.length, sessions, ...(message ? { message } : {}),
    }));
  });

  app.post(`${ACCOUNT}/rename`, async (request, reply) => {
    const session = await sessionOrLogin(request, reply);
    if (!session) return reply;
    const body = request.body as Record<string, unknown>;
    const user = userKey(session.data.identity.sub);
    const doc = await ctx.factors.load(user);
    const factor = doc.factors.find((f) => f.id === body.id);
    const name = typeof body.name === 'string' ? body.name.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 60) : '';
    if (!factor || !name) throw new RoomguardError('RG_REQUEST_INVALID', 'unknown factor or empty name');
    factor.name = name;
    await ctx.factors.save(user, doc);
    return reply.redirect(`${ACCOUNT}?done=saved`, 303);
  });

  app.post(`${ACCOUNT}/remove`, async (request, reply) => {
    const session = await sessionOrLogin(request, reply);
    if (!session || !(await freshFactor(reply, session))) return reply;
    const body = request.body as Record<string, unknown>;
    const user = userKey(session.data.identity.sub);
    const doc = await ctx.factors.load(user);
    const factor = doc.factors.find((f) => f.id === body.id);
    if (!factor) throw new RoomguardError('RG_REQUEST_INVALID', 'unknown factor');
    doc.factors = doc.factors.filter((f) => f !== factor);
    await ctx.factors.save(user, doc);
    // After a factor change, every other session of the person ends (ASVS 7.5.2).
    const ended = await ctx.sessions.destroyAllFor(session.data.identity.sub, session.hash);
    ctx.auditQuietly(request, session, { type: 'mfa.removed', outcome: 'success', details: { method: factor.kind, factors: doc.factors.length, otherSessionsEnded: ended } });
    return reply.redirect(`${ACCOUNT}?done=removed`, 303);
  });

  app.post(`${ACCOUNT}/end-others`, async (request, reply) => {
    const session = await sessionOrLogin(request, reply);
    if (!session) return reply;
    const ended = await ctx.sessions.destroyAllFor(session.data.identity.sub, session.hash);
    ctx.auditQuietly(request, session, { type: 'session.revoked', outcome: 'success', details: { scope: 'own-other-sessions', count: ended } });
    return reply.redirect(`${ACCOUNT}?done=ended`, 303);
  });

  app.post(`${ACCOUNT}/recovery-codes`, async (request, reply) => {
    const session = await sessionOrLogin(request, reply);
    if (!session || !(await freshFactor(reply, session))) return reply;
    const doc = await ctx.factors.load(userKey(session.data.identity.sub));
    const issued = await ctx.issueRecoveryCodes(session, doc, ACCOUNT);
    ctx.auditQuietly(request, session, { type: 'mfa.enrolled', outcome: 'success', details: { method: 'recovery-codes', count: issued.count } });
    return reply.redirect(issued.page, 303);
  });
}
