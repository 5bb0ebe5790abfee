// Server-side sessions. The browser holds only an opaque 256-bit random id; the store holds the session
// under the SHA-256 of that id (sealed by SealedStore). Idle and absolute timeouts are enforced here, not
// by cookie expiry. Logout deletes the record, so it ends on every instance sharing the store at once.
// A person has at most `maxPerPerson` sessions: a new one ends the oldest beyond it, so no account can
// make the store hold sessions without bound by logging in again and again.
import { LRUCache } from 'lru-cache';
import { createHash, hash as digest, randomBytes } from 'node:crypto';
import type { Store } from '../store/store.js';
import type { FactorMethod } from '../policy/types.js';
import type { Identity } from '../identity/types.js';
import { userKey } from '../identity/user-key.js';
import { RoomguardError } from '../errors.js';
import type { SessionBus } from '../store/bus.js';

export interface SessionData {
  v: 1;
  identity: Identity;
  /** OIDC session id (`sid`) when the IdP sent one; for back-channel logout. */
  sid?: string;
  /** Kept for RP-initiated logout (`id_token_hint`); sealed at rest like the rest. */
  idToken?: string;
  createdAt: number;
  lastSeenAt: number;
  /**
   * The longest pause between two requests since login (ms). A room with a shorter idle limit than the
   * gateway (risk: high) refuses the session after such a pause until a fresh login, even though the
   * refused request itself counted as activity.
   */
  maxIdleMs?: number;
  /** When the person last authenticated at the IdP (ms; from `auth_time`, else the login time). */
  authTime: number;
  /** For a passkey also its AAGUID, whether it is synced, and whether its attestation was verified (mfa.authenticators). */
  mfa?: { method: FactorMethod; at: number; uv?: boolean; aaguid?: string; synced?: boolean; attested?: boolean };
  /** Rooms (with the policy hash) whose notice the person has acknowledged in this session. */
  noticesSeen?: string[];
  /** Shorter lifetimes than the gateway's (a guest's session); absent: session.idleTimeout/absoluteTimeout. */
  limits?: SessionTimeouts;
  /** Browser description, shown on the account page's session list. */
  userAgent?: string;
  /** The network the login came from, truncated (/24, /48) so it names no household: the session list. */
  address?: string;
  /** Rooms this session was admitted to with a backend token: judged room → token ids (Jitsi signalling gate). */
  admissions?: Record<string, string[]>;
  /** The person's revocation fence when this session's login began (see #stillGranted); absent: none was set. */
  fence?: string;
}

export interface LoadedSession {
  id: string;
  /** Hash of the id: safe to log, used as the store key. */
  hash: string;
  data: SessionData;
  /** How long the session had been idle before this request (ms). */
  idleFor: number;
}

/** A new session, and the person's oldest ones it ended to stay within maxPerPerson (oldest first). */
export interface CreatedSession extends LoadedSession {
  ended: Array<{ hash: string; data: SessionData }>;
}

export interface SessionTimeouts {
  idleMs: number;
  absoluteMs: number;
}

export interface SessionOptions {
  /** Tells other instances (and this one) when a session ends or changes. */
  bus?: SessionBus;
  /** How long a session read from the store may be reused for requests that ask for it (0: never; at most 1 s). */
  cacheMs?: number;
  /** Live sessions one person may have at once; a new one ends the oldest beyond it (absent: no limit). */
  maxPerPerson?: number;
}

/** Sessions kept in the local cache at most (oldest dropped first). */
const CACHE_ENTRIES = 10_000;

const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;
/** Writing lastSeenAt on every request would double store traffic; a few seconds of slack is harmless. */
const TOUCH_INTERVAL_MS = 15_000;

export function sessionHash(id: string): string {
  // The one-shot digest (Node ≥ 20.12): a quarter of createHash()'s cost, on every request.
  return digest('sha256', id, 'hex');
}

export class Sessions {
  readonly #store: Store;
  readonly #timeouts: SessionTimeouts;
  readonly #now: () => number;
  readonly #bus: SessionBus | undefined;
  readonly #cacheMs: number;
  readonly #maxPerPerson: number;
  /** hash → session data and when it was read from the store; emptied on any gap in the bus. */
  readonly #cache = new LRUCache<string, { data: SessionData; readAt: number }>({ max: CACHE_ENTRIES });
  /** Sessions that ended or changed lately (hash → when): a store read already under way must not cache them. */
  readonly #recent: LRUCache<string, number>;
  readonly #unsubscribe: Array<() => void> = [];

  constructor(store: Store, timeouts: SessionTimeouts, now: () => number = Date.now, options: SessionOptions = {}) {
    this.#store = store;
    this.#timeouts = timeouts;
    this.#now = now;
    this.#bus = options.bus;
    this.#cacheMs = Math.min(Math.max(options.cacheMs ?? 0, 0), 1000);
    // Long enough to outlast any store read that started before the change (reads take well under a second).
    this.#recent = new LRUCache<string, number>({ max: CACHE_ENTRIES, ttl: Math.max(2 * this.#cacheMs, 1) });
    this.#maxPerPerson = Math.max(options.maxPerPerson ?? Infinity, 1);
    if (this.#bus && this.#cacheMs > 0) {
      this.#unsubscribe.push(this.#bus.subscribe((event) => this.#forget(event.hash)), this.#bus.onGap(() => this.#cache.clear()));
    }
  }

  /** Stops listening to the bus (an app generation retired after a reload). */
  close(): void {
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    this.#cache.clear();
  }

  /** Session ended or changed: every instance drops its cached copy, and ended ones close their WebSockets. */
  async #announce(kind: 'ended' | 'changed', hash: string): Promise<void> {
    this.#forget(hash);
    await this.#bus?.publish({ kind, hash });
  }

  #forget(hash: string): void {
    if (this.#cacheMs === 0) return;
    this.#cache.delete(hash);
    this.#recent.set(hash, Date.now());
  }

  /** Keeps what a store read returned, unless the session ended or changed while that read was under way. */
  #remember(hash: string, data: SessionData, readStartedAt: number): void {
    if (this.#cacheMs === 0 || !this.#bus?.live) return;
    const touched = this.#recent.get(hash);
    if (touched !== undefined && touched >= readStartedAt) return;
    this.#cache.set(hash, { data, readAt: readStartedAt });
  }

  /** A cached copy young enough to trust, or undefined (read the store). */
  #cached(hash: string): SessionData | undefined {
    const entry = this.#cache.get(hash);
    if (!entry) return undefined;
    if (!this.#bus?.live || Date.now() - entry.readAt >= this.#cacheMs) {
      this.#cache.delete(hash);
      return undefined;
    }
    return entry.data;
  }

  #key(hash: string): string {
    return `session:${hash}`;
  }

  /** Index of a person's sessions (hashes), for the account page and revocation. */
  #indexKey(sub: string): string {
    return `sessions:user:${userKey(sub)}`;
  }

  /** Index of the sessions of one IdP session (`sid`), for back-channel logout. */
  #sidKey(sid: string): string {
    return `sessions:sid:${createHash('sha256').update(sid).digest('hex')}`;
  }

  /** Written by every revocation of all of a person's sessions, before it reads their index. */
  #fenceKey(sub: string): string {
    return `sessions:fence:${userKey(sub)}`;
  }

  /** Written by a back-channel logout of one IdP session (`sid`), before it reads that session's index. */
  #sidEndedKey(sid: string): string {
    return `sessions:sid-ended:${createHash('sha256').update(sid).digest('hex')}`;
  }

  /**
   * Whether a session just written and indexed may live, or a revocation ran while it was being made.
   * A revocation (destroyAllFor, destroyBySid) first writes its mark (W), then reads the index (I); a new
   * session is first indexed (X), then checked here (C). Store operations are atomic and each side waits
   * for one before the next, so if C does not see W, then X < C < W < I and the revocation finds the
   * session in the index; if C sees W, the session is ended here. For a person's revocations the mark is
   * a fresh value, compared with the one the session (or the session it was rotated from) carried when
   * its login began: a step-up that took its old session just before the revocation read the index
   * cannot carry the old grant past it. A login that begins after the mark is a new login, and stays.
   */
  async #stillGranted(data: SessionData): Promise<boolean> {
    const fence = await this.#store.get(this.#fenceKey(data.identity.sub));
    if (fence !== null && fence !== data.fence) return false;
    return !data.sid || (await this.#store.get(this.#sidEndedKey(data.sid))) === null;
  }

  /** Ends a session that #stillGranted refused, and tells the caller the login did not hold. */
  async #revokedWhileMade(data: SessionData, hash: string): Promise<never> {
    await this.destroy({ hash, data });
    throw new RoomguardError('RG_LOGIN_REQUIRED', 'a revocation ran while this session was being made');
  }

  async #index(data: SessionData, hash: string): Promise<void> {
    await this.#store.addMember(this.#indexKey(data.identity.sub), hash, this.#limitsOf(data).absoluteMs);
    if (data.sid) await this.#store.addMember(this.#sidKey(data.sid), hash, this.#limitsOf(data).absoluteMs);
  }

  #ttl(data: SessionData, now: number): number {
    const limits = this.#limitsOf(data);
    return Math.min(data.lastSeenAt + limits.idleMs, data.createdAt + limits.absoluteMs) - now;
  }

  /** A session's own lifetimes, never longer than the gateway's. */
  #limitsOf(data: SessionData): SessionTimeouts {
    if (!data.limits) return this.#timeouts;
    return { idleMs: Math.min(data.limits.idleMs, this.#timeouts.idleMs), absoluteMs: Math.min(data.limits.absoluteMs, this.#timeouts.absoluteMs) };
  }

  /** A new session for a person; ends their oldest sessions beyond maxPerPerson (on every instance). */
  async create(identity: Identity, extras: Partial<Pick<SessionData, 'sid' | 'idToken' | 'mfa' | 'authTime' | 'userAgent' | 'address' | 'limits'>> = {}): Promise<CreatedSession> {
    const fence = (await this.#store.get(this.#fenceKey(identity.sub))) ?? undefined;
    const now = this.#now();
    const id = randomBytes(32).toString('base64url');
    const hash = sessionHash(id);
    const data: SessionData = { v: 1, identity, createdAt: now, lastSeenAt: now, authTime: now, ...stripUndefined(extras), ...(fence ? { fence } : {}) };
    await this.#store.set(this.#key(hash), JSON.stringify(data), this.#ttl(data, now));
    await this.#index(data, hash);
    if (!(await this.#stillGranted(data))) await this.#revokedWhileMade(data, hash);
    return { id, hash, data, idleFor: 0, ended: await this.#endBeyondLimit(identity.sub, hash) };
  }

  /**
   * Ends the person's oldest sessions (by login time; a step-up keeps it) so that with `keep` they have at
   * most maxPerPerson. Two logins racing see the same list and end the same old ones; with a limit of 1
   * they may end each other, and the person logs in once more.
   */
  async #endBeyondLimit(sub: string, keep: string): Promise<Array<{ hash: string; data: SessionData }>> {
    if (!Number.isFinite(this.#maxPerPerson)) return [];
    const others = (await this.listFor(sub)).filter((session) => session.hash !== keep);
    const beyond = others.slice(this.#maxPerPerson - 1).reverse();
    for (const session of beyond) await this.destroy(session);
    return beyond;
  }

  /**
   * The live session for a cookie value, or undefined when it is unknown, malformed or timed out.
   * With `cached`, a copy read from the store less than `cacheMs` ago may answer (sub-resource requests);
   * the bus removes it at once when the session ends anywhere, and it is never used while the bus is down.
   */
  async load(id: string | undefined, options: { cached?: boolean } = {}): Promise<LoadedSession | undefined> {
    if (!id || !SESSION_ID.test(id)) return undefined;
    const hash = sessionHash(id);
    if (options.cached) {
      const data = this.#cached(hash);
      const now = this.#now();
      if (data && now - data.lastSeenAt < TOUCH_INTERVAL_MS && now - data.createdAt < this.#limitsOf(data).absoluteMs) {
        return { id, hash, data, idleFor: Math.max(0, now - data.lastSeenAt) };
      }
    }
    const readStartedAt = Date.now();
    const raw = await this.#store.get(this.#key(hash));
    if (raw === null) return undefined;
    let data: SessionData;
    try {
      data = sessionDataOf(raw);
    } catch {
      return undefined;
    }
    if (data.v !== 1) return undefined;
    const now = this.#now();
    const idleFor = Math.max(0, now - data.lastSeenAt);
    const limits = this.#limitsOf(data);
    if (idleFor >= limits.idleMs || now - data.createdAt >= limits.absoluteMs) {
      await this.destroy({ hash, data });
      return undefined;
    }
    if (idleFor >= TOUCH_INTERVAL_MS) {
      data = { ...data, lastSeenAt: now, ...(idleFor > (data.maxIdleMs ?? 0) ? { maxIdleMs: idleFor } : {}) };
      // Only if it still exists: a request in flight must not bring back a session that was just ended.
      if (!(await this.#store.replace(this.#key(hash), JSON.stringify(data), this.#ttl(data, now)))) return undefined;
    }
    this.#remember(hash, data, readStartedAt);
    return { id, hash, data, idleFor };
  }

  /** Changes session data in place (same id), e.g. an acknowledged notice. */
  async update<S extends LoadedSession>(session: S, changes: Partial<Pick<SessionData, 'noticesSeen' | 'admissions'>>): Promise<S> {
    const now = this.#now();
    const data: SessionData = { ...session.data, ...changes, lastSeenAt: now };
    // Never recreate a session that was ended (logout, revocation) while this request was under way.
    if (!(await this.#store.replace(this.#key(session.hash), JSON.stringify(data), this.#ttl(data, now)))) throw new RoomguardError('RG_LOGIN_REQUIRED', 'the session ended');
    await this.#announce('changed', session.hash);
    return { ...session, data };
  }

  /** Replaces the session id (after login or step-up) and stores new data under it. */
  async rotate(old: LoadedSession, changes: Partial<Pick<SessionData, 'mfa'>>): Promise<LoadedSession> {
    // Take the old record first: a session ended meanwhile is not reborn under a new id.
    if ((await this.#store.take(this.#key(old.hash))) === null) throw new RoomguardError('RG_LOGIN_REQUIRED', 'the session ended');
    const now = this.#now();
    const id = randomBytes(32).toString('base64url');
    const hash = sessionHash(id);
    const data: SessionData = { ...old.data, ...changes, lastSeenAt: now };
    await this.#store.set(this.#key(hash), JSON.stringify(data), this.#ttl(data, now));
    await this.#index(data, hash);
    await this.#ended(old); // its record is gone already (taken above)
    // The new session carries the old one's fence: a revocation since that login ends it here.
    if (!(await this.#stillGranted(data))) await this.#revokedWhileMade(data, hash);
    return { id, hash, data, idleFor: 0 };
  }

  /**
   * Ends a session on every instance. True when this call ended it, false when it had ended already: the
   * record is taken, not just deleted, so of two callers racing to end one session (a revocation and the
   * request that made it) exactly one counts it, and audit counts add up.
   */
  async destroy(session: Pick<LoadedSession, 'hash' | 'data'>): Promise<boolean> {
    const ended = (await this.#store.take(this.#key(session.hash))) !== null;
    await this.#ended(session);
    return ended;
  }

  /** A session whose record is gone: every instance is told, and the indexes drop it. */
  async #ended(session: Pick<LoadedSession, 'hash' | 'data'>): Promise<void> {
    await this.#announce('ended', session.hash);
    await this.#store.removeMember(this.#indexKey(session.data.identity.sub), session.hash);
    if (session.data.sid) await this.#store.removeMember(this.#sidKey(session.data.sid), session.hash);
  }

  /** Ends every session that came from one IdP session (back-channel logout by `sid`). */
  async destroyBySid(sid: string): Promise<number> {
    // The mark first (a session made with this sid from now on ends itself, see #stillGranted), then the index.
    await this.#store.set(this.#sidEndedKey(sid), '1', this.#timeouts.absoluteMs);
    let ended = 0;
    for (const hash of await this.#store.members(this.#sidKey(sid))) {
      const raw = await this.#store.get(this.#key(hash));
      if (raw) {
        if (await this.destroy({ hash, data: sessionDataOf(raw) })) ended++;
      } else await this.#store.removeMember(this.#sidKey(sid), hash);
    }
    return ended;
  }

  /** A session by the hash of its id (admin tools; the id itself is never stored). */
  async byHash(hash: string): Promise<{ hash: string; data: SessionData } | undefined> {
    if (!/^[0-9a-f]{64}$/.test(hash)) return undefined;
    const raw = await this.#store.get(this.#key(hash));
    return raw ? { hash, data: sessionDataOf(raw) } : undefined;
  }

  /** Whether a session (by hash) still exists: open WebSockets of ended sessions are closed. */
  async exists(hash: string): Promise<boolean> {
    return (await this.#store.get(this.#key(hash))) !== null;
  }

  /** Calls back with the hash of every session that ends, on any instance sharing the bus. */
  onEnded(listener: (hash: string) => void): () => void {
    return this.#bus?.subscribe((event) => {
      if (event.kind === 'ended') listener(event.hash);
    }) ?? (() => undefined);
  }

  /**
   * Calls back when the bus may have missed events (it dropped, and again once it is subscribed anew):
   * whoever relies on onEnded must look in the store then (existing) for what it may have missed.
   */
  onEventsMissed(listener: () => void): () => void {
    return this.#bus?.onGap(listener) ?? (() => undefined);
  }

  /** Which of these sessions (by hash) still exist, in one store round trip where the store can. */
  async existing(hashes: string[]): Promise<Set<string>> {
    const records = await this.#store.getMany(hashes.map((hash) => this.#key(hash)));
    return new Set(hashes.filter((_, i) => records[i] !== null));
  }

  /** Whether ended sessions are reported by the bus right now (else callers must poll the store). */
  get endsAreReported(): boolean {
    return this.#bus?.live ?? false;
  }

  /** A person's live sessions (by hash), newest first; stale index entries are dropped on the way. */
  async listFor(sub: string): Promise<Array<{ hash: string; data: SessionData }>> {
    const out: Array<{ hash: string; data: SessionData }> = [];
    const now = this.#now();
    for (const hash of await this.#store.members(this.#indexKey(sub))) {
      const raw = await this.#store.get(this.#key(hash));
      const data = raw ? sessionDataOf(raw) : undefined;
      if (!data || data.v !== 1 || now - data.lastSeenAt >= this.#limitsOf(data).idleMs || now - data.createdAt >= this.#limitsOf(data).absoluteMs) {
        await this.#store.removeMember(this.#indexKey(sub), hash);
        continue;
      }
      out.push({ hash, data });
    }
    return out.sort((x, y) => y.data.createdAt - x.data.createdAt);
  }

  /** Ends every session of a person except `keep` (by hash); returns how many ended. */
  async destroyAllFor(sub: string, keep?: string): Promise<number> {
    // A fresh fence first, then the index (see #stillGranted). Sessions made or rotated meanwhile end themselves.
    const fence = randomBytes(16).toString('base64url');
    await this.#store.set(this.#fenceKey(sub), fence, this.#timeouts.absoluteMs);
    let ended = 0;
    for (const session of await this.listFor(sub)) {
      if (session.hash === keep) {
        // The session kept (the person's own, on the account page) passes the new fence.
        const data: SessionData = { ...session.data, fence };
        const ttl = this.#ttl(data, this.#now());
        if (ttl > 0 && (await this.#store.replace(this.#key(session.hash), JSON.stringify(data), ttl))) await this.#announce('changed', session.hash);
        continue;
      }
      if (await this.destroy(session)) ended++;
    }
    return ended;
  }
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Session data from its stored JSON. Maps keyed by room names get no prototype: otherwise a room named
 * `constructor` or `__proto__` would be found in every session's admissions.
 */
export function sessionDataOf(raw: string): SessionData {
  const data = JSON.parse(raw) as SessionData;
  if (data.admissions) data.admissions = roomMap(data.admissions);
  return data;
}

/** A copy of a map keyed by room names, without a prototype to inherit names from. */
export function roomMap<T>(entries: Readonly<Record<string, T>> | undefined): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, entries ?? {});
}
