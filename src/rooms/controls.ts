// Lock and evict: what an admin (`roomguard rooms …`) or a room's moderator (/_roomguard/rooms/<room>)
// set on a room at run time, kept in the shared store and announced on the session bus, so every
// instance knows within a second. The gateway hands the state to decide(), which rules on it.
import { createHash } from 'node:crypto';
import type { Store } from '../store/store.js';
import type { SessionBus } from '../store/bus.js';
import type { RoomState } from '../policy/types.js';

/** A lock lasts until it is lifted (a year at most, so a forgotten key does not live for ever). */
const LOCK_TTL_MS = 366 * 86_400_000;
/** A person evicted from a room stays out this long, or until the room is unlocked. */
export const EVICTION_BAR_MS = 12 * 3_600_000;
/** Admissions older than this are gone anyway (sessions, tokens, joins): "everyone evicted" need not be kept longer. */
const EVICT_ALL_TTL_MS = 2 * 86_400_000;
/** When this session was last admitted to a room, for "admits nobody new" while locked. */
const ENTERED_TTL_MS = 86_400_000;
/** Without a live bus a state read from the store is trusted this long. */
const UNCACHED_MS = 1000;
/** Even with a live bus a cached state is read again after this long (an event lost without a reported gap). */
const CACHED_MAX_MS = 15_000;

const lockKey = (room: string) => `room:lock:${room}`;
const evictAllKey = (room: string) => `room:evicted-all:${room}`;
const evictedKey = (room: string) => `room:evicted:${room}`;
const evictedInvitationsKey = (room: string) => `room:evicted-invitations:${room}`;
const enteredKey = (room: string, sessionHash: string) => `room:entered:${room}:${sessionHash}`;
const peopleKey = (room: string) => `room:people:${room}`;

/** The bus carries a room's changes as the hash of its name (it carries hashes only). */
export function roomEventHash(room: string): string {
  return createHash('sha256').update(`room\n${room}`).digest('hex');
}

/** Somebody who entered a room lately, for the moderator's page (and the CLI's `--user`). */
export interface RoomPerson {
  sub: string;
  name?: string;
  /** A guest's invitation (short id): evicting the guest keeps that invitation's guests out too. */
  invitation?: string;
}

/** `at|value` members of an eviction set still within EVICTION_BAR_MS, as value → latest `at`. */
function barred(members: string[], now: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const member of members) {
    const at = Number(member.slice(0, member.indexOf('|')));
    const value = member.slice(member.indexOf('|') + 1);
    if (Number.isFinite(at) && now - at < EVICTION_BAR_MS) out.set(value, Math.max(at, out.get(value) ?? 0));
  }
  return out;
}

export class RoomControls {
  readonly #store: Store;
  readonly #bus: SessionBus | undefined;
  readonly #now: () => number;
  readonly #cache = new Map<string, { state: RoomState; readAt: number }>();
  readonly #unsubscribe: Array<() => void> = [];
  /**
   * Bumped by every room event and bus gap (and this instance's own changes): a store read that was under
   * way when the generation moved may hold the state from before the change, so it is not cached.
   */
  #generation = 0;

  constructor(store: Store, bus: SessionBus | undefined, now: () => number = Date.now) {
    this.#store = store;
    this.#bus = bus;
    this.#now = now;
    if (bus) {
      this.#unsubscribe.push(bus.subscribe((event) => {
        if (event.kind !== 'room') return;
        this.#generation++;
        for (const room of this.#cache.keys()) if (roomEventHash(room) === event.hash) this.#cache.delete(room);
      }), bus.onGap(() => {
        this.#generation++;
        this.#cache.clear();
      }));
    }
  }

  stop(): void {
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
  }

  /** Calls back with the event hash (roomEventHash) of every room whose lock or evictions change, on any instance. */
  onChange(listener: (hash: string) => void): () => void {
    return this.#bus?.subscribe((event) => {
      if (event.kind === 'room') listener(event.hash);
    }) ?? (() => undefined);
  }

  /**
   * The room's lock and evictions: from memory while the bus reports changes (at most CACHED_MAX_MS), else
   * from the store; `fresh` always reads the store (re-checks after a gap and on a timer).
   */
  async state(room: string, fresh = false): Promise<RoomState> {
    const cached = this.#cache.get(room);
    const age = Date.now() - (cached?.readAt ?? 0);
    if (cached && !fresh && (this.#bus?.live ? age < CACHED_MAX_MS : age < UNCACHED_MS)) return cached.state;
    const readAt = Date.now();
    const generation = this.#generation;
    const [lock, everyone, evicted, invitations] = await Promise.all([
      this.#store.get(lockKey(room)), this.#store.get(evictAllKey(room)), this.#store.members(evictedKey(room)), this.#store.members(evictedInvitationsKey(room)),
    ]);
    const now = this.#now();
    const people = barred(evicted, now);
    const evictedInvitations = barred(invitations, now);
    const parsedLock = lock ? (JSON.parse(lock) as { at: number; by: string }) : undefined;
    const state: RoomState = {
      ...(parsedLock ? { lock: parsedLock } : {}),
      ...(everyone ? { everyoneEvictedAt: Number(everyone) } : {}),
      evicted: people,
      ...(evictedInvitations.size > 0 ? { evictedInvitations } : {}),
    };
    if (this.#cache.size > 10_000) this.#cache.clear();
    // A room event or gap while the read was under way: the answer may predate it, so it is not kept.
    if (generation === this.#generation) this.#cache.set(room, { state, readAt });
    return state;
  }

  /** When this session was last admitted to the room (undefined: not in the last day). */
  async enteredAt(room: string, sessionHash: string): Promise<number | undefined> {
    const value = await this.#store.get(enteredKey(room, sessionHash));
    return value === null ? undefined : Number(value);
  }

  /**
   * Notes an admission: who entered (for the moderator's list) and, with `refresh`, when this session
   * entered (a member of a locked room keeps its earlier time, so reloads do not make it a newcomer).
   */
  async noteEntry(room: string, sessionHash: string, person: RoomPerson, refresh: boolean): Promise<void> {
    await this.#store.addMember(peopleKey(room), JSON.stringify(person), ENTERED_TTL_MS);
    if (refresh) await this.#store.set(enteredKey(room, sessionHash), String(this.#now()), ENTERED_TTL_MS);
  }

  /** People who entered the room in the last day. */
  async people(room: string): Promise<RoomPerson[]> {
    const out = new Map<string, RoomPerson>();
    for (const member of await this.#store.members(peopleKey(room))) {
      try {
        const person = JSON.parse(member) as RoomPerson;
        if (typeof person.sub === 'string') out.set(person.sub, { ...out.get(person.sub), ...person });
      } catch {
        // not ours: skipped
      }
    }
    return [...out.values()].sort((a, b) => (a.name ?? a.sub).localeCompare(b.name ?? b.sub));
  }

  async lock(room: string, by: string): Promise<void> {
    await this.#store.set(lockKey(room), JSON.stringify({ at: this.#now(), by }), LOCK_TTL_MS);
    await this.#announce(room);
  }

  /** Lifts the lock, and the bars of people evicted from the room. */
  async unlock(room: string): Promise<void> {
    await this.#store.deleteMany([lockKey(room), evictedKey(room), evictedInvitationsKey(room)]);
    await this.#announce(room);
  }

  /**
   * Ends the admission of one person (kept out for EVICTION_BAR_MS or until unlock) or of everyone admitted
   * so far. A guest is kept out with their invitation: every use of it makes a new guest, so the same link
   * would bring them straight back; the invitation's guests are refused for as long (its id is returned).
   */
  async evict(room: string, target: { sub: string } | 'everyone'): Promise<{ at: number; invitation?: string }> {
    const at = this.#now();
    let invitation: string | undefined;
    if (target === 'everyone') await this.#store.set(evictAllKey(room), String(at), EVICT_ALL_TTL_MS);
    else {
      await this.#store.addMember(evictedKey(room), `${at}|${target.sub}`, EVICTION_BAR_MS);
      invitation = (await this.people(room)).find((p) => p.sub === target.sub)?.invitation;
      if (invitation !== undefined) await this.#store.addMember(evictedInvitationsKey(room), `${at}|${invitation}`, EVICTION_BAR_MS);
    }
    await this.#announce(room);
    return { at, ...(invitation !== undefined ? { invitation } : {}) };
  }

  async #announce(room: string): Promise<void> {
    this.#generation++;
    this.#cache.delete(room);
    await this.#bus?.publish({ kind: 'room', hash: roomEventHash(room) });
  }
}
