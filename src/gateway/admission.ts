// The admission judge shared by proxy mode and forward-auth mode: which room (backend) → who (session)
// → decide() → a verdict: pass (with the session and decision), a redirect to a step (login, second
// factor, notice, a backend-signed entry), or a refusal. An allowed join is written to the audit log
// before the verdict is given (DESIGN invariant 4). Transport (proxying, status codes) is the caller's.
import type { FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import { decide, memberOfLockedRoom, roomOpenAt } from '../policy/decide.js';
import type { Decision, RoomState, Subject } from '../policy/types.js';
import type { Identity } from '../identity/types.js';
import { roomMap, type LoadedSession } from '../session/sessions.js';
import { identityHeaders, type HeaderEncoding } from './identity-headers.js';
import { readRequestPath } from '../backends/request-path.js';
import type { GatewayContext } from './context.js';
import type { Backend, BodyRule, StreamRule, RoomLookup, SessionView } from '../backends/backend.js';
import type { ErrorCode } from '../errors.js';
import { isFresh, type AssertionSigner } from './assertion.js';

/** What a static file is asked with. */
const STATIC_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A room entry recorded this recently covers further non-page requests of the same session and room. */
const ENTRY_RECORD_WINDOW_MS = 5 * 60_000;
/** An entry record another instance wrote (seen in the store) is trusted locally for this long. */
const ENTERED_READ_MEMO_MS = 30_000;

/**
 * Which `audit:entered` markers this instance wrote or saw, until when: saves a store read per
 * sub-resource request. It only ever skips a record the store already says was written.
 */
class EnteredMemo {
  readonly #seen = new LRUCache<string, true>({ max: 50_000, ttl: ENTRY_RECORD_WINDOW_MS });

  has(key: string): boolean {
    return this.#seen.has(key);
  }

  remember(key: string, ms: number): void {
    this.#seen.set(key, true, { ttl: ms });
  }
}

export interface Admission {
  session?: LoadedSession;
  decision?: Decision;
  /** Where the upstream gets the request, when not at the path the client asked for (the query stays as sent). */
  upstreamPath?: string;
  /** A request judged by its body too: read (bounded), judged, and forwarded as judged. */
  body?: BodyRule;
  /** The room a signalling request belongs to (a room's own requests carry it in `decision`). */
  room?: string;
  /**
   * The same request with the same cookies would get this same pass for the next moment: a read-only
   * request that is neither a join (page load, WebSocket) nor signalling (one-time tokens), and wrote no
   * record a repeat would have to write again. Only such a pass may be cached by a web server
   * (forward-auth with nginx, `X-Accel-Expires`).
   */
  repeatable?: true;
  /** A public path of the backend (its static files): passed without a session, identity or record. */
  public?: true;
  /** A WebSocket whose every client message is judged before it goes on. */
  stream?: StreamRule;
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
  /** `opens`: a closed time-boxed room, when it opens next (absent `at`: never) in the schedule's zone. */
  | { kind: 'refuse'; code: ErrorCode; opens?: { at?: number; timeZone: string } };

/** A WebSocket upgrade (judged as a join; refused with a bare status, never a page). */
export function isWebSocketUpgrade(request: FastifyRequest): boolean {
  return request.headers.upgrade?.toLowerCase() === 'websocket';
}

/** A top-level page load (as opposed to an asset or API call), from the headers browsers send. */
export function isNavigation(method: string, headers: FastifyRequest['headers']): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  const dest = headers['sec-fetch-dest'];
  if (dest !== undefined) return dest === 'document';
  return String(headers.accept ?? '').includes('text/html');
}

/**
 * One judge per app generation (proxy mode and forward-auth share its type): small steps, each a method,
 * in the order a request meets them — the path, the session, then the backend's own path, its signalling,
 * or the room's policy and the entry.
 */
export class AdmissionJudge {
  readonly #ctx: GatewayContext;
  readonly #backend: Backend;
  readonly #publicPaths: readonly string[];
  readonly #entered = new EnteredMemo();

  constructor(ctx: GatewayContext) {
    this.#ctx = ctx;
    this.#backend = ctx.deps.backend;
    this.#publicPaths = ctx.config.backend.public;
  }

  /** Judges from a cached session where that is allowed; anything but a pass is judged again from the store. */
  judge(request: FastifyRequest, view: RequestView): Promise<Verdict> {
    const read = this.read(request, view);
    return read.kind === 'target' ? this.judgeTarget(request, view, read.target) : Promise.resolve(read.verdict);
  }

  /**
   * The part of a judgement that needs no session, at once: the path read (a refusal or the redirect to
   * the plain spelling), or the pass of a public path (the backend's static files: no session, no
   * identity, no record). Otherwise the target, for `judgeTarget`.
   */
  read(request: FastifyRequest, view: RequestView): { kind: 'verdict'; verdict: Verdict } | { kind: 'target'; target: Target } {
    const target = this.#readTarget(request, view);
    if ('kind' in target) return { kind: 'verdict', verdict: target };
    const { lookup } = target;
    const refusal = this.#unread(view, target);
    if (refusal) {
      request.log.info({ event: 'path.refused', why: refusal }, 'request path refused');
      return { kind: 'verdict', verdict: { kind: 'refuse', code: 'RG_REQUEST_INVALID' } };
    }
    if (lookup.kind === 'public' || (lookup.kind === 'none' && this.#isPublic(target.path))) return { kind: 'verdict', verdict: { kind: 'pass', admission: repeatableIf(view, target, { public: true }) } };
    return { kind: 'target', target };
  }

  /** The rest of a judgement, for a target `read` returned. */
  async judgeTarget(request: FastifyRequest, view: RequestView, target: Target): Promise<Verdict> {
    const first = await this.#judgeOnce(request, view, target, true);
    if (first.kind === 'pass' || !first.tentative) return first;
    return this.#judgeOnce(request, view, target, false);
  }

  /**
   * Why nothing would read this request, if nothing would: a WebSocket where the backend takes none, a
   * body (or a WebSocket) on a static path. A path the backend refuses outright is left to the judgement,
   * which refuses and audits it.
   */
  #unread(view: RequestView, { lookup, path }: Target): string | undefined {
    const backend = this.#backend;
    if (view.ws && lookup.kind !== 'refused' && backend.takesWebSocket && !backend.takesWebSocket(lookup, path)) return 'websocket-not-taken';
    if (lookup.kind === 'public' && backend.publicPathsAreStatic && (view.ws || !STATIC_METHODS.has(view.method))) return 'method-on-static-path';
    return undefined;
  }

  #isPublic(path: string): boolean {
    return this.#publicPaths.some((p) => (p.endsWith('*') ? path.startsWith(p.slice(0, -1)) : path === p));
  }

  /**
   * Judges once. `cached`: the session may come from the local cache (sub-resource requests only); such
   * a judgement is tentative unless it passes — a refusal or step is judged again from the store, so the
   * cache can never refuse someone, and audits nothing until then.
   */
  async #judgeOnce(request: FastifyRequest, view: RequestView, target: Target, cached: boolean): Promise<Verdict & { tentative?: boolean }> {
    const { lookup } = target;
    const useCache = cached && !view.ws && !view.navigation && !(lookup.kind === 'signalling' && lookup.fresh);
    // Straight from the sessions (no hook ever keeps a session for the judge: see loadSession).
    const session = await this.#ctx.sessions.load(this.#ctx.sessionCookies.sessionId(request), useCache ? { cached: true } : {});
    const asking: Asking = { request, view, target, session, tentative: useCache && session !== undefined };
    switch (lookup.kind) {
      case 'public':
        // `read` passes these before any session is read; kept here so every lookup has its answer.
        return { kind: 'pass', admission: { public: true } };
      case 'none':
        return this.#judgeOwnPath(asking);
      case 'refused':
        this.#note(asking, { type: 'room.decision', outcome: 'deny', reason: 'RG_BACKEND_API_REFUSED', details: { path: target.path.slice(0, 100) } });
        return this.#refuse(asking, 'RG_BACKEND_API_REFUSED');
      case 'signalling':
        return this.#judgeSignalling(asking, lookup);
      case 'room':
        return this.#judgeRoom(asking, lookup.room);
    }
  }

  /** The request's path read by the one path model and the backend: a lookup, or at once a refusal or the redirect to the canonical spelling. */
  #readTarget(request: FastifyRequest, view: RequestView): Target | Verdict {
    const { rawUrl, ws } = view;
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
    const lookup = this.#backend.roomOf(reading.path);
    if (lookup.kind === 'invalid') return { kind: 'refuse', code: 'RG_ROOM_INVALID' };
    // `/r%6foms/Board` is `/rooms/Board` to every upstream, and the room is `board`: page loads are sent
    // to the one plain, canonical spelling in one step; anything else must use it already.
    const canonical = lookup.kind === 'room' && lookup.canonicalPath !== undefined ? lookup.canonicalPath : reading.kind === 'respelled' ? reading.path.raw : undefined;
    if (canonical !== undefined) {
      if (ws || !readOnly) return { kind: 'refuse', code: reading.kind === 'respelled' ? 'RG_REQUEST_BAD_PATH' : 'RG_ROOM_INVALID' };
      return { kind: 'redirect', location: canonical + (queryAt === -1 ? '' : rawUrl.slice(queryAt)) };
    }
    return { lookup, path, query, readOnly, returnTo: rawUrl.length <= 2048 ? rawUrl : path };
  }

  /** Refusals of a tentative judgement are not audited: the judgement is repeated from the store. */
  #note(asking: Asking, event: Parameters<GatewayContext['auditQuietly']>[2]): void {
    if (!asking.tentative) this.#ctx.auditQuietly(asking.request, asking.session, event);
  }

  #refuse(asking: Asking, code: ErrorCode): Verdict & { tentative?: boolean } {
    return { kind: 'refuse', code, tentative: asking.tentative };
  }

  #needLogin(asking: Asking, fresh = false): Verdict & { tentative?: boolean } {
    if (asking.view.ws || !asking.target.readOnly) return this.#refuse(asking, 'RG_LOGIN_REQUIRED');
    return { kind: 'redirect', location: this.#ctx.loginHref(asking.target.returnTo, fresh), tentative: asking.tentative };
  }

  /** A path of the backend that is not a room: a session will do — but a guest's admission is one room. */
  #judgeOwnPath(asking: Asking): Verdict & { tentative?: boolean } {
    const { session } = asking;
    if (!session) return this.#needLogin(asking);
    // The backend says whether its other paths are part of being in a room (Jitsi, BBB) or pages for people with an account.
    if (session.data.identity.guest && !this.#backend.guestsUseOwnPaths) {
      this.#note(asking, { type: 'room.decision', outcome: 'deny', reason: 'RG_GUEST_NOT_ALLOWED', details: { path: asking.target.path.slice(0, 100) } });
      return this.#refuse(asking, 'RG_GUEST_NOT_ALLOWED');
    }
    return { kind: 'pass', admission: repeatableIf(asking.view, asking.target, { session }) };
  }

  /** A request that carries its own admission (a signalling stream, a signed join): the backend decides. */
  async #judgeSignalling(asking: Asking, lookup: Extract<RoomLookup, { kind: 'signalling' }>): Promise<Verdict & { tentative?: boolean }> {
    const { session, request, target } = asking;
    if (!session) return this.#needLogin(asking);
    const verdict = await this.#backend.signalling({
      path: target.path, method: asking.view.method, query: target.query, ws: asking.view.ws,
      ...(lookup.tenant !== undefined ? { tenant: lookup.tenant } : {}), ...(lookup.endpoint !== undefined ? { endpoint: lookup.endpoint } : {}),
      session: sessionView(session), now: this.#ctx.now(), take: (key) => this.#ctx.deps.store.take(key),
    });
    if (verdict.kind === 'refuse') {
      if (!asking.tentative) request.log.info({ event: 'signalling.refused', code: verdict.code, session: session.hash.slice(0, 16) }, 'signalling refused');
      this.#note(asking, { type: 'room.decision', outcome: 'deny', reason: verdict.code, details: { path: target.path.slice(0, 100) } });
      return this.#refuse(asking, verdict.code);
    }
    // An admission given earlier (a Jitsi token, a signed join) ends with its room's schedule and with an eviction.
    const ended = verdict.room === undefined ? undefined : await this.#admissionEnded(verdict.room, session);
    if (ended) {
      this.#note(asking, { type: 'room.decision', outcome: 'deny', reason: ended, details: { room: verdict.room!.slice(0, 100), path: target.path.slice(0, 100) } });
      return this.#refuse(asking, ended);
    }
    return { kind: 'pass', admission: { session, ...(verdict.room !== undefined ? { room: verdict.room } : {}), ...(verdict.upstreamPath ? { upstreamPath: verdict.upstreamPath } : {}), ...(verdict.body ? { body: verdict.body } : {}), ...(verdict.stream ? { stream: verdict.stream } : {}) } };
  }

  /**
   * Whether an admission to `room` given earlier has ended since: the room's schedule closed it, this
   * person was evicted, or everyone was after this session's last entry.
   */
  async #admissionEnded(room: string, session: LoadedSession): Promise<'RG_ROOM_NOT_OPEN' | 'RG_ROOM_EVICTED' | undefined> {
    if (!roomOpenAt(room, this.#ctx.deps.policies.current, this.#ctx.now())) return 'RG_ROOM_NOT_OPEN';
    const controls = await this.#ctx.rooms.state(room);
    if (controls.evicted.has(session.data.identity.sub)) return 'RG_ROOM_EVICTED';
    if (controls.everyoneEvictedAt === undefined) return undefined;
    const since = await this.#ctx.rooms.enteredAt(room, session.hash);
    return since !== undefined && since > controls.everyoneEvictedAt ? undefined : 'RG_ROOM_EVICTED';
  }

  /** A room: the policy decides (decide() rules on every step), then the backend's entry or the recorded pass. */
  async #judgeRoom(asking: Asking, room: string): Promise<Verdict & { tentative?: boolean }> {
    const { request, view, session } = asking;
    const subject: Subject = {};
    if (session) {
      subject.identity = session.data.identity;
      if (session.data.mfa) subject.mfa = session.data.mfa;
      subject.idleMs = Math.max(session.idleFor, session.data.maxIdleMs ?? 0);
      subject.noticesSeen = session.data.noticesSeen ?? [];
    }
    // A lock or an eviction set at run time is an input of the decision like the moment.
    const controls = await this.#ctx.rooms.state(room);
    if (session && controls.lock) {
      const since = await this.#ctx.rooms.enteredAt(room, session.hash);
      if (since !== undefined) subject.enteredAt = since;
    }
    asking.controls = controls;
    asking.enteredAt = subject.enteredAt;
    const decision = decide(subject, room, this.#ctx.deps.policies.current, this.#ctx.now(), controls);
    if (decision.schedule?.closesAt !== undefined) asking.closesAt = decision.schedule.closesAt;
    const join = view.ws || view.navigation;
    if (decision.outcome !== 'allow' && asking.tentative) return this.#refuse(asking, decision.reasons[0] ?? 'RG_POLICY_NOT_ALLOWED');
    // Every join and every refusal is logged; the allowed sub-resource requests inside a room only at debug.
    request.log[join || decision.outcome !== 'allow' ? 'info' : 'debug']({
      event: 'decision', room, outcome: decision.outcome, reasons: decision.reasons, policy: decision.policy?.file,
      rule: decision.rule ? `${decision.rule.kind}[${decision.rule.index}]` : undefined, session: session?.hash.slice(0, 16),
      ...(decision.groupsIncomplete ? { groupsIncomplete: true } : {}),
    }, 'room decision');

    switch (decision.outcome) {
      case 'login':
        // After a pause longer than the room allows, only a login at the IdP itself (max_age=0) will do.
        return this.#needLogin(asking, decision.freshLogin === true && session !== undefined);
      case 'mfa':
        if (join) this.#ctx.auditQuietly(request, session, { type: 'room.decision', outcome: 'mfa', decision, reason: decision.reasons[0] ?? 'RG_MFA_REQUIRED' });
        if (!view.ws && view.navigation) return { kind: 'redirect', location: `/_roomguard/mfa?${new URLSearchParams({ returnTo: asking.target.returnTo, room })}` };
        return { kind: 'refuse', code: decision.reasons[0] ?? 'RG_MFA_REQUIRED' };
      case 'deny':
        this.#ctx.auditQuietly(request, session, { type: 'room.decision', outcome: 'deny', decision, reason: decision.reasons[0] ?? 'RG_POLICY_NOT_ALLOWED' });
        return { kind: 'refuse', code: decision.reasons[0] ?? 'RG_POLICY_NOT_ALLOWED', ...opensOf(decision) };
      case 'allow':
        return this.#admitToRoom(asking, decision);
    }
  }

  /** An allowed request into a room: the notice step, the backend's entry on a page load, and the join record before anything passes. */
  async #admitToRoom(asking: Asking, decision: Decision): Promise<Verdict> {
    const { request, view, session, target } = asking;
    const room = decision.room;
    const page = !view.ws && view.navigation;
    if (session && page && decision.notice) return { kind: 'redirect', location: `/_roomguard/notice?${new URLSearchParams({ returnTo: target.returnTo, room })}` };
    if (session && page) {
      const entry = await this.#backend.enter({
        room, role: decision.role ?? 'participant', features: decision.features ?? [], session: sessionView(session), path: target.path, query: target.query, now: this.#ctx.now(),
        policy: { file: decision.policy?.file ?? '', ...(decision.policy?.title !== undefined ? { title: decision.policy.title } : {}), ...(decision.policy?.guestLobby !== undefined ? { guestLobby: decision.policy.guestLobby } : {}) },
      });
      if (entry.kind === 'refuse') {
        request.log.warn({ code: entry.code, detail: entry.detail, room }, 'backend entry failed');
        return { kind: 'refuse', code: entry.code };
      }
      // No join without an audit record: if it cannot be written, no backend credential is handed out.
      if (!(await this.#recordJoin(request, session, decision, entry.details))) return { kind: 'refuse', code: 'RG_AUDIT_UNAVAILABLE' };
      await this.#noteEntry(asking, session, room);
      if (entry.kind === 'pass') {
        if (entry.grant) await this.#grant(session, entry.grant);
        await this.#markEntered(session, room);
        return { kind: 'pass', admission: { session, decision } };
      }
      if (entry.grant) await this.#grant(session, entry.grant);
      if (entry.remember) await this.#ctx.deps.store.set(entry.remember.key, entry.remember.value, entry.remember.ttlMs);
      return { kind: 'redirect', location: entry.location, sensitive: true };
    }
    // No join without an audit record: every page load and WebSocket into a room is recorded, and so is
    // any other request unless this session's entry to the room was recorded in the last minutes (a
    // client cannot skip the record by dressing a page load as an asset request).
    const enteredKey = session ? enteredKeyOf(session, room) : undefined;
    if (view.ws || view.navigation || (enteredKey && !this.#entered.has(enteredKey) && (await this.#ctx.deps.store.get(enteredKey)) === null)) {
      // A WebSocket says so, so the reviewer page can fold it into the page load it belongs to.
      if (!(await this.#recordJoin(request, session, decision, view.ws ? { websocket: true } : undefined))) return { kind: 'refuse', code: 'RG_AUDIT_UNAVAILABLE' };
      if (session) {
        await this.#markEntered(session, room);
        await this.#noteEntry(asking, session, room);
      }
      return { kind: 'pass', admission: session ? { session, decision } : { decision } };
    }
    if (enteredKey && !this.#entered.has(enteredKey)) this.#entered.remember(enteredKey, ENTERED_READ_MEMO_MS);
    return { kind: 'pass', admission: repeatableIf(view, target, session ? { session, decision } : { decision }) };
  }

  /**
   * Notes the entry for the room's controls: who is in (for the moderator's page) and when this session
   * entered — kept as it was for a member of a locked room, so reloads do not make them a newcomer.
   */
  async #noteEntry(asking: Asking, session: LoadedSession, room: string): Promise<void> {
    const closesAt = asking.closesAt;
    if (closesAt !== undefined) this.#ctx.closings?.watch(room, closesAt);
    const member = asking.controls !== undefined && memberOfLockedRoom(asking.controls, asking.enteredAt);
    const identity = session.data.identity;
    await this.#ctx.rooms.noteEntry(room, session.hash, { sub: identity.sub, ...(identity.name ? { name: identity.name } : {}), ...(identity.guest ? { invitation: identity.guest.invitation } : {}) }, !member);
  }

  /** Remembers (in the store, for every instance) that this session's entry to the room was just recorded. */
  async #markEntered(session: LoadedSession, room: string): Promise<void> {
    const key = enteredKeyOf(session, room);
    await this.#ctx.deps.store.set(key, '1', ENTRY_RECORD_WINDOW_MS);
    this.#entered.remember(key, ENTRY_RECORD_WINDOW_MS);
  }

  /** Keeps a backend credential id in the session: the last five per room, the fifty most recent rooms. */
  async #grant(session: LoadedSession, given: { room: string; id: string }): Promise<void> {
    const admissions = roomMap(session.data.admissions);
    admissions[given.room] = [...(admissions[given.room] ?? []), given.id].slice(-5);
    const rooms = Object.keys(admissions);
    for (const stale of rooms.slice(0, Math.max(0, rooms.length - 50))) delete admissions[stale];
    await this.#ctx.sessions.update(session, { admissions });
  }

  /** Writes the allow record of a join (durably); false when it could not be written and the join must be refused. */
  async #recordJoin(request: FastifyRequest, session: LoadedSession | undefined, decision: Decision, details?: Record<string, string | boolean>): Promise<boolean> {
    try {
      await this.#ctx.audit(request, session, { type: 'room.decision', outcome: 'allow', decision, ...(details ? { details } : {}) });
      return true;
    } catch (err) {
      request.log.error({ err: (err as Error).message, room: decision.room }, 'audit append failed; join refused');
      return false;
    }
  }

}

/** When a closed time-boxed room opens next, for the refusal page. */
function opensOf(decision: Decision): Pick<Extract<Verdict, { kind: 'refuse' }>, 'opens'> {
  const schedule = decision.schedule;
  if (!schedule || schedule.open) return {};
  return { opens: { timeZone: schedule.timeZone, ...(schedule.opensAt !== undefined ? { at: schedule.opensAt } : {}) } };
}

/** Marks a pass repeatable when the request is read-only and no join (see `Admission.repeatable`). */
function repeatableIf(view: RequestView, target: Target, admission: Admission): Admission {
  if (view.ws || view.navigation || !target.readOnly) return admission;
  admission.repeatable = true;
  return admission;
}

function enteredKeyOf(session: LoadedSession, room: string): string {
  return `audit:entered:${session.hash}:${room}`;
}

/** What the backend may see of a session. */
function sessionView(session: LoadedSession): SessionView {
  return { hash: session.hash, identity: session.data.identity, admissions: roomMap(session.data.admissions) };
}

/** The request's target, read: the backend's lookup and the parts of the URL the steps need. */
export interface Target {
  lookup: Exclude<RoomLookup, { kind: 'invalid' }>;
  path: string;
  query: string;
  readOnly: boolean;
  /** Where a step sends the person back to (the whole URL, or only the path when it is long). */
  returnTo: string;
}

/** One judgement in progress: the request, what it targets, and who asks. */
interface Asking {
  request: FastifyRequest;
  view: RequestView;
  target: Target;
  session: LoadedSession | undefined;
  /** Judged from a cached session: only a pass counts, anything else is judged again from the store. */
  tentative: boolean;
  /** The room's lock and evictions as the decision saw them, and this session's last entry (read while locked). */
  controls?: RoomState;
  enteredAt?: number | undefined;
  /** A time-boxed room's close, as the decision gave it. */
  closesAt?: number;
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
    // Only a verified address reaches the upstream: one that identifies the person, never one they typed.
    ...(identity.email && identity.emailVerified ? { email: identity.email } : {}), ...(identity.name ? { name: identity.name } : {}),
    ...(room ? { room } : {}), ...(role ? { role } : {}),
  };
  const { token, iat } = signer.signed({ ...facts, iss: identity.iss }, now);
  const encoding = ctx.config.identityHeaders.encoding as HeaderEncoding;
  const entry = { iat, headers: token.then((assertion) => Object.freeze(identityHeaders({ ...facts, assertion }, encoding))) };
  const memos = byIdentity;
  memos.set(key, entry);
  entry.headers.catch(() => {
    if (memos.get(key) === entry) memos.delete(key);
  });
  return entry.headers;
}
