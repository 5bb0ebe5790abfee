// The room policy's notice: shown before entering a room whose policy has one, acknowledged once per
// session, room and policy version (the key decide() looks for in the session's noticesSeen).
import type { FastifyInstance, FastifyReply } from 'fastify';
import { RoomguardError } from '../errors.js';
import { safeReturnTo } from '../identity/return-to.js';
import { noticePage } from '../ui/pages.js';
import { canonicalRoom } from '../backends/room-name.js';
import { noticeKey, policyFor } from '../policy/decide.js';
import type { GatewayContext } from './context.js';
import { route, routeInput, type ValidRequest } from './route-input.js';

/** Acknowledgements kept per session (the oldest drop out). */
const MAX_NOTICES_SEEN = 100;

const NOTICE_FIELDS = { returnTo: { type: 'string', default: '/' }, room: { type: 'string' } } as const;
const NOTICE_PAGE = routeInput({ querystring: { type: 'object', properties: NOTICE_FIELDS } }, ['returnTo', 'room']);
const NOTICE_ACKNOWLEDGED = routeInput({ body: { type: 'object', properties: { returnTo: NOTICE_FIELDS.returnTo, csrf: { type: 'string' }, room: NOTICE_FIELDS.room } } }, ['returnTo', 'csrf', 'room']);

export function registerNoticeRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  route(app, 'GET', '/_roomguard/notice', NOTICE_PAGE, (request, reply) => showNotice(ctx, request, reply));
  route(app, 'POST', '/_roomguard/notice', NOTICE_ACKNOWLEDGED, (request, reply) => acknowledgeNotice(ctx, request, reply));
}

async function showNotice(ctx: GatewayContext, request: ValidRequest<typeof NOTICE_PAGE>, reply: FastifyReply) {
  const session = await ctx.loadSession(request);
  const returnTo = safeReturnTo(request.query.returnTo, ctx.publicUrl);
  if (!returnTo) throw new RoomguardError('RG_RETURN_TO_INVALID');
  if (!session) return reply.redirect(ctx.loginHref(returnTo), 302);
  const room = request.query.room === undefined ? undefined : canonicalRoom(request.query.room);
  const policy = room ? policyFor(room, ctx.deps.policies.current).policy : undefined;
  const lang = ctx.lang(request);
  const text = policy?.notice?.[lang] ?? policy?.notice?.en ?? policy?.notice?.de;
  if (!room || !policy || !text) return reply.redirect(returnTo, 302);
  return ctx.page(request, reply, (frame) => noticePage(frame, { room, text, csrfToken: ctx.csrfToken(session), returnTo }));
}

async function acknowledgeNotice(ctx: GatewayContext, request: ValidRequest<typeof NOTICE_ACKNOWLEDGED>, reply: FastifyReply) {
  const { body } = request;
  const session = await ctx.loadSession(request);
  const returnTo = safeReturnTo(body.returnTo, ctx.publicUrl);
  if (!returnTo) throw new RoomguardError('RG_RETURN_TO_INVALID');
  if (!session) return reply.redirect(ctx.loginHref(returnTo), 303);
  if (!ctx.csrfValid(request, session, body.csrf)) throw new RoomguardError('RG_CSRF');
  const room = body.room === undefined ? undefined : canonicalRoom(body.room);
  const policy = room ? policyFor(room, ctx.deps.policies.current).policy : undefined;
  if (room && policy) {
    const seen = new Set(session.data.noticesSeen ?? []);
    seen.add(noticeKey(room, policy.sha256));
    await ctx.sessions.update(session, { noticesSeen: [...seen].slice(-MAX_NOTICES_SEEN) });
  }
  return reply.redirect(returnTo, 303);
}
