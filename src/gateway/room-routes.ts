// The moderator's room page /_roomguard/rooms/<room>: lock or unlock the room, remove everyone, or
// remove one person who joined, on every instance at once (src/rooms). Only a moderator of the room
// (per its policy, with the second factor the room asks for) gets here; every step is audited with them.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RoomguardError } from '../errors.js';
import { decide } from '../policy/decide.js';
import type { LoadedSession } from '../session/sessions.js';
import { roomFromSegments } from '../guests/room-path.js';
import { evictFromRoom, lockRoom, unlockRoom, type RoomAction, type RoomActionResult } from '../rooms/actions.js';
import { ROOM_TEXT } from '../ui/i18n.js';
import { roomControlsPage } from '../ui/room-pages.js';
import type { GatewayContext } from './context.js';
import { ROOMS_PREFIX, guestPolicy, rawPath } from './guests-context.js';

const ACTIONS: readonly RoomAction[] = ['lock', 'unlock', 'evict'];
const ROOM_PAGE: ModeratorRefusal = { code: 'RG_ROOM_NOT_MODERATOR', page: 'room controls' };

/** The room (and, for a POST, the action) of a /_roomguard/rooms/<room>[/<action>] path. */
export function roomControlsTarget(request: FastifyRequest): { room: string; action?: RoomAction } | undefined {
  const segments = rawPath(request).slice(ROOMS_PREFIX.length).split('/');
  let action: RoomAction | undefined;
  if (request.method === 'POST') {
    const last = segments.pop();
    if (!(ACTIONS as readonly (string | undefined)[]).includes(last)) return undefined;
    action = last as RoomAction;
  }
  const room = roomFromSegments(segments);
  return room ? { room, ...(action ? { action } : {}) } : undefined;
}

/** How a person who is not a moderator of the room is refused, per page. */
export interface ModeratorRefusal {
  code: 'RG_ROOM_NOT_MODERATOR' | 'RG_GUEST_NOT_MODERATOR';
  page: string;
}

/**
 * The session of a moderator of `room` by its policy alone (a lock or eviction must not shut its
 * moderators out of the page that lifts it), with the second factor the room asks for, or undefined
 * after a redirect (to log in, to the second factor); throws the refusal otherwise. POSTs must carry the
 * session's CSRF token. Shared by the room page and the invitations page.
 */
export async function roomModerator(ctx: GatewayContext, request: FastifyRequest, reply: FastifyReply, room: string, page: string, csrf: string | undefined, refusal: ModeratorRefusal): Promise<LoadedSession | undefined> {
  const session = await ctx.loadSession(request);
  const post = request.method !== 'GET';
  if (!session) {
    if (post) throw new RoomguardError('RG_LOGIN_REQUIRED');
    await reply.redirect(ctx.loginHref(page), 302);
    return undefined;
  }
  if (post && !ctx.csrfValid(request, session, csrf)) throw new RoomguardError('RG_CSRF');
  if (session.data.identity.guest) throw new RoomguardError('RG_GUEST_NOT_ALLOWED');
  const decision = decide({ identity: session.data.identity, ...(session.data.mfa ? { mfa: session.data.mfa } : {}) }, room, ctx.deps.policies.current, ctx.now());
  if (decision.outcome === 'mfa') {
    if (post) throw new RoomguardError('RG_MFA_REQUIRED');
    await reply.redirect(`/_roomguard/mfa?${new URLSearchParams({ returnTo: page, room })}`, 302);
    return undefined;
  }
  // Outside a time-boxed room's times the page is closed too: decide() stops there before the second factor.
  if (decision.outcome !== 'allow' || decision.role !== 'moderator') {
    ctx.auditQuietly(request, session, { type: 'room.decision', outcome: 'deny', reason: refusal.code, room, details: { page: refusal.page } });
    throw new RoomguardError(refusal.code);
  }
  return session;
}

export async function showRoomControls(ctx: GatewayContext, request: FastifyRequest, reply: FastifyReply, done: boolean): Promise<FastifyReply> {
  const target = roomControlsTarget(request);
  if (!target) return ctx.fail(request, reply, 'RG_NOT_FOUND');
  const session = await roomModerator(ctx, request, reply, target.room, `${ROOMS_PREFIX}${target.room}`, undefined, ROOM_PAGE);
  if (!session) return reply;
  const { room } = target;
  const [state, people] = await Promise.all([ctx.rooms.state(room), ctx.rooms.people(room)]);
  reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
  return ctx.page(request, reply, (frame) => roomControlsPage(frame, {
    room, action: `${ROOMS_PREFIX}${room}`, csrf: ctx.csrfToken(session), people: people.map((p) => ({ ...p, evicted: state.evicted.has(p.sub) })),
    ...(state.lock ? { lock: state.lock } : {}), ...(guestPolicy(ctx, room) ? { invitesHref: `${ROOMS_PREFIX}${room}/invites` } : {}),
    ...(done ? { message: ROOM_TEXT[frame.lang].done } : {}),
  }));
}

export async function changeRoomControls(ctx: GatewayContext, request: FastifyRequest, reply: FastifyReply, form: { csrf?: string | undefined; user?: string | undefined; everyone?: string | undefined }): Promise<FastifyReply> {
  const target = roomControlsTarget(request);
  if (!target?.action) return ctx.fail(request, reply, 'RG_NOT_FOUND');
  const session = await roomModerator(ctx, request, reply, target.room, `${ROOMS_PREFIX}${target.room}`, form.csrf, ROOM_PAGE);
  if (!session) return reply;
  const { room, action } = target;
  const identity = session.data.identity;
  const by = identity.name ?? identity.email ?? identity.sub;
  let result: RoomActionResult;
  if (action === 'lock') result = await lockRoom(ctx.rooms, room, by);
  else if (action === 'unlock') result = await unlockRoom(ctx.rooms, room, by);
  else {
    const user = form.user?.trim();
    if (form.everyone !== '1' && !user) throw new RoomguardError('RG_REQUEST_INVALID', 'evict needs a person or everyone');
    result = await evictFromRoom(ctx.rooms, ctx.deps.backend, room, form.everyone === '1' ? 'everyone' : { sub: user!.slice(0, 256) }, by);
  }
  await ctx.audit(request, session, { type: result.type, outcome: 'success', room, details: { ...result.details, via: 'room page' } });
  return reply.redirect(`${ROOMS_PREFIX}${room}?done=1`, 303);
}
