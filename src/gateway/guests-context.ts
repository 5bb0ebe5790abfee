// What the guest link (guest-routes.ts) and the moderator's invitations page (invite-routes.ts) share: the
// invitations, the guest form's own CSRF cookie, which policy lets a room have guests, and reading the
// room from the raw path.
import type { FastifyRequest } from 'fastify';
import { RoomguardError } from '../errors.js';
import { policyFor } from '../policy/decide.js';
import type { Policy } from '../policy/types.js';
import { Invitations } from '../guests/invitations.js';
import type { GatewayContext } from './context.js';

export const GUEST_PREFIX = '/_roomguard/guest/';
export const ROOMS_PREFIX = '/_roomguard/rooms/';

export interface GuestsContext {
  ctx: GatewayContext;
  invitations: Invitations;
  /** Before a guest has a session the name form is protected by a double-submit cookie, sent only to guest pages. */
  formCookie: string;
  formCookieOptions: { path: string; httpOnly: boolean; secure: boolean; sameSite: 'lax' };
}

export function guestsContext(ctx: GatewayContext): GuestsContext {
  return {
    ctx,
    invitations: new Invitations(ctx.deps.store, ctx.now),
    formCookie: `${ctx.https ? '__Secure-' : ''}${ctx.config.session.cookieName}_guest`,
    formCookieOptions: { path: GUEST_PREFIX, httpOnly: true, secure: ctx.https, sameSite: 'lax' },
  };
}

/** The plain path of a request, from the raw URL (never a decoded form that could hide an encoded slash). */
export function rawPath(request: FastifyRequest): string {
  const url = request.raw.url ?? '/';
  const at = url.indexOf('?');
  return at === -1 ? url : url.slice(0, at);
}

/** The policy of a room that takes invited guests (one policy, without ties, with guests.invites on). */
export function guestPolicy(ctx: GatewayContext, room: string): Policy | undefined {
  const match = policyFor(room, ctx.deps.policies.current);
  return match.ties.length === 0 && match.policy?.guests?.invites ? match.policy : undefined;
}

/** The backend path that opens the room; refuses (and logs the misconfiguration) when there is none. */
export function pathOfRoom(ctx: GatewayContext, request: FastifyRequest, room: string): string {
  const path = ctx.deps.backend.pathOf(room);
  if (path === undefined) {
    request.log.error({ room }, 'no backend path opens this room; check backend.roomPath');
    throw new RoomguardError('RG_ROOM_INVALID', 'no backend path for the room');
  }
  return path;
}
