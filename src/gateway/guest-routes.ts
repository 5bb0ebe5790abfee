// Guests without an account: the invitation link (notice, display name, a short guest session that opens
// only its room), the moderator's invitations page /_roomguard/rooms/<room>/invites (create, list, revoke),
// and the refusal of guest sessions on the pages that are for account holders (account, MFA, audit).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RoomguardError, type ErrorCode } from '../errors.js';
import { decide, noticeKey, policyFor } from '../policy/decide.js';
import type { Policy } from '../policy/types.js';
import { parseDuration } from '../config/duration.js';
import type { LoadedSession } from '../session/sessions.js';
import { Invitations, isInvitationToken, type Invitation } from '../guests/invitations.js';
import { guestDisplayName, guestIdentity } from '../guests/guest-identity.js';
import { roomFromSegments } from '../guests/room-path.js';
import { GUEST_TEXT } from '../ui/i18n.js';
import { guestJoinPage, invitesPage } from '../ui/guest-pages.js';
import type { GatewayContext } from './context.js';

const GUEST_PREFIX = '/_roomguard/guest/';
const ROOMS_PREFIX = '/_roomguard/rooms/';
/** Route patterns of pages for account holders: a guest session is refused there. */
const ACCOUNT_ONLY = /^\/_roomguard\/(account|mfa|audit)(\/|$)/;
const NOTE_MAX = 200;
const MIN_INVITATION_TTL_MS = 5 * 60_000;
/** The name form must be sent within this time of opening the link (its CSRF cookie lasts this long). */
const FORM_TTL_S = 3600;

type GuestCode = Extract<ErrorCode, `RG_GUEST_${string}`>;

/** The plain path of a request, from the raw URL (never a decoded form that could hide an encoded slash). */
function rawPath(request: FastifyRequest): string {
  const url = request.raw.url ?? '/';
  const at = url.indexOf('?');
  return at === -1 ? url : url.slice(0, at);
}

function body(request: FastifyRequest): Record<string, unknown> {
  const b = request.body;
  return typeof b === 'object' && b !== null ? (b as Record<string, unknown>) : {};
}

export function registerGuestRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  const invitations = new Invitations(ctx.deps.store, ctx.now);
  const limits = ctx.config.guests;
  // Before a guest has a session the name form is protected by a double-submit cookie, sent only to guest pages.
  const formCookie = `${ctx.https ? '__Secure-' : ''}${ctx.config.session.cookieName}_guest`;
  const formCookieOptions = { path: GUEST_PREFIX, httpOnly: true, secure: ctx.https, sameSite: 'lax' as const };

  // After the body has arrived (preHandler, not onRequest): the session read here is the one the page
  // acts on (loadSession's keep), so it must not be older than the request's last byte — a session
  // revoked while a client held its POST body back must not enrol or remove a factor.
  app.addHook('preHandler', async (request, reply) => {
    if (!ACCOUNT_ONLY.test(request.routeOptions.url ?? '')) return;
    const session = await ctx.loadSession(request, { keep: true });
    if (!session?.data.identity.guest) return;
    ctx.auditQuietly(request, session, { type: 'room.decision', outcome: 'deny', reason: 'RG_GUEST_NOT_ALLOWED', role: 'guest', details: { page: (request.routeOptions.url ?? '').slice(0, 100) } });
    return ctx.fail(request, reply, 'RG_GUEST_NOT_ALLOWED');
  });

  const guestPolicy = (room: string): Policy | undefined => {
    const match = policyFor(room, ctx.deps.policies.current);
    return match.ties.length === 0 && match.policy?.guests?.invites ? match.policy : undefined;
  };

  const pathOfRoom = (request: FastifyRequest, room: string): string => {
    const path = ctx.deps.backend.pathOf(room);
    if (path === undefined) {
      request.log.error({ room }, 'no backend path opens this room; check backend.roomPath');
      throw new RoomguardError('RG_ROOM_INVALID', 'no backend path for the room');
    }
    return path;
  };

  /** Ends a guest request with a refusal that is also written to the audit log. */
  function refuse(request: FastifyRequest, reply: FastifyReply, session: LoadedSession | undefined, code: GuestCode | 'RG_CSRF', room: string, invitation?: Invitation) {
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
  async function refuseLate(request: FastifyRequest, reply: FastifyReply, session: LoadedSession, code: GuestCode, room: string, invitation: Invitation) {
    const endedHere = await ctx.sessions.destroy(session);
    ctx.auditQuietly(request, session, {
      type: 'guest.invite_refused', outcome: 'deny', reason: code, room, role: 'guest',
      details: { invitation: invitation.id, invitationRoom: invitation.room, guestSession: endedHere ? 'ended' : 'already-ended' },
    });
    return ctx.fail(request, reply, code);
  }

  /** A signed-in person opened a guest link: they go in with their account (or sign out first). */
  function signedIn(request: FastifyRequest, reply: FastifyReply, room: string) {
    const path = ctx.deps.backend.pathOf(room) ?? '/';
    return ctx.fail(request, reply, 'RG_GUEST_SIGNED_IN', { action: { href: path, label: GUEST_TEXT[ctx.lang(request)].openRoom } });
  }

  const guestRoom = (request: FastifyRequest): string | undefined => {
    const rest = rawPath(request).slice(GUEST_PREFIX.length);
    return roomFromSegments(rest.split('/'));
  };

  app.get(`${GUEST_PREFIX}*`, async (request, reply) => {
    const room = guestRoom(request);
    if (!room) return ctx.fail(request, reply, 'RG_ROOM_INVALID');
    const token = (request.query as Record<string, unknown>).invite;
    const existing = await ctx.loadSession(request);
    if (existing && !existing.data.identity.guest) return signedIn(request, reply, room);
    if (!isInvitationToken(token)) return refuse(request, reply, existing, 'RG_GUEST_INVITE_UNKNOWN', room);
    const policy = guestPolicy(room);
    if (!policy) return refuse(request, reply, existing, 'RG_GUEST_INVITES_OFF', room);
    const check = await invitations.check(token, room);
    if (!check.ok) return refuse(request, reply, existing, check.code, room, check.invitation);
    const csrf = randomBytes(32).toString('base64url');
    reply.setCookie(formCookie, csrf, { ...formCookieOptions, maxAge: FORM_TTL_S });
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
  });

  app.post(`${GUEST_PREFIX}*`, async (request, reply) => {
    const room = guestRoom(request);
    if (!room) return ctx.fail(request, reply, 'RG_ROOM_INVALID');
    const form = body(request);
    const existing = await ctx.loadSession(request);
    if (!formCsrfValid(request, form.csrf)) return refuse(request, reply, existing, 'RG_CSRF', room);
    if (existing && !existing.data.identity.guest) return signedIn(request, reply, room);
    const token = form.invite;
    if (!isInvitationToken(token)) return refuse(request, reply, existing, 'RG_GUEST_INVITE_UNKNOWN', room);
    const policy = guestPolicy(room);
    if (!policy) return refuse(request, reply, existing, 'RG_GUEST_INVITES_OFF', room);
    const lang = ctx.lang(request);
    const name = guestDisplayName(form.name, policy.guests!.requireName, GUEST_TEXT[lang].guestName);
    // A missing name costs no use of the invitation: the form comes back with the problem named.
    if (name === undefined) return ctx.fail(request, reply, 'RG_GUEST_NAME_INVALID', { action: { href: `${rawPath(request)}?${new URLSearchParams({ invite: token })}`, label: GUEST_TEXT[lang].joinTitle } });
    const roomPath = pathOfRoom(request, room);
    const now = ctx.now();
    const redemption = await invitations.redeem(token, room, { at: now, name });
    if (!redemption.ok) return refuse(request, reply, existing, redemption.code, room, redemption.invitation);
    const { invitation, use } = redemption;
    const grant = { room, invitation: invitation.id, expiresAt: Math.min(now + limits.absoluteTimeout, invitation.expiresAt) };
    if (existing) await ctx.sessions.destroy(existing);
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
    if (!linked.ok) return refuseLate(request, reply, session, linked.code, room, linked.invitation ?? invitation);
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
    ctx.setSessionCookie(reply, session);
    reply.clearCookie(formCookie, formCookieOptions);
    reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
    return reply.redirect(roomPath, 303);
  });

  function formCsrfValid(request: FastifyRequest, given: unknown): boolean {
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== ctx.publicUrl.origin) return false;
    const expected = request.cookies[formCookie];
    if (typeof given !== 'string' || !expected) return false;
    const a = Buffer.from(expected);
    const b = Buffer.from(given);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** The room and action of a /_roomguard/rooms/<room>/invites[/revoke] path. */
  const roomsTarget = (request: FastifyRequest): { room: string; revoke: boolean } | undefined => {
    const segments = rawPath(request).slice(ROOMS_PREFIX.length).split('/');
    const revoke = segments.at(-1) === 'revoke';
    if (revoke) segments.pop();
    if (segments.pop() !== 'invites') return undefined;
    const room = roomFromSegments(segments);
    return room ? { room, revoke } : undefined;
  };

  /**
   * The session of a moderator of `room` (per its policy, with the second factor the room asks for), or
   * undefined after a redirect; throws the refusal otherwise. POSTs must carry the session's CSRF token.
   */
  async function moderator(request: FastifyRequest, reply: FastifyReply, room: string, page: string): Promise<{ session: LoadedSession; policy: Policy } | undefined> {
    const session = await ctx.loadSession(request);
    const post = request.method !== 'GET';
    if (!session) {
      if (post) throw new RoomguardError('RG_LOGIN_REQUIRED');
      await reply.redirect(ctx.loginHref(page), 302);
      return undefined;
    }
    if (post && !ctx.csrfValid(request, session, body(request).csrf)) throw new RoomguardError('RG_CSRF');
    if (session.data.identity.guest) throw new RoomguardError('RG_GUEST_NOT_ALLOWED');
    const set = ctx.deps.policies.current;
    const decision = decide({ identity: session.data.identity, ...(session.data.mfa ? { mfa: session.data.mfa } : {}) }, room, set, ctx.now());
    if (decision.outcome === 'mfa') {
      if (post) throw new RoomguardError('RG_MFA_REQUIRED');
      await reply.redirect(`/_roomguard/mfa?${new URLSearchParams({ returnTo: page, room })}`, 302);
      return undefined;
    }
    if (decision.outcome !== 'allow' || decision.role !== 'moderator') {
      ctx.auditQuietly(request, session, { type: 'room.decision', outcome: 'deny', reason: 'RG_GUEST_NOT_MODERATOR', room, details: { page: 'invites' } });
      throw new RoomguardError('RG_GUEST_NOT_MODERATOR');
    }
    const policy = guestPolicy(room);
    if (!policy) throw new RoomguardError('RG_GUEST_INVITES_OFF');
    return { session, policy };
  }

  async function renderInvites(request: FastifyRequest, reply: FastifyReply, input: { room: string; page: string; session: LoadedSession; policy: Policy; created?: { link: string }; message?: string; error?: string }, status = 200) {
    const list = await invitations.list(input.room);
    const roomPath = pathOfRoom(request, input.room);
    reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
    return ctx.page(request, reply, (frame) => invitesPage(frame, {
      room: input.room, action: input.page, roomPath, csrf: ctx.csrfToken(input.session), invitations: list,
      limits: { ttl: input.policy.guests!.ttl, maxUses: input.policy.guests!.maxUses }, recentSince: ctx.now() - limits.absoluteTimeout,
      ...(input.created ? { created: input.created } : {}), ...(input.message ? { message: input.message } : {}), ...(input.error ? { error: input.error } : {}),
    }), status);
  }

  app.get(`${ROOMS_PREFIX}*`, async (request, reply) => {
    const target = roomsTarget(request);
    if (!target || target.revoke) return ctx.fail(request, reply, 'RG_NOT_FOUND');
    const page = `${ROOMS_PREFIX}${target.room}/invites`;
    const allowed = await moderator(request, reply, target.room, page);
    if (!allowed) return reply;
    const done = (request.query as Record<string, unknown>).done;
    return renderInvites(request, reply, { room: target.room, page, ...allowed, ...(done === 'revoked' ? { message: GUEST_TEXT[ctx.lang(request)].revoked } : {}) });
  });

  app.post(`${ROOMS_PREFIX}*`, async (request, reply) => {
    const target = roomsTarget(request);
    if (!target) return ctx.fail(request, reply, 'RG_NOT_FOUND');
    const { room } = target;
    const page = `${ROOMS_PREFIX}${room}/invites`;
    const allowed = await moderator(request, reply, room, page);
    if (!allowed) return reply;
    const { session, policy } = allowed;
    const form = body(request);
    const who = session.data.identity.name ?? session.data.identity.email ?? session.data.identity.sub;

    if (target.revoke) {
      const id = typeof form.id === 'string' ? form.id.toLowerCase() : '';
      const revoked = await invitations.revoke(room, id, who);
      if (!revoked) return ctx.fail(request, reply, 'RG_GUEST_INVITE_UNKNOWN');
      const ended = await endGuestSessions(revoked.sessions);
      ctx.auditQuietly(request, session, { type: 'guest.invite_revoked', outcome: 'success', room, details: { invitation: revoked.invitation.id, guestSessionsEnded: ended } });
      return reply.redirect(`${page}?done=revoked`, 303);
    }

    const t = GUEST_TEXT[ctx.lang(request)];
    const guests = policy.guests!;
    const ttl = typeof form.ttl === 'string' ? parseDuration(form.ttl) : undefined;
    const uses = typeof form.uses === 'string' && /^\d{1,4}$/.test(form.uses.trim()) ? Number(form.uses.trim()) : undefined;
    const note = typeof form.note === 'string' ? form.note.replace(/[\p{Cc}\p{Cf}]/gu, '').trim().slice(0, NOTE_MAX) : '';
    if (ttl === undefined || ttl < MIN_INVITATION_TTL_MS || ttl > guests.ttl) return renderInvites(request, reply, { room, page, session, policy, error: t.badTtl }, 422);
    if (uses === undefined || uses < 1 || uses > guests.maxUses) return renderInvites(request, reply, { room, page, session, policy, error: t.badUses }, 422);
    const { token, invitation } = await invitations.create({ room, ttlMs: ttl, maxUses: uses, note, createdBy: who });
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
    return renderInvites(request, reply, { room, page, session, policy, created: { link } });
  });

  async function endGuestSessions(hashes: string[]): Promise<number> {
    let ended = 0;
    for (const hash of hashes) {
      const found = await ctx.sessions.byHash(hash);
      // Counted only when this call ended it: a guest refused late may have ended its own session first.
      if (found?.data.identity.guest && (await ctx.sessions.destroy(found))) ended++;
    }
    return ended;
  }
}
