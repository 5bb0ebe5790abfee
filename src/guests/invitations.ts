// Guest invitations in the shared store: a ≥128-bit random token goes into the link, only its SHA-256 is
// stored; each invitation is bound to one canonical room, expires, and counts its uses with the store's
// atomic increment, so two guests racing for the last use cannot both get in, on any number of instances.
import { createHash, randomBytes } from 'node:crypto';
import type { Store } from '../store/store.js';
import type { ErrorCode } from '../errors.js';

/** After expiry (or revocation) a record is kept this long, so a late guest learns why, and moderators see the history. */
export const INVITATION_HISTORY_MS = 7 * 86_400_000;
/** What `createdBy` says once its person was erased. */
export const ERASED = '(erased)';
/** Admissions remembered per invitation for the moderator's page (the audit log keeps them all). */
const ADMISSIONS_SHOWN = 50;
const TOKEN_BYTES = 24;
const TOKEN = /^[A-Za-z0-9_-]{32}$/;

export interface Invitation {
  /** Short public id (start of the token's hash): shown to moderators, used to revoke; it does not open anything. */
  id: string;
  room: string;
  note: string;
  createdAt: number;
  expiresAt: number;
  maxUses: number;
  /** Who created it, for moderators to read (account name or `cli:<user>`). */
  createdBy: string;
  /**
   * The creator's store name (`userKey(sub)`) when a person created it: how erasure and the access export
   * find every invitation that names them (through the `guest:person:` index), never by display name.
   */
  creator?: string;
  revokedAt?: number;
  revokedBy?: string;
  /** The revoker's store name, as `creator`. */
  revoker?: string;
}

export interface GuestAdmission {
  at: number;
  name: string;
}

export type InvitationState = 'active' | 'expired' | 'used-up' | 'revoked';

export interface InvitationView extends Invitation {
  used: number;
  usesLeft: number;
  state: InvitationState;
  admissions: GuestAdmission[];
}

export type GuestRefusal = Extract<ErrorCode, `RG_GUEST_${string}`>;

export type Redemption =
  | { ok: true; invitation: Invitation; use: number }
  | { ok: false; code: GuestRefusal; invitation?: Invitation };

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Whether a string has the shape of an invitation token (checked before any store lookup). */
export function isInvitationToken(token: unknown): token is string {
  return typeof token === 'string' && TOKEN.test(token);
}

export class Invitations {
  readonly #store: Store;
  readonly #now: () => number;

  constructor(store: Store, now: () => number = Date.now) {
    this.#store = store;
    this.#now = now;
  }

  #record(hash: string) {
    return `guest:invite:${hash}`;
  }
  #uses(hash: string) {
    return `guest:uses:${hash}`;
  }
  #admission(hash: string, use: number) {
    return `guest:admission:${hash}:${use}`;
  }
  #room(room: string) {
    return `guest:room:${createHash('sha256').update(room).digest('hex')}`;
  }
  #sessions(hash: string) {
    return `guest:sessions:${hash}`;
  }
  /** The invitations that name one person (as creator or revoker), by their store name. */
  #person(ref: string) {
    return `guest:person:${ref}`;
  }

  async #index(ref: string | undefined, hash: string, invitation: Invitation): Promise<void> {
    if (ref !== undefined) await this.#store.addMember(this.#person(ref), hash, this.#keep(invitation));
  }

  #keep(invitation: Invitation): number {
    return Math.max(1, invitation.expiresAt + INVITATION_HISTORY_MS - this.#now());
  }

  /** `creator`: the creator's store name (`userKey(sub)`) when a person creates it, so erasure can find it. */
  async create(input: { room: string; ttlMs: number; maxUses: number; note: string; createdBy: string; creator?: string }): Promise<{ token: string; invitation: Invitation }> {
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    const hash = tokenHash(token);
    const now = this.#now();
    const invitation: Invitation = {
      id: hash.slice(0, 16), room: input.room, note: input.note, createdAt: now, expiresAt: now + input.ttlMs, maxUses: input.maxUses, createdBy: input.createdBy,
      ...(input.creator !== undefined ? { creator: input.creator } : {}),
    };
    // Indexed before the record exists: erasure must never meet a record naming a person it cannot find.
    await this.#index(input.creator, hash, invitation);
    await this.#store.set(this.#record(hash), JSON.stringify(invitation), this.#keep(invitation));
    await this.#store.addMember(this.#room(input.room), hash, input.ttlMs + INVITATION_HISTORY_MS);
    return { token, invitation };
  }

  async #load(hash: string): Promise<Invitation | undefined> {
    const raw = await this.#store.get(this.#record(hash));
    return raw ? (JSON.parse(raw) as Invitation) : undefined;
  }

  /**
   * How many uses were claimed. The claim counter itself is a plain number the sealed store cannot read
   * back, so this finds the highest use whose admission record exists (uses are claimed 1, 2, 3 …): a
   * binary search of at most log2(maxUses) reads. Only for display and the early check; redeem() decides.
   */
  async #used(hash: string, maxUses: number): Promise<number> {
    let low = 0;
    let high = maxUses;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      if ((await this.#store.get(this.#admission(hash, mid))) !== null) low = mid;
      else high = mid - 1;
    }
    return low;
  }

  #state(invitation: Invitation, used: number): InvitationState {
    if (invitation.revokedAt !== undefined) return 'revoked';
    if (this.#now() >= invitation.expiresAt) return 'expired';
    return used >= invitation.maxUses ? 'used-up' : 'active';
  }

  /** What a link would meet, without using it up (the page before the name form). */
  async check(token: string, room: string): Promise<Redemption> {
    const hash = tokenHash(token);
    const invitation = await this.#load(hash);
    const refusal = invitation ? this.#refusal(invitation, room) : 'RG_GUEST_INVITE_UNKNOWN';
    if (refusal) return { ok: false, code: refusal, ...(invitation ? { invitation } : {}) };
    if ((await this.#used(hash, invitation!.maxUses)) >= invitation!.maxUses) return { ok: false, code: 'RG_GUEST_INVITE_USED_UP', invitation: invitation! };
    return { ok: true, invitation: invitation!, use: 0 };
  }

  #refusal(invitation: Invitation, room: string): GuestRefusal | undefined {
    if (invitation.room !== room) return 'RG_GUEST_WRONG_ROOM';
    if (invitation.revokedAt !== undefined) return 'RG_GUEST_INVITE_REVOKED';
    if (this.#now() >= invitation.expiresAt) return 'RG_GUEST_INVITE_EXPIRED';
    return undefined;
  }

  /**
   * Uses the invitation once for `room`, or says why not, and records the admission under the use number.
   * The use is claimed with the store's atomic increment, so of two guests racing for the last use exactly
   * one sees a number within maxUses, on any number of instances.
   */
  async redeem(token: string, room: string, admission: GuestAdmission): Promise<Redemption> {
    const hash = tokenHash(token);
    const invitation = await this.#load(hash);
    if (!invitation) return { ok: false, code: 'RG_GUEST_INVITE_UNKNOWN' };
    const refusal = this.#refusal(invitation, room);
    if (refusal) return { ok: false, code: refusal, invitation };
    const use = await this.#store.increment(this.#uses(hash), this.#keep(invitation));
    if (use > invitation.maxUses) return { ok: false, code: 'RG_GUEST_INVITE_USED_UP', invitation };
    // Read again after claiming: a revocation written meanwhile (on any instance) wins.
    const current = await this.#load(hash);
    const late = current ? this.#refusal(current, room) : 'RG_GUEST_INVITE_REVOKED';
    if (late) return { ok: false, code: late, invitation: current ?? invitation };
    await this.#store.set(this.#admission(hash, use), JSON.stringify(admission), this.#keep(current!));
    return { ok: true, invitation: current!, use };
  }

  /**
   * Remembers the guest session an invitation opened, so that revoking the invitation ends it too, and
   * then reads the invitation again: `ok: false` when it was revoked (or expired) meanwhile, on any
   * instance — the caller ends the session and refuses the guest.
   *
   * Why reading again after linking closes the race with revoke(), whatever the interleaving: revoke()
   * (R1) writes the revoked record, then (R2) reads the linked sessions; this (L1) adds the session to
   * that set, then (L2) reads the record. Every store operation is atomic, and each caller waits for one
   * answer before the next step, so all four fall into one order that keeps R1 before R2 and L1 before
   * L2. If L2 still reads the invitation unrevoked, L2 came before R1, hence L1 < L2 < R1 < R2 and R2
   * sees this session: the revocation ends it. Otherwise L2 sees the revocation and the guest is refused
   * here. There is no third case. (The argument needs no two keys in one place: it holds on a Cluster,
   * where the record and the set may live on different nodes.) A session linked after R2 may be dropped
   * by revoke()'s delete of the set, but its L2 comes after R1 and refuses it.
   */
  async linkSession(token: string, room: string, sessionHash: string, sessionTtlMs: number): Promise<{ ok: true } | { ok: false; code: GuestRefusal; invitation?: Invitation }> {
    const hash = tokenHash(token);
    await this.#store.addMember(this.#sessions(hash), sessionHash, sessionTtlMs);
    const current = await this.#load(hash);
    if (!current) return { ok: false, code: 'RG_GUEST_INVITE_REVOKED' };
    const refusal = this.#refusal(current, room);
    return refusal ? { ok: false, code: refusal, invitation: current } : { ok: true };
  }

  /** The room's invitations, newest first, with uses and recent admissions; forgotten ones drop out of the index. */
  async list(room: string): Promise<InvitationView[]> {
    const out: InvitationView[] = [];
    for (const hash of await this.#store.members(this.#room(room))) {
      const invitation = await this.#load(hash);
      if (!invitation) {
        await this.#store.removeMember(this.#room(room), hash);
        continue;
      }
      const used = await this.#used(hash, invitation.maxUses);
      const admissions: GuestAdmission[] = [];
      for (let use = used; use >= 1 && admissions.length < ADMISSIONS_SHOWN; use--) {
        const entry = await this.#store.get(this.#admission(hash, use));
        if (entry) admissions.push(JSON.parse(entry) as GuestAdmission);
      }
      out.push({ ...invitation, used, usesLeft: Math.max(0, invitation.maxUses - used), state: this.#state(invitation, used), admissions });
    }
    return out.sort((a, b) => b.createdAt - a.createdAt);
  }

  /**
   * Revokes an invitation of `room` by its id (or a unique prefix of at least 6 characters). Returns it and
   * the hashes of the guest sessions it opened, which the caller ends; undefined when there is no such invitation.
   * The revoked record is written before the linked sessions are read: linkSession() relies on that order.
   */
  async revoke(room: string, id: string, by: string, byRef?: string): Promise<{ invitation: Invitation; sessions: string[] } | undefined> {
    if (!/^[0-9a-f]{6,64}$/.test(id)) return undefined;
    const matches = (await this.#store.members(this.#room(room))).filter((h) => h.startsWith(id));
    if (matches.length !== 1) return undefined;
    const hash = matches[0]!;
    const invitation = await this.#load(hash);
    if (!invitation) return undefined;
    const first = invitation.revokedAt === undefined;
    const revoked: Invitation = first ? { ...invitation, revokedAt: this.#now(), revokedBy: by, ...(byRef !== undefined ? { revoker: byRef } : {}) } : invitation;
    if (first) await this.#index(byRef, hash, revoked);
    if (!(await this.#store.replace(this.#record(hash), JSON.stringify(revoked), this.#keep(revoked)))) return undefined;
    const sessions = await this.#store.members(this.#sessions(hash));
    await this.#store.delete(this.#sessions(hash));
    return { invitation: revoked, sessions };
  }

  /** The invitations that name the person with store name `ref` as creator or revoker, as moderators see them. */
  async ofPerson(ref: string): Promise<InvitationView[]> {
    const hashes = new Set(await this.#store.members(this.#person(ref)));
    const rooms = new Set<string>();
    for (const hash of hashes) {
      const invitation = await this.#load(hash);
      if (invitation && (invitation.creator === ref || invitation.revoker === ref)) rooms.add(invitation.room);
    }
    const out: InvitationView[] = [];
    for (const room of rooms) out.push(...(await this.list(room)).filter((v) => (v.creator === ref || v.revoker === ref)));
    return out;
  }

  /**
   * Invitations written before they carried a store name (no `creator`): erasure can only find them through
   * the person's `guest.invite_created` records and forget the creator's display name (and the revoker's,
   * where it is the same). They go with their expiry anyway. False when there is no such invitation.
   */
  async forgetLegacyCreator(room: string, id: string): Promise<boolean> {
    const hash = (await this.#store.members(this.#room(room))).find((h) => h.startsWith(id));
    const invitation = hash ? await this.#load(hash) : undefined;
    if (!hash || !invitation || invitation.creator !== undefined || invitation.createdBy === ERASED || invitation.createdBy.startsWith('cli:')) return false;
    const forgotten: Invitation = { ...invitation, createdBy: ERASED, ...(invitation.revokedBy === invitation.createdBy ? { revokedBy: ERASED } : {}) };
    return this.#store.replace(this.#record(hash), JSON.stringify(forgotten), this.#keep(forgotten));
  }

  /**
   * Forgets the person with store name `ref` wherever an invitation names them (creator, revoker) — their
   * erasure (GDPR Art. 17): the invitations themselves stay as they are for the guests who hold them.
   * Returns how many invitations changed.
   */
  async forgetPerson(ref: string): Promise<number> {
    let changed = 0;
    for (const hash of await this.#store.members(this.#person(ref))) {
      const invitation = await this.#load(hash);
      if (!invitation || (invitation.creator !== ref && invitation.revoker !== ref)) continue;
      const { creator, revoker, ...rest } = invitation;
      const forgotten: Invitation = {
        ...rest,
        ...(creator === ref ? { createdBy: ERASED } : creator !== undefined ? { creator } : {}),
        ...(revoker === ref ? { revokedBy: ERASED } : revoker !== undefined ? { revoker } : {}),
      };
      if (await this.#store.replace(this.#record(hash), JSON.stringify(forgotten), this.#keep(forgotten))) changed++;
    }
    await this.#store.delete(this.#person(ref));
    return changed;
  }
}
