// decide(): the one decision function. Pure: from (subject, room, policy set, now) to a Decision that
// carries the outcome, the policy file and rule, the role and the reasons. No I/O, no clock of its own.
import type { Decision, Matcher, MfaRequirement, Policy, PolicySet, RoomState, RuleRef, Subject } from './types.js';
import type { GuestGrant, Identity } from '../identity/types.js';
import { roomIndexOf } from './rooms.js';
import { scheduleAt, type ScheduleState } from './schedule.js';

export interface PolicyMatch {
  policy?: Policy;
  pattern?: string;
  /** Other policies that match the room exactly as specifically (a set that passed lint has none). */
  ties: Policy[];
}

/** The policy that judges a room: exact name beats glob, then the glob with most literal characters. */
export function policyFor(room: string, set: PolicySet): PolicyMatch {
  // The set's room index (exact names in a map, globs in prefix/suffix tries) instead of testing every
  // pattern of every file: same answer (property-tested against a plain scan), logarithmic cost.
  return roomIndexOf(set).match(room);
}

/**
 * `denying`: the entry is a deny rule. Then a person whose group list the IdP sent incomplete
 * (`groupsIncomplete`) counts as a member of every group it names: the missing group may be the denied one.
 */
export function matcherMatches(m: Matcher, who: Identity, denying = false): boolean {
  // Every field present must match (AND); an entry with no fields never matches.
  let checked = false;
  if (m.anyone) checked = true;
  if (m.groups) {
    checked = true;
    if (!(denying && who.groupsIncomplete) && !m.groups.some((g) => who.groups.includes(g))) return false;
  }
  const email = who.emailVerified && who.email ? who.email.toLowerCase() : undefined;
  if (m.emails) {
    checked = true;
    if (!email || !m.emails.includes(email)) return false;
  }
  if (m.domains) {
    checked = true;
    const domain = email?.slice(email.lastIndexOf('@') + 1);
    if (!domain || !m.domains.includes(domain)) return false;
  }
  return checked;
}

function firstMatch(kind: RuleRef['kind'], list: Matcher[], who: Identity): RuleRef | undefined {
  const index = list.findIndex((m) => matcherMatches(m, who, kind === 'deny'));
  return index === -1 ? undefined : { kind, index, line: list[index]!.line };
}

/** The key under which a session remembers that it acknowledged a room's notice (a new policy version asks again). */
export function noticeKey(room: string, policySha: string): string {
  return `${room}@${policySha.slice(0, 16)}`;
}

const NO_CONTROLS: RoomState = { evicted: new Map() };

/**
 * `controls`: the room's lock and evictions set at run time (src/rooms/controls.ts), as an input like the
 * moment, so explain, pages and audit see the same answer.
 */
export function decide(subject: Subject, room: string, set: PolicySet, now: number, controls: RoomState = NO_CONTROLS): Decision {
  const match = policyFor(room, set);
  const who = subject.identity;
  // Without a session nobody learns whether a room exists: everyone is sent to log in first.
  if (!who) return { outcome: 'login', room, reasons: ['RG_LOGIN_REQUIRED'], ...policyRef(match) };
  // A room with its own idle limit (risk: high) refuses a session that was ever idle longer since its login,
  // on top of the gateway's limit; only a fresh login at the IdP starts it anew.
  const idleLimit = match.policy?.sessionIdleTimeout;
  if (idleLimit !== undefined && (subject.idleMs ?? 0) > idleLimit) return { outcome: 'login', room, reasons: ['RG_ROOM_IDLE_LIMIT'], freshLogin: true, ...policyRef(match) };
  if (!match.policy) return { outcome: 'deny', room, reasons: ['RG_POLICY_NO_MATCH'] };
  if (match.ties.length > 0) return { outcome: 'deny', room, reasons: ['RG_POLICY_AMBIGUOUS'], ...policyRef(match) };
  const policy = match.policy;
  const judged = who.guest ? decideGuest(who.guest, room, policy, match, now) : decideMember(subject, who, room, policy, match, now);
  const decision = judged.outcome === 'deny' ? judged : controlled(judged, subject, who, policy, controls);
  // The room's notice comes before the entry (page loads show it); a new version of the policy asks again.
  if (decision.outcome === 'allow' && policy.notice && !(subject.noticesSeen ?? []).includes(noticeKey(room, policy.sha256))) return { ...decision, notice: { key: noticeKey(room, policy.sha256) } };
  return decision;
}

function decideMember(subject: Subject, who: Identity, room: string, policy: Policy, match: PolicyMatch, now: number): Decision {
  const denyRule = firstMatch('deny', policy.deny, who);
  if (denyRule) {
    const assumed = who.groupsIncomplete && !matcherMatches(policy.deny[denyRule.index]!, who);
    return { outcome: 'deny', room, rule: denyRule, reasons: ['RG_POLICY_DENY_RULE'], ...(assumed ? { groupsIncomplete: true as const } : {}), ...policyRef(match) };
  }
  const allowRule = firstMatch('allow', policy.allow, who);
  if (!allowRule) return { outcome: 'deny', room, reasons: ['RG_POLICY_NOT_ALLOWED'], ...policyRef(match) };
  const role = firstMatch('moderators', policy.moderators, who) ? 'moderator' : 'participant';
  // Only people the room admits learn its times; outside them nobody is asked for a second factor.
  const timing = scheduleOf(policy, now);
  if (timing && !timing.open) return { outcome: 'deny', room, rule: allowRule, role, reasons: ['RG_ROOM_NOT_OPEN'], schedule: timing, ...policyRef(match) };

  if (policy.mfa.required) {
    const factor = subject.mfa;
    // A recovery code stands in for a lost factor, but it can be phished like a code: it counts only
    // where the room accepts authenticator codes (not in passkey-only or IdP-only rooms).
    const fitting = factor && (factor.method === 'recovery' ? policy.mfa.methods.includes('totp') : policy.mfa.methods.includes(factor.method));
    // A room that requires user verification does not accept a passkey confirmed without it.
    const verified = factor?.method !== 'webauthn' || policy.mfa.userVerification !== 'required' || factor.uv === true;
    if (!fitting || !verified) return { outcome: 'mfa', room, rule: allowRule, role, reasons: ['RG_MFA_REQUIRED'], mfa: policy.mfa, ...policyRef(match) };
    if (!authenticatorAccepted(factor, policy.mfa.authenticators)) return { outcome: 'mfa', room, rule: allowRule, role, reasons: ['RG_MFA_AUTHENTICATOR_REFUSED'], mfa: policy.mfa, ...policyRef(match) };
    if (now - factor.at > policy.mfa.maxAge || factor.at > now + 60_000) {
      return { outcome: 'mfa', room, rule: allowRule, role, reasons: ['RG_MFA_TOO_OLD'], mfa: policy.mfa, ...policyRef(match) };
    }
  }
  return { outcome: 'allow', room, rule: allowRule, role, reasons: [], ...policyRef(match), ...(policy.features.length > 0 ? { features: policy.features } : {}), ...(timing ? { schedule: timing } : {}) };
}

/**
 * Whether the key that confirmed the session is one the room accepts: not synced where synced passkeys
 * are refused, and one of the listed AAGUIDs — vouched for by an attestation verified against the FIDO
 * metadata, since an AAGUID alone is only what the authenticator claims.
 */
export function authenticatorAccepted(factor: NonNullable<Subject['mfa']>, rule: MfaRequirement['authenticators']): boolean {
  if (!rule) return true;
  if (factor.method !== 'webauthn') return false;
  if (!rule.allowSynced && factor.synced !== false) return false;
  return !rule.aaguids || (factor.attested === true && factor.aaguid !== undefined && rule.aaguids.includes(factor.aaguid));
}

/**
 * A guest (admitted by invitation, no account) enters exactly the room of the invitation, only while its
 * policy still invites guests and the grant lasts, as role guest. No allow, deny or moderators rule applies
 * to a guest, and no second factor is asked: the policy's `guests:` field is the admin's consent to that.
 */
function decideGuest(grant: GuestGrant, room: string, policy: Policy, match: PolicyMatch, now: number): Decision {
  const ref = policyRef(match);
  if (grant.room !== room) return { outcome: 'deny', room, reasons: ['RG_GUEST_WRONG_ROOM'], ...ref };
  if (!policy.guests?.invites) return { outcome: 'deny', room, reasons: ['RG_GUEST_INVITES_OFF'], ...ref };
  if (!(now < grant.expiresAt)) return { outcome: 'deny', room, reasons: ['RG_GUEST_EXPIRED'], ...ref };
  const rule = { kind: 'guests', index: 0, line: policy.guests.line } as const;
  const timing = scheduleOf(policy, now);
  if (timing && !timing.open) return { outcome: 'deny', room, rule, role: 'guest', reasons: ['RG_ROOM_NOT_OPEN'], schedule: timing, ...ref };
  return { outcome: 'allow', room, rule, role: 'guest', reasons: [], ...ref, ...(timing ? { schedule: timing } : {}) };
}

/**
 * The room's run-time controls over a decision the policy would allow (or would ask a factor for): an
 * evicted person stays out; a locked room admits only those admitted before the lock (and not evicted
 * since), and its moderators where the policy lets them in.
 */
function controlled(decision: Decision, subject: Subject, who: Identity, policy: Policy, controls: RoomState): Decision {
  const deny = (reason: 'RG_ROOM_EVICTED' | 'RG_ROOM_LOCKED'): Decision => {
    const { notice: _n, features: _f, mfa: _m, ...rest } = decision;
    return { ...rest, outcome: 'deny', reasons: [reason] };
  };
  if (controls.evicted.has(who.sub)) return deny('RG_ROOM_EVICTED');
  if (who.guest && controls.evictedInvitations?.has(who.guest.invitation)) return deny('RG_ROOM_EVICTED');
  if (!controls.lock) return decision;
  const member = memberOfLockedRoom(controls, subject.enteredAt);
  const moderatorMayEnter = decision.role === 'moderator' && policy.lock?.moderatorsMayEnter === true;
  return member || moderatorMayEnter ? decision : deny('RG_ROOM_LOCKED');
}

/** Whether a session last admitted at `since` was in the locked room before its lock (and not evicted with everyone since). */
export function memberOfLockedRoom(controls: RoomState, since: number | undefined): boolean {
  if (!controls.lock || since === undefined) return false;
  return since < controls.lock.at && (controls.everyoneEvictedAt === undefined || since > controls.everyoneEvictedAt);
}

/** A time-boxed room's state at `now` as a decision carries it; undefined for a room without a schedule. */
function scheduleOf(policy: Policy, now: number): Decision['schedule'] {
  if (!policy.schedule) return undefined;
  const state = scheduleAt(policy.schedule, now);
  return { ...state, timeZone: policy.schedule.timeZone };
}

/**
 * Whether a room's schedule lets connections go on at `now`, for requests that carry an admission given
 * earlier (a Jitsi token, an open WebSocket): true for rooms without a schedule or without a policy (those
 * are judged elsewhere). Same policy lookup and schedule reading as decide().
 */
/** The room's schedule state at `now` under the policy set (undefined: the room has no schedule). */
export function scheduleStateOf(room: string, set: PolicySet, now: number): ScheduleState | undefined {
  const schedule = policyFor(room, set).policy?.schedule;
  return schedule ? scheduleAt(schedule, now) : undefined;
}

export function roomOpenAt(room: string, set: PolicySet, now: number): boolean {
  const policy = policyFor(room, set).policy;
  return !policy?.schedule || scheduleAt(policy.schedule, now).open;
}

function policyRef(match: PolicyMatch): Pick<Decision, 'policy'> {
  const { policy, pattern } = match;
  if (!policy || !pattern) return {};
  return {
    policy: {
      file: policy.file, sha256: policy.sha256, pattern, risk: policy.risk,
      ...(policy.title !== undefined ? { title: policy.title } : {}),
      // BBB fixes a meeting's guest policy at its creation: the lobby setting of a room that invites guests.
      ...(policy.guests?.invites ? { guestLobby: policy.guests.lobby } : {}),
    },
  };
}
