// The admission judge shared by proxy mode and forward-auth mode: which room (backend) → who (session)
// → decide() → a verdict: pass (with the session and decision), a redirect to a step (login, second
// factor, notice, a backend-signed entry), or a refusal. An allowed join is written to the audit log
// before the verdict is given (DESIGN invariant 4). Transport (proxying, status codes) is the caller's.
import type { FastifyRequest } from 'fastify';
import { decide, policyFor } from '../policy/decide.js';
import type { Decision, Policy, Subject } from '../policy/types.js';
import type { Identity } from '../identity/types.js';
import type { LoadedSession } from '../session/sessions.js';
import { identityHeaders } from './identity-headers.js';
import { readRequestPath } from '../backends/request-path.js';
import { noticeKey } from './auth-routes.js';
import type { GatewayContext } from './context.js';
import { CONFERENCE_BODY_LIMIT, CONFERENCE_REQUEST_PATH, conferenceRequestRoom, JitsiBackend } from '../backends/jitsi.js';
import { BbbBackend, joinKey } from '../backends/bbb.js';
import { canonicalRoom } from '../backends/room-name.js';
import { GenericBackend } from '../backends/generic.js';
import type { ErrorCode } from '../errors.js';
import { isFresh, type AssertionSigner } from './assertion.js';

/** A room entry recorded this recently covers further non-page requests of the same session and room. */
const ENTRY_RECORD_WINDOW_MS = 5 * 60_000;
/** An entry record another instance wrote (seen in the store) is trusted locally for this long. */
const ENTERED_READ_MEMO_MS = 30_000;

/**
 * Which `audit:entered` markers this instance wrote or saw, until when: saves a store read per
 * sub-resource request. It only ever skips a record the store already says was written.
 */
class EnteredMemo {
  readonly #until = new Map<string, number>();

  has(key: string): boolean {
    const until = this.#until.get(key);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.#until.delete(key);
    return false;
  }

  remember(key: string, ms: number): void {
    this.#until.delete(key);
    this.#until.set(key, Date.now() + ms);
    if (this.#until.size > 50_000) this.#until.delete(this.#until.keys().next().value!);
  }
}

export interface Admission {
  session?: LoadedSession;
  decision?: Decision;
  /** Where the upstream gets the request, when not at the path the client asked for (the query stays as sent). */
  upstreamPath?: string;
  /** A request judged by its body too: read (bounded), parsed as JSON, judged, and forwarded re-encoded. */
  body?: BodyRule;
}

/** How a request's JSON body is judged before it goes on. */
export interface BodyRule {
  /** The most bytes read; a longer body is refused. */
  limit: number;
  /** Undefined when the parsed body may go on; otherwise the refusal and the room it named (for the audit record). */
  judge(body: unknown): { code: ErrorCode; room: string } | undefined;
}

/** The request being judged: the client's own in proxy mode, the one a proxy describes in forward-auth mode. */
export interface RequestView {
  method: string;
  /** Path and query exactly as the client sent them. */
  rawUrl: string;
  /** A WebSocket upgrade. */
  ws: boolean;
  /** A top-level page load: where a person can be redirected to a step. */
  navigation: boolean;
}

export type Verdict =
  | { kind: 'pass'; admission: Admission }
  /** `sensitive`: the location carries a backend entry token (no caching, no referrer). */
  | { kind: 'redirect'; location: string; sensitive?: boolean }
  | { kind: 'refuse'; code: ErrorCode };

/** A top-level page load (as opposed to an asset or API call), from the headers browsers send. */
export function isNavigation(method: string, headers: FastifyRequest['headers']): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  const dest = headers['sec-fetch-dest'];
  if (dest !== undefined) return dest === 'document';
  return String(headers.accept ?? '').includes('text/html');
}

export type Judge = (request: FastifyRequest, view: RequestView) => Promise<Verdict>;

export function createJudge(ctx: GatewayContext): Judge {
  const { config } = ctx;
  const { backend, policies } = ctx.deps;
  const jitsi = backend instanceof JitsiBackend ? backend : undefined;
  const bbb = backend instanceof BbbBackend ? backend : undefined;
  const publicPaths = config.backend.public;
  const isPublic = (path: string) => publicPaths.some((p) => (p.endsWith('*') ? path.startsWith(p.slice(0, -1)) : path === p));
  const entered = new EnteredMemo();

  /**
   * Judges once. `cached`: the session may come from the local cache (sub-resource requests only); such
   * a judgement is tentative unless it passes — a refusal or step is judged again from the store, so the
   * cache can never refuse someone, and audits nothing until then.
   */
  async function judgeOnce(request: FastifyRequest, view: RequestView, cached: boolean): Promise<Verdict & { tentative?: boolean }> {
    const { rawUrl, ws, navigation } = view;
    const queryAt = rawUrl.indexOf('?');
    const path = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
    const query = queryAt === -1 ? '' : rawUrl.slice(queryAt + 1);
    const readOnly = view.method === 'GET' || view.method === 'HEAD';
    // One reading of the path for every lookup (DESIGN invariant 2): what an upstream would read otherwise is refused.
    const reading = readRequestPath(path);
    if (reading.kind === 'refused') {
      request.log.info({ event: 'path.refused', why: reading.why }, 'request path refused');
      return { kind: 'refuse', code: 'RG_REQUEST_BAD_PATH' };
    }
    const lookup = backend.roomOf(reading.path);
    if (lookup.kind === 'invalid') return { kind: 'refuse', code: 'RG_ROOM_INVALID' };
    // `/r%6foms/Board` is `/rooms/Board` to every upstream, and the room is `board`: page loads are sent
    // to the one plain, canonical spelling in one step; anything else must use it already.
    const canonical = lookup.kind === 'room' && lookup.canonicalPath !== undefined ? lookup.canonicalPath : reading.kind === 'respelled' ? reading.path.raw : undefined;
    if (canonical !== undefined) {
      if (ws || !readOnly) return { kind: 'refuse', code: reading.kind === 'respelled' ? 'RG_REQUEST_BAD_PATH' : 'RG_ROOM_INVALID' };
      return { kind: 'redirect', location: canonical + (queryAt === -1 ? '' : rawUrl.slice(queryAt)) };
    }
    if (lookup.kind === 'public' || (lookup.kind === 'none' && isPublic(path))) return { kind: 'pass', admission: {} };

    // A signed BBB join is taken from the store once: never judged tentatively.
    const useCache = cached && !ws && !navigation && lookup.kind !== 'signed-join';
    const session = await ctx.loadSession(request, { cached: useCache });
    const tentative = useCache && session !== undefined;
    // Refusals of a tentative judgement are not audited: the judgement is repeated from the store.
    const note: GatewayContext['auditQuietly'] = (...args) => {
      if (!tentative) ctx.auditQuietly(...args);
    };
    const refuse = (code: ErrorCode) => ({ kind: 'refuse' as const, code, tentative });
    const returnTo = rawUrl.length <= 2048 ? rawUrl : path;
    const needLogin = (): Verdict & { tentative?: boolean } => (ws || !readOnly ? refuse('RG_LOGIN_REQUIRED') : { kind: 'redirect', location: ctx.loginHref(returnTo), tentative });

    if (lookup.kind === 'none') {
      if (!session) return needLogin();
      // A guest's admission is one room. Jitsi's and BBB's own paths are part of being in a room there;
      // a generic app's pages outside its rooms (and backend.public) are for people with an account.
      if (session.data.identity.guest && backend instanceof GenericBackend) {
        note(request, session, { type: 'room.decision', outcome: 'deny', reason: 'RG_GUEST_NOT_ALLOWED', details: { path: path.slice(0, 100) } });
        return refuse('RG_GUEST_NOT_ALLOWED');
      }
      return { kind: 'pass', admission: { session } };
    }
    if (lookup.kind === 'refused') {
      note(request, session, { type: 'room.decision', outcome: 'deny', reason: 'RG_BACKEND_API_REFUSED', details: { path: path.slice(0, 100) } });
      return refuse('RG_BACKEND_API_REFUSED');
    }
    if (lookup.kind === 'signed-join') {
      if (!session) return needLogin();
      // Only a join URL roomguard signed for this session, once, within its lifetime.
      const raw = await ctx.deps.store.take(joinKey(query));
      const minted = raw ? (JSON.parse(raw) as { session: string; exp: number }) : undefined;
      if (!minted || minted.session !== session.hash || minted.exp <= ctx.now()) {
        ctx.auditQuietly(request, session, { type: 'room.decision', outcome: 'deny', reason: 'RG_BBB_JOIN_INVALID' });
        return { kind: 'refuse', code: 'RG_BBB_JOIN_INVALID' };
      }
      return { kind: 'pass', admission: { session } };
    }
    if (lookup.kind === 'signalling') {
      if (!session) return needLogin();
      // The XMPP connection (WebSocket or BOSH) must carry its room token; conference requests carry none.
      const conference = path.endsWith(CONFERENCE_REQUEST_PATH);
      const signalled = await signallingRoom(session, lookup.tenant, new URLSearchParams(query), !conference);
      const refusal = 'refusal' in signalled ? signalled.refusal : conference && view.method !== 'POST' ? 'RG_REQUEST_INVALID' : undefined;
      if (refusal) {
        if (!tentative) request.log.info({ event: 'signalling.refused', code: refusal, session: session.hash.slice(0, 16) }, 'signalling refused');
        note(request, session, { type: 'room.decision', outcome: 'deny', reason: refusal, details: { path: path.slice(0, 100) } });
        return refuse(refusal);
      }
      if (!conference || !('judged' in signalled)) return { kind: 'pass', admission: { session } };
      // Jicofo reads the room from the JSON body, not from ?room=: the body must name the same room, and
      // it goes on re-encoded from what was judged (one `room`, whatever the client's JSON spelling).
      const judged = signalled.judged;
      return {
        kind: 'pass',
        admission: {
          session,
          upstreamPath: CONFERENCE_REQUEST_PATH + (queryAt === -1 ? '' : rawUrl.slice(queryAt)),
          body: {
            limit: CONFERENCE_BODY_LIMIT,
            judge: (body) => (conferenceRequestRoom(body) === judged ? undefined : { code: 'RG_JITSI_NOT_ADMITTED', room: conferenceRequestRoom(body) ?? '(unreadable)' }),
          },
        },
      };
    }

    const set = policies.current;
    const room = lookup.room;
    const policy = policyFor(room, set).policy;
    const subject: Subject = {};
    // A risk: high room refuses sessions that were ever idle longer than its own limit (15 min) since
    // login, on top of the gateway's limit: the refused request itself must not count as renewed activity.
    const longestIdle = session ? Math.max(session.idleFor, session.data.maxIdleMs ?? 0) : 0;
    if (session && !(policy?.sessionIdleTimeout !== undefined && longestIdle > policy.sessionIdleTimeout)) {
      subject.identity = session.data.identity;
      if (session.data.mfa) subject.mfa = session.data.mfa;
    }
    const decision = decide(subject, room, set, ctx.now());
    const join = ws || navigation;
    if (decision.outcome !== 'allow' && tentative) return refuse(decision.reasons[0] ?? 'RG_POLICY_NOT_ALLOWED');
    // Every join and every refusal is logged; the allowed sub-resource requests inside a room only at debug.
    request.log[join || decision.outcome !== 'allow' ? 'info' : 'debug']({
      event: 'decision', room, outcome: decision.outcome, reasons: decision.reasons, policy: decision.policy?.file,
      rule: decision.rule ? `${decision.rule.kind}[${decision.rule.index}]` : undefined, session: session?.hash.slice(0, 16),
    }, 'room decision');

    switch (decision.outcome) {
      case 'login':
        // After a pause longer than the room allows, only a login at the IdP itself (max_age=0) will do.
        if (session && !ws && readOnly && policy?.sessionIdleTimeout !== undefined && longestIdle > policy.sessionIdleTimeout) {
          return { kind: 'redirect', location: ctx.loginHref(returnTo, true) };
        }
        return needLogin();
      case 'mfa':
        if (join) ctx.auditQuietly(request, session, { type: 'room.decision', outcome: 'mfa', decision, reason: decision.reasons[0] ?? 'RG_MFA_REQUIRED' });
        if (!ws && navigation) return { kind: 'redirect', location: `/_roomguard/mfa?${new URLSearchParams({ returnTo, room })}` };
        return { kind: 'refuse', code: decision.reasons[0] ?? 'RG_MFA_REQUIRED' };
      case 'deny':
        ctx.auditQuietly(request, session, { type: 'room.decision', outcome: 'deny', decision, reason: decision.reasons[0] ?? 'RG_POLICY_NOT_ALLOWED' });
        return { kind: 'refuse', code: decision.reasons[0] ?? 'RG_POLICY_NOT_ALLOWED' };
      case 'allow': {
        if (policy?.notice && session && !ws && navigation && !(session.data.noticesSeen ?? []).includes(noticeKey(room, policy.sha256))) {
          return { kind: 'redirect', location: `/_roomguard/notice?${new URLSearchParams({ returnTo, room })}` };
        }
        if (bbb && session && !ws && navigation) return bbbAdmission(request, session, decision, policy);
        if (jitsi && session && !ws && navigation) {
          const params = new URLSearchParams(query);
          const given = params.get('jwt');
          const jti = given ? await jitsi.tokenFor(given, room, ctx.now()) : undefined;
          // A ?jwt= from the browser counts only if roomguard minted it for this session and room.
          if (jti && (session.data.admissions?.[room] ?? []).includes(jti)) {
            if (!(await recordJoin(request, session, decision, { tokenId: jti, reused: true }))) return { kind: 'refuse', code: 'RG_AUDIT_UNAVAILABLE' };
            return { kind: 'pass', admission: { session, decision } };
          }
          return jitsiAdmission(request, session, decision, path, params);
        }
        // No join without an audit record: every page load and WebSocket into a room is recorded, and so
        // is any other request unless this session's entry to the room was recorded in the last minutes
        // (a client cannot skip the record by dressing a page load as an asset request).
        const enteredKey = session ? `audit:entered:${session.hash}:${room}` : undefined;
        if (join || (enteredKey && !entered.has(enteredKey) && (await ctx.deps.store.get(enteredKey)) === null)) {
          if (!(await recordJoin(request, session, decision))) return { kind: 'refuse', code: 'RG_AUDIT_UNAVAILABLE' };
          if (enteredKey) {
            await ctx.deps.store.set(enteredKey, '1', ENTRY_RECORD_WINDOW_MS);
            entered.remember(enteredKey, ENTRY_RECORD_WINDOW_MS);
          }
        } else if (enteredKey && !entered.has(enteredKey)) entered.remember(enteredKey, ENTERED_READ_MEMO_MS);
        return { kind: 'pass', admission: session ? { session, decision } : { decision } };
      }
    }
  }

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

  /** The room a signalling request names, when the session holds a token for it; otherwise why not. */
  async function signallingRoom(session: LoadedSession, tenant: string | undefined, params: URLSearchParams, tokenRequired: boolean): Promise<{ judged: string } | { refusal: ErrorCode }> {
    const refused = (refusal: ErrorCode) => ({ refusal });
    // Exactly one room and at most one token: a second value might be the one the backend reads.
    if (params.getAll('room').length !== 1 || params.getAll('token').length > 1) return refused('RG_JITSI_NOT_ADMITTED');
    const raw = params.get('room');
    const room = raw ? canonicalRoom(raw) : undefined;
    if (!room || !jitsi) return refused('RG_JITSI_NOT_ADMITTED');
    const judged = tenant ? `${tenant}/${room}` : room;
    const admitted = session.data.admissions?.[judged] ?? [];
    if (admitted.length === 0) return refused('RG_JITSI_NOT_ADMITTED');
    const token = params.get('token');
    // Without a token the backend might admit the connection anonymously (guests, JWT_ALLOW_EMPTY).
    if (token === null && tokenRequired) return refused('RG_JITSI_TOKEN_INVALID');
    if (token !== null) {
      const jti = await jitsi.tokenFor(token, judged, ctx.now());
      if (!jti || !admitted.includes(jti)) return refused('RG_JITSI_TOKEN_INVALID');
    }
    return { judged };
  }

  /** Creates the BBB meeting, records the join, and sends the browser to a signed single-use join URL. */
  async function bbbAdmission(request: FastifyRequest, session: LoadedSession, decision: Decision, policy: Policy | undefined): Promise<Verdict> {
    let createTime: string;
    try {
      createTime = await bbb!.create(decision.room, policy?.title, (decision.features ?? []).includes('recording'), decision.policy?.file ?? '');
    } catch (err) {
      request.log.warn({ err: (err as Error).message, room: decision.room }, 'BBB create failed');
      return { kind: 'refuse', code: 'RG_UPSTREAM_UNAVAILABLE' };
    }
    const query = bbb!.joinQuery({ room: decision.room, identity: session.data.identity, role: decision.role ?? 'participant', createTime });
    if (!(await recordJoin(request, session, decision, { meetingID: bbb!.meetingId(decision.room) }))) return { kind: 'refuse', code: 'RG_AUDIT_UNAVAILABLE' };
    const ttl = bbb!.settings.joinTtlMs;
    await ctx.deps.store.set(joinKey(query), JSON.stringify({ session: session.hash, exp: ctx.now() + ttl }), ttl);
    return { kind: 'redirect', location: `/bigbluebutton/api/join?${query}`, sensitive: true };
  }

  /** Records the join, mints the room token, remembers it in the session and sends the browser to the room with it. */
  async function jitsiAdmission(request: FastifyRequest, session: LoadedSession, decision: Decision, path: string, params: URLSearchParams): Promise<Verdict> {
    const minted = await jitsi!.mint({ judgedRoom: decision.room, identity: session.data.identity, role: decision.role ?? 'participant', features: decision.features ?? [], now: ctx.now() });
    // No join without an audit record: if it cannot be written, no token is handed out.
    if (!(await recordJoin(request, session, decision, { tokenId: minted.jti, tokenExpires: new Date(minted.exp).toISOString() }))) return { kind: 'refuse', code: 'RG_AUDIT_UNAVAILABLE' };
    const admissions = { ...(session.data.admissions ?? {}) };
    admissions[decision.room] = [...(admissions[decision.room] ?? []), minted.jti].slice(-5);
    const rooms = Object.keys(admissions);
    for (const stale of rooms.slice(0, Math.max(0, rooms.length - 50))) delete admissions[stale];
    await ctx.sessions.update(session, { admissions });
    params.set('jwt', minted.token);
    return { kind: 'redirect', location: `${path}?${params}`, sensitive: true };
  }

  return async (request, view) => {
    const first = await judgeOnce(request, view, true);
    if (first.kind === 'pass' || !first.tentative) return first;
    return judgeOnce(request, view, false);
  };
}

type IdentityHeaders = Readonly<Record<string, string>>;

/**
 * Identity headers per signer, per session identity (the object, so a session read anew from the store
 * starts over) and per room and role: built once and handed out as long as the assertion inside them
 * may be (ASSERTION_REUSE_S), instead of re-encoding the same facts and looking up the signature on
 * every request of a meeting.
 */
const headerMemo = new WeakMap<AssertionSigner, WeakMap<Identity, Map<string, { iat: number; headers: Promise<IdentityHeaders> }>>>();

/** The identity headers for an admitted request (with a signed assertion), or none for anonymous ones. Shared: do not change. */
export function admittedIdentityHeaders(ctx: GatewayContext, admission: Admission | undefined): Promise<IdentityHeaders> {
  const identity = admission?.session?.data.identity;
  if (!identity) return Promise.resolve({});
  const room = admission?.decision?.room;
  const role = admission?.decision?.role;
  const signer = ctx.deps.assertion;
  const now = ctx.now();
  let bySigner = headerMemo.get(signer);
  if (!bySigner) headerMemo.set(signer, (bySigner = new WeakMap()));
  let byIdentity = bySigner.get(identity);
  if (!byIdentity) bySigner.set(identity, (byIdentity = new Map()));
  const key = `${room ?? ''}\n${role ?? ''}`;
  const memo = byIdentity.get(key);
  if (memo && isFresh(memo.iat, now)) return memo.headers;
  const facts = {
    sub: identity.sub, groups: identity.groups,
    ...(identity.email ? { email: identity.email } : {}), ...(identity.name ? { name: identity.name } : {}),
    ...(room ? { room } : {}), ...(role ? { role } : {}),
  };
  const { token, iat } = signer.signed({ ...facts, iss: identity.iss }, now);
  const entry = { iat, headers: token.then((assertion) => Object.freeze(identityHeaders({ ...facts, assertion }))) };
  const memos = byIdentity;
  memos.set(key, entry);
  entry.headers.catch(() => {
    if (memos.get(key) === entry) memos.delete(key);
  });
  return entry.headers;
}
