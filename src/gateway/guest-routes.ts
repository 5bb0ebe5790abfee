// Guests without an account: the invitation link (notice, display name, a short guest session that opens
// only its room), and the refusal of guest sessions on the pages that are for account holders (account,
// MFA, audit). The moderator's invitations page is in invite-routes.ts.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../errors.js';
import { noticeKey } from '../policy/decide.js';
import type { Policy } from '../policy/types.js';
import type { LoadedSession } from '../session/sessions.js';
import { isInvitationToken, type Invitation } from '../guests/invitations.js';
import { guestDisplayName, guestIdentity } from '../guests/guest-identity.js';
import { roomFromSegments } from '../guests/room-path.js';
import { GUEST_TEXT } from '../ui/i18n.js';
import { guestJoinPage } from '../ui/guest-pages.js';
import type { GatewayContext } from './context.js';
import { route, routeInput, type ValidRequest } from './route-input.js';
import { GUEST_PREFIX, guestPolicy, guestsContext, pathOfRoom, rawPath, type GuestsContext } from './guests-context.js';
import { registerInvitationRoutes } from './invite-routes.js';

/** Route patterns of pages for account holders: a guest session is refused there. */
const ACCOUNT_ONLY = /^\/_roomguard\/(account|mfa|audit)(\/|$)/;
/** The name form must be sent within this time of opening the link (its CSRF cookie lasts this long). */
const FORM_TTL_S = 3600;

type GuestCode = Extract<ErrorCode, `RG_GUEST_${string}`>;

/**
 * The invitation token and the form's CSRF token reach their checks in any shape: a refusal of either is
 * audited, so a crafted shape is refused and recorded like a wrong token, not turned away unrecorded.
 */
const AUDITED_TOKEN = { description: 'checked by the handler; any shape, refused and audited when wrong' } as const;
const GUEST_LINK = routeInput({ querystring: { type: 'object', properties: { invite: AUDITED_TOKEN } } });
const GUEST_FORM = routeInput({ body: { type: 'object', properties: { csrf: AUDITED_TOKEN, invite: AUDITED_TOKEN, name: { type: 'string' } } } });

export function registerGuestRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  const guests = guestsContext(ctx);
  // After the body has arrived and before the route's schema is checked: a guest session is refused
  // (and audited) on every account page, whatever it sent. The session read here is the one the page
  // acts on (loadSession's keep), so it must not be older than the request's last byte — a session
  // revoked while a client held its POST body back must not enrol or remove a factor.
  app.addHook('preValidation', (request, reply) => refuseGuestOnAccountPages(ctx, request, reply));
  route(app, 'GET', `${GUEST_PREFIX}*`, GUEST_LINK, (request, reply) => showGuestForm(guests, request, reply));
  route(app, 'POST', `${GUEST_PREFIX}*`, GUEST_FORM, (request, reply) => admitGuest(guests, request, reply));
  registerInvitationRoutes(app, guests);
}

async function refuseGuestOnAccountPages(ctx: GatewayContext, request: FastifyRequest, reply: FastifyReply) {
  if (!ACCOUNT_ONLY.test(request.routeOptions.url ?? '')) return;
  const session = await ctx.loadSession(request, { keep: true });
  if (!session?.data.identity.guest) return;
  ctx.auditQuietly(request, session, { type: 'room.decision', outcome: 'deny', reason: 'RG_GUEST_NOT_ALLOWED', role: 'guest', details: { page: (request.routeOptions.url ?? '').slice(0, 100) } });
  return ctx.fail(request, reply, 'RG_GUEST_NOT_ALLOWED');
}

/** Ends a guest request with a refusal that is also written to the audit log. */
function refuse({ ctx }: GuestsContext, request: FastifyRequest, reply: FastifyReply, session: LoadedSession | undefined, code: GuestCode | 'RG_CSRF', room: string, invitation?: Invitation) {
  ctx.auditQuietly(request, session, {
    type: 'guest.invite_refused', outcome: 'deny', reason: code, room, role: 'guest',
    ...(invitation ? { details: { invitation: invitation.id, invitationRoom: invitation.room } } : {}),
  });
  return ctx.fail(request, reply, code);
}

/**
 * The invitation was revoked (or ran out) after this guest's session was made but before it was handed
 * out: the session ends and the guest is refused. Whoever ended the session counts it, so the record
 * says which: `ended` here, or `already-ended` by the revocation (whose guestSessionsEnded counts it).
 */
async function refuseLate({ ctx }: GuestsContext, request: FastifyRequest, reply: FastifyReply, session: LoadedSession, code: GuestCode, room: string, invitation: Invitation) {
  const endedHere = await ctx.sessions.destroy(session);
  ctx.auditQuietly(request, session, {
    type: 'guest.invite_refused', outcome: 'deny', reason: code, room, role: 'guest',
    details: { invitation: invitation.id, invitationRoom: invitation.room, guestSession: endedHere ? 'ended' : 'already-ended' },
  });
  return ctx.fail(request, reply, code);
}

/** A signed-in person opened a guest link: they go in with their account (or sign out first). */
function signedIn({ ctx }: GuestsContext, request: FastifyRequest, reply: FastifyReply, room: string) {
  const path = ctx.deps.backend.pathOf(room) ?? '/';
  return ctx.fail(request, reply, 'RG_GUEST_SIGNED_IN', { action: { href: path, label: GUEST_TEXT[ctx.lang(request)].openRoom } });
}

const guestRoom = (request: FastifyRequest): string | undefined => roomFromSegments(rawPath(request).slice(GUEST_PREFIX.length).split('/'));

/** The invitation link: the name form (and the room's notice) for a valid invitation, else an audited refusal. */
async function showGuestForm(guests: GuestsContext, request: ValidRequest<typeof GUEST_LINK>, reply: FastifyReply) {
  const { ctx, invitations } = guests;
  const room = guestRoom(request);
  if (!room) return ctx.fail(request, reply, 'RG_ROOM_INVALID');
  const token = request.query.invite;
  const existing = await ctx.loadSession(request);
  if (existing && !existing.data.identity.guest) return signedIn(guests, request, reply, room);
  if (!isInvitationToken(token)) return refuse(guests, request, reply, existing, 'RG_GUEST_INVITE_UNKNOWN', room);
  const policy = guestPolicy(ctx, room);
  if (!policy) return refuse(guests, request, reply, existing, 'RG_GUEST_INVITES_OFF', room);
  const check = await invitations.check(token, room);
  if (!check.ok) return refuse(guests, request, reply, existing, check.code, room, check.invitation);
  const csrf = randomBytes(32).toString('base64url');
  reply.setCookie(guests.formCookie, csrf, { ...guests.formCookieOptions, maxAge: FORM_TTL_S });
  // The URL holds the invitation token: it must not leak to any other site or cache.
  reply.header('cache-control', 'no-store');
  return ctx.page(request, reply, (frame) => {
    reply.header('referrer-policy', 'no-referrer');
    const notice = policy.notice?.[frame.lang] ?? policy.notice?.en ?? policy.notice?.de;
    return guestJoinPage(frame, {
      room, action: rawPath(request), token, csrf, expiresAt: check.invitation.expiresAt, requireName: policy.guests!.requireName, lobby: policy.guests!.lobby,
      ...(notice ? { notice } : {}),
    });
  });
}

/** The name form: spends one use of the invitation and hands out a guest session for its room alone. */
async function admitGuest(guests: GuestsContext, request: ValidRequest<typeof GUEST_FORM>, reply: FastifyReply) {
  const { ctx, invitations } = guests;
  const room = guestRoom(request);
  if (!room) return ctx.fail(request, reply, 'RG_ROOM_INVALID');
  const form = request.body;
  const existing = await ctx.loadSession(request);
  if (!formCsrfValid(guests, request, form.csrf)) return refuse(guests, request, reply, existing, 'RG_CSRF', room);
  if (existing && !existing.data.identity.guest) return signedIn(guests, request, reply, room);
  const token = form.invite;
  if (!isInvitationToken(token)) return refuse(guests, request, reply, existing, 'RG_GUEST_INVITE_UNKNOWN', room);
  const policy = guestPolicy(ctx, room);
  if (!policy) return refuse(guests, request, reply, existing, 'RG_GUEST_INVITES_OFF', room);
  const lang = ctx.lang(request);
  const name = guestDisplayName(form.name, policy.guests!.requireName, GUEST_TEXT[lang].guestName);
  // A missing name costs no use of the invitation: the form comes back with the problem named.
  if (name === undefined) return ctx.fail(request, reply, 'RG_GUEST_NAME_INVALID', { action: { href: `${rawPath(request)}?${new URLSearchParams({ invite: token })}`, label: GUEST_TEXT[lang].joinTitle } });
  const roomPath = pathOfRoom(ctx, request, room);
  const at = ctx.now();
  const redemption = await invitations.redeem(token, room, { at, name });
  if (!redemption.ok) return refuse(guests, request, reply, existing, redemption.code, room, redemption.invitation);
  if (existing) await ctx.sessions.destroy(existing);
  const session = await startGuestSession(guests, request, reply, { room, token, name, policy, invitation: redemption.invitation, use: redemption.use, at });
  if (!session) return reply;
  ctx.setSessionCookie(reply, session);
  reply.clearCookie(guests.formCookie, guests.formCookieOptions);
  reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
  return reply.redirect(roomPath, 303);
}

interface Redeemed {
  room: string;
  token: string;
  name: string;
  policy: Policy;
  invitation: Invitation;
  /** Which use of the invitation this is (1 for the first). */
  use: number;
  /** When it was redeemed. */
  at: number;
}

/**
 * The guest's session, linked to its invitation and audited; undefined after a refusal (the invitation
 * was revoked meanwhile). Without an audit record of the invitation that let them in there is no guest.
 */
async function startGuestSession(guests: GuestsContext, request: FastifyRequest, reply: FastifyReply, redeemed: Redeemed): Promise<LoadedSession | undefined> {
  const { ctx, invitations } = guests;
  const { room, token, name, policy, invitation, use, at: now } = redeemed;
  const limits = ctx.config.guests;
  const grant = { room, invitation: invitation.id, expiresAt: Math.min(now + limits.absoluteTimeout, invitation.expiresAt) };
  let session = await ctx.sessions.create(guestIdentity(name, grant, ctx.publicUrl.origin), {
    // An ordinary session (same cookie, same store) with short lifetimes. It ends with its grant (at the
    // invitation's expiry, if sooner), so an open meeting connection closes then like that of any session
    // that times out, not when guests.absoluteTimeout would end it hours later.
    limits: { idleMs: limits.idleTimeout, absoluteMs: Math.max(1, grant.expiresAt - now) },
    ...(request.headers['user-agent'] ? { userAgent: String(request.headers['user-agent']).slice(0, 200) } : {}),
  });
  // The notice was on the name form: the room does not ask again.
  if (policy.notice) session = await ctx.sessions.update(session, { noticesSeen: [noticeKey(room, policy.sha256)] });
  // Linked before its cookie exists, then the invitation read again: a revocation at any moment up to
  // here either finds this session or is seen here (the argument is at linkSession()).
  const linked = await invitations.linkSession(token, room, session.hash, limits.absoluteTimeout);
  if (!linked.ok) {
    await refuseLate(guests, request, reply, session, linked.code, room, linked.invitation ?? invitation);
    return undefined;
  }
  try {
    await ctx.audit(request, session, {
      type: 'guest.invite_used', outcome: 'success', room, role: 'guest',
      details: { invitation: invitation.id, use, usesLeft: invitation.maxUses - use, guestUntil: new Date(grant.expiresAt).toISOString() },
    });
  } catch (err) {
    // No guest without a record of the invitation that let them in (the use stays spent).
    await ctx.sessions.destroy(session);
    throw err;
  }
  return session;
}

function formCsrfValid({ ctx, formCookie }: GuestsContext, request: FastifyRequest, given: unknown): boolean {
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== ctx.publicUrl.origin) return false;
  const expected = request.cookies[formCookie];
  if (typeof given !== 'string' || !expected) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
