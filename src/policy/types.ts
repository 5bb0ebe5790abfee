// The typed shape of a room policy and of a decision. Shared by the parser, decide(), explain and the gateway.
import type { Identity, Role } from '../identity/types.js';
import type { Schedule } from './schedule.js';

export type Risk = 'low' | 'normal' | 'high';
export type MfaMethod = 'webauthn' | 'totp' | 'idp';
export const MFA_METHODS: readonly MfaMethod[] = ['webauthn', 'totp', 'idp'];
/** How a session's second factor was confirmed: a policy method, or a recovery code (accepted where totp is). */
export type FactorMethod = MfaMethod | 'recovery';

/** One allow / deny / moderators entry: every field given must match (AND); within a list any value matches (OR). */
export interface Matcher {
  groups?: string[];
  emails?: string[];
  domains?: string[];
  anyone?: true;
  /** Line of the entry in its file, for explanations. */
  line: number;
}

export interface MfaRequirement {
  required: boolean;
  methods: MfaMethod[];
  /** Maximum age of the second factor, in milliseconds. */
  maxAge: number;
  userVerification: 'required' | 'preferred';
  /** Only WebAuthn with user verification counts (no TOTP, no recovery code, no IdP). */
  phishingResistant?: boolean;
  /** Which authenticators count: an AAGUID allow-list (attested against the FIDO metadata), and whether synced passkeys do. */
  authenticators?: { aaguids?: string[]; allowSynced: boolean };
}

export interface Policy {
  /** Path of the policy file as given to the loader (relative to the policy directory's parent when possible). */
  file: string;
  sha256: string;
  /** Canonical room names and globs. */
  rooms: string[];
  /** Line of each entry of `rooms`. */
  roomLines: number[];
  risk: Risk;
  allow: Matcher[];
  deny: Matcher[];
  moderators: Matcher[];
  mfa: MfaRequirement;
  /** Idle timeout for sessions in this room (ms), when the policy sets one stricter than the gateway's. */
  sessionIdleTimeout?: number;
  notice?: { de?: string; en?: string };
  title?: string;
  /** Backend features this room may use (e.g. Jitsi recording); off unless listed. */
  features: string[];
  /** Guests without an account, by invitation; absent means off. */
  guests?: GuestPolicy;
  /** When a time-boxed room is open; absent means always. */
  schedule?: Schedule;
  /** While the room is locked: may its moderators still enter (`lock.moderatorsMayEnter`)? */
  lock?: { moderatorsMayEnter: boolean };
}

/**
 * What was set on a room at run time (lock, evictions), as decide() takes it: the room's lock, since when
 * everyone admitted so far was evicted, and who is evicted (sub → when).
 */
export interface RoomState {
  lock?: { at: number; by: string };
  everyoneEvictedAt?: number;
  evicted: ReadonlyMap<string, number>;
  /** Invitations (short id → when) whose guests are kept out: a guest of one was evicted (each use makes a new sub). */
  evictedInvitations?: ReadonlyMap<string, number>;
}

/** The `guests:` field: who may invite people without an account, and on what terms. */
export interface GuestPolicy {
  /** Moderators may create invitations; false keeps the settings but admits no guest. */
  invites: boolean;
  /** Default and longest lifetime of an invitation (ms). */
  ttl: number;
  /** Default and largest number of uses of one invitation. */
  maxUses: number;
  /** Guests wait in the backend's lobby until a moderator admits them (BBB guestPolicy, Jitsi lobby). */
  lobby: boolean;
  /** Guests must enter a display name (a pseudonym is fine); otherwise a neutral one is given. */
  requireName: boolean;
  /** Line of the `guests` field, for explanations. */
  line: number;
}


export interface PolicySet {
  policies: Policy[];
  /** sha256 over the sorted file hashes: identifies the policy version in logs and audit records. */
  version: string;
}

export interface Subject {
  identity?: Identity;
  /** The longest pause in the session's use since its login (ms): a risk-high room refuses a session once idle longer than it allows. */
  idleMs?: number;
  /** Notices the session has acknowledged (`noticeKey(room, policy sha256)`). */
  noticesSeen?: readonly string[];
  /** The session's most recent second factor. */
  /** `uv`: for WebAuthn, whether the authenticator verified the user (PIN, biometrics). */
  /**
   * For WebAuthn also the key: its AAGUID, whether it is synced (backup eligible), and whether its
   * attestation was verified against the FIDO metadata at registration.
   */
  mfa?: { method: FactorMethod; at: number; uv?: boolean; aaguid?: string; synced?: boolean; attested?: boolean };
  /** When this session was last admitted to the room being judged (read only while the room is locked or evicted). */
  enteredAt?: number;
}

export type Outcome = 'allow' | 'login' | 'mfa' | 'deny';

export interface RuleRef {
  kind: 'allow' | 'deny' | 'moderators' | 'guests';
  index: number;
  line: number;
}

export interface Decision {
  outcome: Outcome;
  room: string;
  /**
   * The policy file that judged the room (absent when none matched), with what the gateway needs of it
   * for the entry, so it is looked up once: the room's title and its guest lobby (where guests are invited).
   */
  policy?: { file: string; sha256: string; pattern: string; risk: Risk; title?: string; guestLobby?: boolean };
  /** outcome login: only a fresh login at the IdP will do (the session was idle longer than the room allows). */
  freshLogin?: true;
  /** outcome allow: the room's notice, which a page load must show and have acknowledged first (under `key`). */
  notice?: { key: string };
  /** The rule that decided (allow[i] for allow/mfa, deny[i] for a deny rule). */
  rule?: RuleRef;
  role?: Role;
  /** Catalogue codes (src/errors.ts) explaining a non-allow outcome; empty for allow. */
  reasons: import('../errors.js').ErrorCode[];
  /** What second factor would satisfy the room (for outcome mfa). */
  mfa?: MfaRequirement;
  /**
   * A time-boxed room (policy `schedule:`): open until `closesAt` (then admitted connections are closed and
   * its tokens refused), or closed until `opensAt` (absent: it never opens again). Times in ms; `timeZone` the schedule's.
   */
  schedule?: { open: boolean; opensAt?: number; closesAt?: number; timeZone: string };
  /** outcome deny: the deny rule matched only because the IdP sent the group list incomplete (Identity.groupsIncomplete). */
  groupsIncomplete?: true;
  /** Backend features the room's policy switches on (allow only). */
  features?: string[];
}
