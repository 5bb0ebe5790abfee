// The moderator's invitations page /_roomguard/rooms/<room>/invites: create invitation links within the
// room policy's limits, list them, revoke one (which ends the guest sessions it let in). Only a moderator
// of the room (per its policy, with the second factor the room asks for) gets here.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RoomguardError } from '../errors.js';
import type { Policy } from '../policy/types.js';
import { parseDuration } from '../config/duration.js';
import type { LoadedSession } from '../session/sessions.js';
import { roomFromSegments } from '../guests/room-path.js';
import { userKey } from '../identity/user-key.js';
import { GUEST_TEXT } from '../ui/i18n.js';
import { invitesPage } from '../ui/guest-pages.js';
import { route, routeInput, type ValidRequest } from './route-input.js';
import { changeRoomControls, roomModerator, showRoomControls } from './room-routes.js';
import { GUEST_PREFIX, ROOMS_PREFIX, guestPolicy, pathOfRoom, rawPath, type GuestsContext } from './guests-context.js';

const NOTE_MAX = 200;
const MIN_INVITATION_TTL_MS = 5 * 60_000;

const TEXT = { type: 'string' } as const;
/** After a revocation the page says so (`done=revoked`). */
const INVITES_PAGE = routeInput({ querystring: { type: 'object', properties: { done: TEXT } } });
/**
 * Creating (ttl as a duration, uses, note) or revoking (id) an invitation; ttl and uses are checked against
 * the policy. The room page's forms (room-routes.ts) share the path prefix and so this schema: user, everyone.
 */
const INVITES_FORM = routeInput({ body: { type: 'object', properties: { csrf: TEXT, id: TEXT, ttl: TEXT, uses: TEXT, note: TEXT, user: TEXT, everyone: TEXT } } }, ['csrf']);

export function registerInvitationRoutes(app: FastifyInstance, guests: GuestsContext): void {
  route(app, 'GET', `${ROOMS_PREFIX}*`, INVITES_PAGE, (request, reply) => showInvitations(guests, request, reply));
  route(app, 'POST', `${ROOMS_PREFIX}*`, INVITES_FORM, (request, reply) => changeInvitations(guests, request, reply));
}

/** The room and action of a /_roomguard/rooms/<room>/invites[/revoke] path. */
function roomsTarget(request: FastifyRequest): { room: string; revoke: boolean } | undefined {
  const segments = rawPath(request).slice(ROOMS_PREFIX.length).split('/');
  const revoke = segments.at(-1) === 'revoke';
  if (revoke) segments.pop();
  if (segments.pop() !== 'invites') return undefined;
  const room = roomFromSegments(segments);
  return room ? { room, revoke } : undefined;
}

interface Moderator {
  session: LoadedSession;
  policy: Policy;
}

/** A moderator of `room` (room-routes.ts), for a room whose policy invites guests. */
async function moderator({ ctx }: GuestsContext, request: FastifyRequest, reply: FastifyReply, room: string, page: string, csrf?: string): Promise<Moderator | undefined> {
  const session = await roomModerator(ctx, request, reply, room, page, csrf, { code: 'RG_GUEST_NOT_MODERATOR', page: 'invites' });
  if (!session) return undefined;
  const policy = guestPolicy(ctx, room);
  if (!policy) throw new RoomguardError('RG_GUEST_INVITES_OFF');
  return { session, policy };
}

interface InvitesView extends Moderator {
  room: string;
  page: string;
  created?: { link: string };
  message?: string;
  error?: string;
}

async function renderInvites({ ctx, invitations }: GuestsContext, request: FastifyRequest, reply: FastifyReply, view: InvitesView, status = 200) {
  const list = await invitations.list(view.room);
  const roomPath = pathOfRoom(ctx, request, view.room);
  reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
  return ctx.page(request, reply, (frame) => invitesPage(frame, {
    room: view.room, action: view.page, roomPath, csrf: ctx.csrfToken(view.session), invitations: list,
    limits: { ttl: view.policy.guests!.ttl, maxUses: view.policy.guests!.maxUses }, recentSince: ctx.now() - ctx.config.guests.absoluteTimeout,
    ...(view.created ? { created: view.created } : {}), ...(view.message ? { message: view.message } : {}), ...(view.error ? { error: view.error } : {}),
  }), status);
}

async function showInvitations(guests: GuestsContext, request: ValidRequest<typeof INVITES_PAGE>, reply: FastifyReply) {
  const target = roomsTarget(request);
  // /_roomguard/rooms/<room> itself is the room page (lock, evict).
  if (!target) return showRoomControls(guests.ctx, request, reply, request.query.done === '1');
  if (target.revoke) return guests.ctx.fail(request, reply, 'RG_NOT_FOUND');
  const page = `${ROOMS_PREFIX}${target.room}/invites`;
  const allowed = await moderator(guests, request, reply, target.room, page);
  if (!allowed) return reply;
  const revoked = request.query.done === 'revoked' ? { message: GUEST_TEXT[guests.ctx.lang(request)].revoked } : {};
  return renderInvites(guests, request, reply, { room: target.room, page, ...allowed, ...revoked });
}

async function changeInvitations(guests: GuestsContext, request: ValidRequest<typeof INVITES_FORM>, reply: FastifyReply) {
  const target = roomsTarget(request);
  if (!target) return changeRoomControls(guests.ctx, request, reply, request.body);
  const page = `${ROOMS_PREFIX}${target.room}/invites`;
  const allowed = await moderator(guests, request, reply, target.room, page, request.body.csrf);
  if (!allowed) return reply;
  const view = { room: target.room, page, ...allowed };
  return target.revoke ? revokeInvitation(guests, request, reply, view) : createInvitation(guests, request, reply, view);
}

/** Revokes one invitation of the room and ends the guest sessions it let in. */
async function revokeInvitation(guests: GuestsContext, request: ValidRequest<typeof INVITES_FORM>, reply: FastifyReply, { room, page, session }: InvitesView) {
  const { ctx, invitations } = guests;
  const id = request.body.id?.toLowerCase() ?? '';
  const revoked = await invitations.revoke(room, id, moderatorName(session), userKey(session.data.identity.sub));
  if (!revoked) return ctx.fail(request, reply, 'RG_GUEST_INVITE_UNKNOWN');
  const ended = await endGuestSessions(guests, revoked.sessions);
  ctx.auditQuietly(request, session, { type: 'guest.invite_revoked', outcome: 'success', room, details: { invitation: revoked.invitation.id, guestSessionsEnded: ended } });
  return reply.redirect(`${page}?done=revoked`, 303);
}

/** Creates an invitation within the policy's limits; the link is shown once, on the page that answers. */
async function createInvitation(guests: GuestsContext, request: ValidRequest<typeof INVITES_FORM>, reply: FastifyReply, view: InvitesView) {
  const { ctx, invitations } = guests;
  const { room, session, policy } = view;
  const form = request.body;
  const t = GUEST_TEXT[ctx.lang(request)];
  const limits = policy.guests!;
  const ttl = form.ttl === undefined ? undefined : parseDuration(form.ttl);
  const uses = form.uses !== undefined && /^\d{1,4}$/.test(form.uses.trim()) ? Number(form.uses.trim()) : undefined;
  const note = form.note === undefined ? '' : form.note.replace(/[\p{Cc}\p{Cf}]/gu, '').trim().slice(0, NOTE_MAX);
  if (ttl === undefined || ttl < MIN_INVITATION_TTL_MS || ttl > limits.ttl) return renderInvites(guests, request, reply, { ...view, error: t.badTtl }, 422);
  if (uses === undefined || uses < 1 || uses > limits.maxUses) return renderInvites(guests, request, reply, { ...view, error: t.badUses }, 422);
  const { token, invitation } = await invitations.create({ room, ttlMs: ttl, maxUses: uses, note, createdBy: moderatorName(session), creator: userKey(session.data.identity.sub) });
  try {
    await ctx.audit(request, session, {
      type: 'guest.invite_created', outcome: 'success', room,
      details: { invitation: invitation.id, expires: new Date(invitation.expiresAt).toISOString(), maxUses: uses, ...(note ? { note } : {}) },
    });
  } catch (err) {
    // An invitation nobody can account for must not stay usable.
    await invitations.revoke(room, invitation.id, 'audit-unavailable');
    throw err;
  }
  const link = `${ctx.publicUrl.origin}${GUEST_PREFIX}${room}?${new URLSearchParams({ invite: token })}`;
  return renderInvites(guests, request, reply, { ...view, created: { link } });
}

const moderatorName = (session: LoadedSession): string => session.data.identity.name ?? session.data.identity.email ?? session.data.identity.sub;

async function endGuestSessions({ ctx }: GuestsContext, hashes: string[]): Promise<number> {
  let ended = 0;
  for (const hash of hashes) {
    const found = await ctx.sessions.byHash(hash);
    // Counted only when this call ended it: a guest refused late may have ended its own session first.
    if (found?.data.identity.guest && (await ctx.sessions.destroy(found))) ended++;
  }
  return ended;
}
