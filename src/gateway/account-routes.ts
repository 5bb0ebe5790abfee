// The account page: a person's second factors (rename, remove, add), recovery codes. Removing a factor
// or making new recovery codes needs a second factor confirmed within mfa.freshFactor.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RoomguardError } from '../errors.js';
import { userKey } from '../mfa/factors.js';
import type { LoadedSession } from '../session/sessions.js';
import { MFA_TEXT } from '../ui/i18n.js';
import { accountPage } from '../ui/mfa-pages.js';
import type { GatewayContext } from './context.js';
import { route, routeInput, type ValidRequest } from './route-input.js';
import { cleanName } from './mfa-step.js';

const ACCOUNT = '/_roomguard/account';

const CSRF = { type: 'string' } as const;
const FACTOR_ID = { type: 'string' } as const;
/** Which change the page confirms after a redirect back to it. */
const ACCOUNT_PAGE = routeInput({ querystring: { type: 'object', properties: { done: { type: 'string' } } } });
const PLAIN_FORM = routeInput({ body: { type: 'object', properties: { csrf: CSRF } } }, ['csrf']);
const FACTOR_FORM = routeInput({ body: { type: 'object', properties: { csrf: CSRF, id: FACTOR_ID } } }, ['csrf']);
const RENAME_FORM = routeInput({ body: { type: 'object', properties: { csrf: CSRF, id: FACTOR_ID, name: { type: 'string' } } } }, ['csrf']);

export function registerAccountRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  route(app, 'GET', ACCOUNT, ACCOUNT_PAGE, (request, reply) => showAccount(ctx, request, reply));
  route(app, 'POST', `${ACCOUNT}/rename`, RENAME_FORM, (request, reply) => renameFactor(ctx, request, reply));
  route(app, 'POST', `${ACCOUNT}/remove`, FACTOR_FORM, (request, reply) => removeFactor(ctx, request, reply));
  route(app, 'POST', `${ACCOUNT}/end-others`, PLAIN_FORM, (request, reply) => endOtherSessions(ctx, request, reply));
  route(app, 'POST', `${ACCOUNT}/recovery-codes`, PLAIN_FORM, (request, reply) => newRecoveryCodes(ctx, request, reply));
}

/** The session, or undefined after a redirect to sign in (and back to the account page). */
async function sessionOrLogin(ctx: GatewayContext, request: FastifyRequest, reply: FastifyReply): Promise<LoadedSession | undefined> {
  const session = await ctx.loadSession(request);
  if (!session) await reply.redirect(ctx.loginHref(ACCOUNT), request.method === 'GET' ? 302 : 303);
  return session;
}

/** The session of a form sent from the account page (its CSRF token checked), or undefined after a redirect. */
async function postedForm(ctx: GatewayContext, request: FastifyRequest, reply: FastifyReply, form: { csrf?: string }): Promise<LoadedSession | undefined> {
  const session = await sessionOrLogin(ctx, request, reply);
  if (session && !ctx.csrfValid(request, session, form.csrf)) throw new RoomguardError('RG_CSRF');
  return session;
}

/** True when the session's second factor is recent enough to change factors; otherwise sends it to confirm first. */
async function freshFactor(ctx: GatewayContext, reply: FastifyReply, session: LoadedSession): Promise<boolean> {
  if (ctx.factorIsFresh(session)) return true;
  await reply.redirect(`/_roomguard/mfa?${new URLSearchParams({ returnTo: ACCOUNT })}`, 303);
  return false;
}

async function showAccount(ctx: GatewayContext, request: ValidRequest<typeof ACCOUNT_PAGE>, reply: FastifyReply) {
  const session = await sessionOrLogin(ctx, request, reply);
  if (!session) return reply;
  const doc = await ctx.factors.load(userKey(session.data.identity.sub));
  const { done } = request.query;
  const t = MFA_TEXT[ctx.lang(request)];
  const message = done === 'saved' ? t.saved : done === 'removed' ? t.removed : done === 'ended' ? t.othersEnded : undefined;
  const sessions = (await ctx.sessions.listFor(session.data.identity.sub)).map((s) => ({
    current: s.hash === session.hash, createdAt: s.data.createdAt, lastSeenAt: s.data.lastSeenAt, ...(s.data.userAgent ? { userAgent: s.data.userAgent } : {}),
    ...(s.data.address ? { address: s.data.address } : {}),
  }));
  return ctx.page(request, reply, (frame) => accountPage(frame, {
    csrf: ctx.csrfToken(session), factors: doc.factors, recoveryLeft: doc.recovery?.hashes.length, sessions, ...(message ? { message } : {}),
  }));
}

async function renameFactor(ctx: GatewayContext, request: ValidRequest<typeof RENAME_FORM>, reply: FastifyReply) {
  const session = await postedForm(ctx, request, reply, request.body);
  if (!session) return reply;
  const user = userKey(session.data.identity.sub);
  const doc = await ctx.factors.load(user);
  const factor = doc.factors.find((f) => f.id === request.body.id);
  const name = cleanName(request.body.name, '');
  if (!factor || !name) throw new RoomguardError('RG_REQUEST_INVALID', 'unknown factor or empty name');
  factor.name = name;
  await ctx.factors.save(user, doc);
  return reply.redirect(`${ACCOUNT}?done=saved`, 303);
}

async function removeFactor(ctx: GatewayContext, request: ValidRequest<typeof FACTOR_FORM>, reply: FastifyReply) {
  const session = await postedForm(ctx, request, reply, request.body);
  if (!session || !(await freshFactor(ctx, reply, session))) return reply;
  const user = userKey(session.data.identity.sub);
  const doc = await ctx.factors.load(user);
  const factor = doc.factors.find((f) => f.id === request.body.id);
  if (!factor) throw new RoomguardError('RG_REQUEST_INVALID', 'unknown factor');
  doc.factors = doc.factors.filter((f) => f !== factor);
  await ctx.factors.save(user, doc);
  // After a factor change, every other session of the person ends (ASVS 7.5.2).
  const ended = await ctx.sessions.destroyAllFor(session.data.identity.sub, session.hash);
  ctx.auditQuietly(request, session, { type: 'mfa.removed', outcome: 'success', details: { method: factor.kind, factors: doc.factors.length, otherSessionsEnded: ended } });
  return reply.redirect(`${ACCOUNT}?done=removed`, 303);
}

async function endOtherSessions(ctx: GatewayContext, request: ValidRequest<typeof PLAIN_FORM>, reply: FastifyReply) {
  const session = await postedForm(ctx, request, reply, request.body);
  if (!session) return reply;
  const ended = await ctx.sessions.destroyAllFor(session.data.identity.sub, session.hash);
  ctx.auditQuietly(request, session, { type: 'session.revoked', outcome: 'success', details: { scope: 'own-other-sessions', count: ended } });
  return reply.redirect(`${ACCOUNT}?done=ended`, 303);
}

async function newRecoveryCodes(ctx: GatewayContext, request: ValidRequest<typeof PLAIN_FORM>, reply: FastifyReply) {
  const session = await postedForm(ctx, request, reply, request.body);
  if (!session || !(await freshFactor(ctx, reply, session))) return reply;
  const doc = await ctx.factors.load(userKey(session.data.identity.sub));
  const issued = await ctx.issueRecoveryCodes(session, doc, ACCOUNT);
  ctx.auditQuietly(request, session, { type: 'mfa.enrolled', outcome: 'success', details: { method: 'recovery-codes', count: issued.count } });
  return reply.redirect(issued.page, 303);
}
