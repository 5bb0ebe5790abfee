// The guarded proxy: which room (backend) → who (session) → decide() → login / second factor / notice /
// refusal, or the upstream with identity headers. HTTP and WebSocket pass the same guard; an allowed
// join is written to the audit log before it is let through (DESIGN invariant 4).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import httpProxy from '@fastify/http-proxy';
import { decide, policyFor } from '../policy/decide.js';
import type { Decision, Policy, Subject } from '../policy/types.js';
import type { LoadedSession } from '../session/sessions.js';
import { identityHeaders, stripOwnCookies, stripSpoofable } from './identity-headers.js';
import { decodeUnreserved, isCleanPath } from './path-hygiene.js';
import { noticeKey } from './auth-routes.js';
import type { GatewayContext } from './context.js';
import { JitsiBackend } from '../backends/jitsi.js';
import { BbbBackend, joinKey } from '../backends/bbb.js';
import { canonicalRoom } from '../backends/room-name.js';
import { RoomguardError, type ErrorCode } from '../errors.js';
import type { Socket } from 'node:net';

/** A room entry recorded this recently covers further non-page requests of the same session and room. */
const ENTRY_RECORD_WINDOW_MS = 5 * 60_000;

/** How often open WebSockets are checked against their session (logout, revocation, expiry). */
const SOCKET_CHECK_MS = 2000;

/** Open proxied WebSockets per session; those whose session has ended are closed. */
class SocketTracker {
  readonly #sockets = new Map<string, Set<Socket>>();
  readonly #timer: NodeJS.Timeout;
  readonly #ctx: GatewayContext;

  constructor(ctx: GatewayContext) {
    this.#ctx = ctx;
    this.#timer = setInterval(() => void this.#sweep(), SOCKET_CHECK_MS);
    this.#timer.unref();
  }

  track(sessionHash: string, socket: Socket): void {
    const set = this.#sockets.get(sessionHash) ?? new Set<Socket>();
    set.add(socket);
    this.#sockets.set(sessionHash, set);
    this.#ctx.deps.metrics.websockets.inc();
    socket.once('close', () => {
      this.#ctx.deps.metrics.websockets.dec();
      set.delete(socket);
      if (set.size === 0) this.#sockets.delete(sessionHash);
    });
  }

  async #sweep(): Promise<void> {
    for (const [hash, sockets] of this.#sockets) {
      let alive = true;
      try {
        alive = await this.#ctx.sessions.exists(hash);
      } catch {
        continue; // store unreachable: keep connections rather than cut every meeting
      }
      if (!alive) for (const socket of sockets) socket.destroy();
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

interface Admission {
  session?: LoadedSession;
  decision?: Decision;
  upstreamHeaders?: Record<string, string | string[] | undefined>;
}

declare module 'fastify' {
  interface FastifyRequest {
    admission?: Admission;
  }
}

/** A top-level page load (as opposed to an asset or API call): where a person can be redirected to a step. */
function isNavigation(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const dest = request.headers['sec-fetch-dest'];
  if (dest !== undefined) return dest === 'document';
  return String(request.headers.accept ?? '').includes('text/html');
}

export async function registerProxy(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  const { config, publicUrl } = ctx;
  const { backend, policies } = ctx.deps;
  const jitsi = backend instanceof JitsiBackend ? backend : undefined;
  const bbb = backend instanceof BbbBackend ? backend : undefined;
  const tracker = new SocketTracker(ctx);
  app.addHook('onClose', async () => tracker.stop());
  const publicPaths = config.backend.public;
  const isPublic = (path: string) => publicPaths.some((p) => (p.endsWith('*') ? path.startsWith(p.slice(0, -1)) : path === p));

  const guard = async (request: FastifyRequest, reply: FastifyReply) => {
    const rawUrl = request.raw.url ?? '/';
    const queryAt = rawUrl.indexOf('?');
    const path = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
    const ws = ctx.isWebSocket(request);
    if (!isCleanPath(path)) return ctx.fail(request, reply, 'RG_REQUEST_BAD_PATH');
    // `/r%6foms/x` is `/rooms/x` to most upstreams: judge only the plain spelling (redirect page loads to it).
    const plain = decodeUnreserved(path);
    if (plain !== path) {
      if (ws || (request.method !== 'GET' && request.method !== 'HEAD') || !isCleanPath(plain)) return ctx.fail(request, reply, 'RG_REQUEST_BAD_PATH');
      return reply.redirect(plain + (queryAt === -1 ? '' : rawUrl.slice(queryAt)), 302);
    }
    const lookup = backend.roomOf(path);
    if (lookup.kind === 'invalid') return ctx.fail(request, reply, 'RG_ROOM_INVALID');
    if (lookup.kind === 'room' && lookup.canonicalPath !== undefined) {
      if (ws || (request.method !== 'GET' && request.method !== 'HEAD')) return ctx.fail(request, reply, 'RG_ROOM_INVALID');
      return reply.redirect(lookup.canonicalPath + (queryAt === -1 ? '' : rawUrl.slice(queryAt)), 302);
    }
    if (lookup.kind === 'public' || (lookup.kind === 'none' && isPublic(path))) {
      request.admission = {};
      return;
    }
    const session = await ctx.loadSession(request);
    const returnTo = rawUrl.length <= 2048 ? rawUrl : path;
    const needLogin = () => {
      if (ws || (request.method !== 'GET' && request.method !== 'HEAD')) return ctx.fail(request, reply, 'RG_LOGIN_REQUIRED');
      return reply.redirect(ctx.loginHref(returnTo), 302);
    };
    const admit = (admission: Admission) => {
      request.admission = admission;
      if (ws && admission.session) tracker.track(admission.session.hash, request.raw.socket);
    };
    if (lookup.kind === 'none') {
      if (!session) return needLogin();
      return admit({ session });
    }
    if (lookup.kind === 'refused') {
      ctx.auditQuietly(request, session, { type: 'room.decision', outcome: 'deny', reason: 'RG_BACKEND_API_REFUSED', details: { path: path.slice(0, 100) } });
      return ctx.fail(request, reply, 'RG_BACKEND_API_REFUSED');
    }
    if (lookup.kind === 'signed-join') {
      if (!session) return needLogin();
      // Only a join URL roomguard signed for this session, once, within its lifetime.
      const raw = await ctx.deps.store.take(joinKey(queryAt === -1 ? '' : rawUrl.slice(queryAt + 1)));
      const minted = raw ? (JSON.parse(raw) as { session: string; exp: number }) : undefined;
      if (!minted || minted.session !== session.hash || minted.exp <= ctx.now()) {
        ctx.auditQuietly(request, session, { type: 'room.decision', outcome: 'deny', reason: 'RG_BBB_JOIN_INVALID' });
        return ctx.fail(request, reply, 'RG_BBB_JOIN_INVALID');
      }
      return admit({ session });
    }
    if (lookup.kind === 'signalling') {
      if (!session) return needLogin();
      // The XMPP connection (WebSocket or BOSH) must carry its room token; conference requests carry none.
      const tokenRequired = !path.endsWith('/conference-request/v1');
      const refusal = await signallingRefusal(session, lookup.tenant, new URLSearchParams(queryAt === -1 ? '' : rawUrl.slice(queryAt + 1)), tokenRequired);
      if (refusal) {
        request.log.info({ event: 'signalling.refused', code: refusal, session: session.hash.slice(0, 16) }, 'signalling refused');
        ctx.auditQuietly(request, session, { type: 'room.decision', outcome: 'deny', reason: refusal, details: { path: path.slice(0, 100) } });
        return ctx.fail(request, reply, refusal);
      }
      return admit({ session });
    }

    const set = policies.current;
    const room = lookup.room;
    const policy = policyFor(room, set).policy;
    const subject: Subject = {};
    // A risk: high room refuses sessions idle longer than its own limit (15 min), on top of the gateway's.
    if (session && !(policy?.sessionIdleTimeout !== undefined && session.idleFor > policy.sessionIdleTimeout)) {
      subject.identity = session.data.identity;
      if (session.data.mfa) subject.mfa = session.data.mfa;
    }
    const decision = decide(subject, room, set, ctx.now());
    const join = ws || isNavigation(request);
    request.log.info({
      event: 'decision', room, outcome: decision.outcome, reasons: decision.reasons, policy: decision.policy?.file,
      rule: decision.rule ? `${decision.rule.kind}[${decision.rule.index}]` : undefined, session: session?.hash.slice(0, 16),
    }, 'room decision');

    switch (decision.outcome) {
      case 'login':
        return needLogin();
      case 'mfa':
        if (join) ctx.auditQuietly(request, session, { type: 'room.decision', outcome: 'mfa', decision, reason: decision.reasons[0] ?? 'RG_MFA_REQUIRED' });
        if (!ws && isNavigation(request)) return reply.redirect(`/_roomguard/mfa?${new URLSearchParams({ returnTo, room })}`, 302);
        return ctx.fail(request, reply, decision.reasons[0] ?? 'RG_MFA_REQUIRED');
      case 'deny':
        ctx.auditQuietly(request, session, { type: 'room.decision', outcome: 'deny', decision, reason: decision.reasons[0] ?? 'RG_POLICY_NOT_ALLOWED' });
        return ctx.fail(request, reply, decision.reasons[0] ?? 'RG_POLICY_NOT_ALLOWED');
      case 'allow': {
        if (policy?.notice && session && !ws && isNavigation(request) && !(session.data.noticesSeen ?? []).includes(noticeKey(room, policy.sha256))) {
          return reply.redirect(`/_roomguard/notice?${new URLSearchParams({ returnTo, room })}`, 302);
        }
        if (bbb && session && !ws && isNavigation(request)) return bbbAdmission(request, reply, session, decision, policy);
        if (jitsi && session && !ws && isNavigation(request)) {
          const params = new URLSearchParams(queryAt === -1 ? '' : rawUrl.slice(queryAt + 1));
          const given = params.get('jwt');
          const jti = given ? await jitsi.tokenFor(given, room, ctx.now()) : undefined;
          // A ?jwt= from the browser counts only if roomguard minted it for this session and room.
          if (jti && (session.data.admissions?.[room] ?? []).includes(jti)) {
            if (!(await recordJoin(request, session, decision, { tokenId: jti, reused: true }))) return ctx.fail(request, reply, 'RG_AUDIT_UNAVAILABLE');
            return admit({ session, decision });
          }
          return jitsiAdmission(request, reply, session, decision, path, params);
        }
        // No join without an audit record: every page load and WebSocket into a room is recorded, and so
        // is any other request unless this session's entry to the room was recorded in the last minutes
        // (a client cannot skip the record by dressing a page load as an asset request).
        const enteredKey = session ? `audit:entered:${session.hash}:${room}` : undefined;
        if (join || (enteredKey && (await ctx.deps.store.get(enteredKey)) === null)) {
          if (!(await recordJoin(request, session, decision))) return ctx.fail(request, reply, 'RG_AUDIT_UNAVAILABLE');
          if (enteredKey) await ctx.deps.store.set(enteredKey, '1', ENTRY_RECORD_WINDOW_MS);
        }
        return admit({ ...(session ? { session } : {}), decision });
      }
    }
  };

  /** Writes the allow record of a join (durably); false when it could not be written and the join must be refused. */
  async function recordJoin(request: FastifyRequest, session: LoadedSession | undefined, decision: Decision, details?: Record<string, string | boolean>): Promise<boolean> {
    try {
      await ctx.audit(request, session, { type: 'room.decision', outcome: 'allow', decision, ...(details ? { details } : {}) });
      return true;
    } catch (err) {
      request.log.error({ err: (err as Error).message, room: decision.room }, 'audit append failed; join refused');
      return false;
    }
  }

  /** Why a signalling request may not pass, or undefined: the session must hold a token for the room it names. */
  async function signallingRefusal(session: LoadedSession, tenant: string | undefined, params: URLSearchParams, tokenRequired: boolean): Promise<ErrorCode | undefined> {
    // Exactly one room and at most one token: a second value might be the one the backend reads.
    if (params.getAll('room').length !== 1 || params.getAll('token').length > 1) return 'RG_JITSI_NOT_ADMITTED';
    const raw = params.get('room');
    const room = raw ? canonicalRoom(raw) : undefined;
    if (!room || !jitsi) return 'RG_JITSI_NOT_ADMITTED';
    const judged = tenant ? `${tenant}/${room}` : room;
    const admitted = session.data.admissions?.[judged] ?? [];
    if (admitted.length === 0) return 'RG_JITSI_NOT_ADMITTED';
    const token = params.get('token');
    // Without a token the backend might admit the connection anonymously (guests, JWT_ALLOW_EMPTY).
    if (token === null && tokenRequired) return 'RG_JITSI_TOKEN_INVALID';
    if (token !== null) {
      const jti = await jitsi.tokenFor(token, judged, ctx.now());
      if (!jti || !admitted.includes(jti)) return 'RG_JITSI_TOKEN_INVALID';
    }
    return undefined;
  }

  /** Creates the BBB meeting, records the join, and sends the browser to a signed single-use join URL. */
  async function bbbAdmission(request: FastifyRequest, reply: FastifyReply, session: LoadedSession, decision: Decision, policy: Policy | undefined) {
    let createTime: string;
    try {
      createTime = await bbb!.create(decision.room, policy?.title, (decision.features ?? []).includes('recording'), decision.policy?.file ?? '');
    } catch (err) {
      request.log.warn({ err: (err as Error).message, room: decision.room }, 'BBB create failed');
      return ctx.fail(request, reply, 'RG_UPSTREAM_UNAVAILABLE');
    }
    const query = bbb!.joinQuery({ room: decision.room, identity: session.data.identity, role: decision.role ?? 'participant', createTime });
    if (!(await recordJoin(request, session, decision, { meetingID: bbb!.meetingId(decision.room) }))) return ctx.fail(request, reply, 'RG_AUDIT_UNAVAILABLE');
    const ttl = bbb!.settings.joinTtlMs;
    await ctx.deps.store.set(joinKey(query), JSON.stringify({ session: session.hash, exp: ctx.now() + ttl }), ttl);
    reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
    return reply.redirect(`/bigbluebutton/api/join?${query}`, 302);
  }

  /** Records the join, mints the room token, remembers it in the session and sends the browser to the room with it. */
  async function jitsiAdmission(request: FastifyRequest, reply: FastifyReply, session: LoadedSession, decision: Decision, path: string, params: URLSearchParams) {
    const minted = await jitsi!.mint({ judgedRoom: decision.room, identity: session.data.identity, role: decision.role ?? 'participant', features: decision.features ?? [], now: ctx.now() });
    // No join without an audit record: if it cannot be written, no token is handed out.
    if (!(await recordJoin(request, session, decision, { tokenId: minted.jti, tokenExpires: new Date(minted.exp).toISOString() }))) return ctx.fail(request, reply, 'RG_AUDIT_UNAVAILABLE');
    const admissions = { ...(session.data.admissions ?? {}) };
    admissions[decision.room] = [...(admissions[decision.room] ?? []), minted.jti].slice(-5);
    const rooms = Object.keys(admissions);
    for (const stale of rooms.slice(0, Math.max(0, rooms.length - 50))) delete admissions[stale];
    await ctx.sessions.update(session, { admissions });
    params.set('jwt', minted.token);
    reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
    return reply.redirect(`${path}?${params}`, 302);
  }

  const upstreamHeaders = async (request: FastifyRequest): Promise<Record<string, string | string[] | undefined>> => {
    const headers = stripSpoofable({ ...request.headers }) as Record<string, string | string[] | undefined>;
    const cookie = stripOwnCookies(typeof headers.cookie === 'string' ? headers.cookie : undefined, [ctx.cookies.session, ctx.cookies.binding, ctx.cookies.lang]);
    if (cookie) headers.cookie = cookie;
    else delete headers.cookie;
    headers['x-forwarded-for'] = request.ip;
    headers['x-forwarded-proto'] = publicUrl.protocol.slice(0, -1);
    headers['x-forwarded-host'] = publicUrl.host;
    delete headers.forwarded;
    const admission = request.admission;
    const identity = admission?.session?.data.identity;
    if (identity) {
      const room = admission?.decision?.room;
      const role = admission?.decision?.role;
      const facts = {
        sub: identity.sub, groups: identity.groups,
        ...(identity.email ? { email: identity.email } : {}), ...(identity.name ? { name: identity.name } : {}),
        ...(room ? { room } : {}), ...(role ? { role } : {}),
      };
      const assertion = await ctx.deps.assertion.sign({ ...facts, iss: identity.iss }, ctx.now());
      Object.assign(headers, identityHeaders({ ...facts, assertion }));
    }
    return headers;
  };

  await app.register(async (proxied) => {
    proxied.addHook('onRequest', guard);
    // Identity headers are signed asynchronously; prepare them before the (synchronous) proxy rewrite.
    proxied.addHook('preHandler', async (request) => {
      request.admission = { ...request.admission, upstreamHeaders: await upstreamHeaders(request) };
    });
    await proxied.register(httpProxy, {
      upstream: config.backend.upstream.origin + config.backend.upstream.pathname.replace(/\/$/, ''),
      websocket: true,
      proxyPayloads: true,
      replyOptions: {
        rewriteRequestHeaders: (request, headers) => {
          const ready = (request as FastifyRequest).admission?.upstreamHeaders;
          // Fail closed: without prepared headers nothing is forwarded (never the raw ones with our cookie).
          if (!ready) throw new RoomguardError('RG_INTERNAL', 'upstream headers were not prepared');
          const merged = { ...ready } as Record<string, string | string[] | undefined>;
          // Host and length come from the proxy's own view of this request; hop-by-hop headers never pass.
          merged.host = headers.host as string;
          if (headers['content-length'] !== undefined) merged['content-length'] = headers['content-length'] as string;
          else delete merged['content-length'];
          delete merged.connection;
          delete merged['transfer-encoding'];
          delete merged.upgrade;
          return merged as typeof headers;
        },
        onError: (reply, { error }) => {
          reply.request.log.warn({ err: error.message }, 'upstream unavailable');
          void ctx.fail(reply.request as FastifyRequest, reply as unknown as FastifyReply, 'RG_UPSTREAM_UNAVAILABLE');
        },
      },
      wsClientOptions: {
        // Typed loosely upstream; the plugin calls it with (headers, request) for every proxied upgrade.
        rewriteRequestHeaders: (_headers: Record<string, string>, request: FastifyRequest) => {
          const ready = request.admission?.upstreamHeaders ?? {};
          const out: Record<string, string> = {};
          for (const [name, value] of Object.entries(ready)) {
            if (typeof value !== 'string') continue;
            if (name === 'cookie' || name === 'user-agent' || name === 'accept-language' || name === 'origin' || name.startsWith('x-forwarded-') || name.startsWith('x-roomguard-')) out[name] = value;
          }
          return out;
        },
      } as object,
    });
  });
}
