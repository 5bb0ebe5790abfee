// The audit record (version 1) and how a caller's event becomes one under the privacy settings.
// Callers pass structured fields only: the event type has no index signature, so headers, cookies or
// tokens cannot be handed over wholesale; `details` is a small, bounded map of scalars and string lists.
import { createHash } from 'node:crypto';
import type { Decision } from '../policy/types.js';
import type { Role } from '../identity/types.js';
import type { PersonSeal } from './person-keys.js';
import { pseudonymOf, recordableIp, type IdentityMode, type IpMode } from './privacy.js';

export const AUDIT_RECORD_VERSION = 1;

export const AUDIT_RECORD_TYPES = [
  'login.success', 'login.failure',
  'mfa.success', 'mfa.failure', 'mfa.lock', 'mfa.replay', 'mfa.enrolled', 'mfa.removed', 'mfa.recovery_used',
  'room.decision', 'review.refused', 'room.locked', 'room.unlocked', 'room.evicted', 'logout', 'session.revoked',
  'guest.invite_created', 'guest.invite_revoked', 'guest.invite_used', 'guest.invite_refused',
  'policy.loaded', 'policy.rejected', 'config.loaded', 'config.rejected',
  'privacy.export', 'privacy.erase',
  'audit.purge', 'audit.checkpoint', 'audit.summary',
] as const;
export type AuditRecordType = (typeof AUDIT_RECORD_TYPES)[number];
/**
 * Types a caller may append. Checkpoints and purges carry the writer's signature: the writer writes
 * checkpoints itself and purges through `appendPurge`.
 */
export type AuditEventType = Exclude<AuditRecordType, 'audit.checkpoint' | 'audit.purge'>;
const SIGNED_TYPES: readonly string[] = ['audit.checkpoint', 'audit.purge'];

export const AUDIT_OUTCOMES = ['success', 'failure', 'allow', 'deny', 'login', 'mfa'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

export type AuditDetailValue = string | number | boolean | string[];
export type AuditDetails = Record<string, AuditDetailValue>;

/** Limits of `details`, so a record stays small and cannot become a dump of a request. */
export const DETAILS_LIMITS = { keys: 24, keyLength: 40, string: 512, listItems: 64, listItem: 256, bytes: 4096 } as const;

export type AuditActor =
  | { sub: string; iss: string; email?: string; name?: string }
  | { pseudonym: string };

export interface AuditPolicyRef {
  file: string;
  sha256: string;
  /** The deciding rule, e.g. `allow[0]`. */
  rule?: string;
  /** Line of that rule in the policy file. */
  line?: number;
}

/** One line of the audit log. Field reference: docs/audit.md. */
export interface AuditRecord {
  v: 1;
  id: string;
  /** UTC, ISO 8601 with milliseconds. */
  ts: string;
  seq: number;
  instance: string;
  type: AuditRecordType;
  outcome: AuditOutcome;
  actor?: AuditActor;
  room?: string;
  role?: Role;
  policy?: AuditPolicyRef;
  auth?: { methods: string[]; mfaAgeSeconds?: number };
  client?: { ip?: string; userAgent?: string };
  /** A short hash of the session (never its id). */
  session?: string;
  /** A reason code of the catalogue in src/errors.ts. */
  reason?: string;
  requestId?: string;
  details?: AuditDetails;
  prev: string;
  hash: string;
}

/** What a caller hands to `AuditWriter.append`: the writer adds id, ts, seq, instance, prev and hash. */
export interface AuditEvent {
  type: AuditEventType;
  outcome: AuditOutcome;
  /** The person, in clear; the writer pseudonymises it when `audit.identity` is pseudonymous. */
  actor?: { sub: string; iss: string; email?: string; name?: string };
  /** A policy decision: fills room, role, policy and reason unless those are given explicitly. */
  decision?: Decision;
  room?: string;
  role?: Role;
  policy?: AuditPolicyRef;
  auth?: { methods: readonly string[]; mfaAgeSeconds?: number };
  /** The raw client address; the writer records it per `audit.ip`. */
  client?: { ip?: string; userAgent?: string };
  /** A short hex hash of the session; anything else is hashed again before it is written. */
  session?: string;
  reason?: string;
  requestId?: string;
  details?: AuditDetails;
}

export interface PrivacySettings {
  ip: IpMode;
  identity: IdentityMode;
  names: boolean;
  /** Key of pseudonyms (see privacy.ts `pseudonymKey`). */
  pseudonymKey: Buffer;
}

export type AuditRecordBody = Omit<AuditRecord, 'id' | 'ts' | 'seq' | 'instance' | 'prev' | 'hash' | 'v'>;

const clip = (text: string, max: number): string => (text.length > max ? text.slice(0, max) : text);

/** Throws a TypeError when an event is malformed (a programming error of the caller, not an outage). */
export function validateEvent(event: AuditEvent): void {
  if (!(AUDIT_RECORD_TYPES as readonly string[]).includes(event.type) || SIGNED_TYPES.includes(event.type)) {
    throw new TypeError(`audit: unknown or reserved event type ${JSON.stringify(event.type)}`);
  }
  if (!(AUDIT_OUTCOMES as readonly string[]).includes(event.outcome)) throw new TypeError(`audit: unknown outcome ${JSON.stringify(event.outcome)}`);
  if (event.actor && (typeof event.actor.sub !== 'string' || typeof event.actor.iss !== 'string')) throw new TypeError('audit: actor needs sub and iss');
  if (event.auth && (!Array.isArray(event.auth.methods) || event.auth.methods.some((m) => typeof m !== 'string'))) throw new TypeError('audit: auth.methods must be a list of strings');
  if (event.auth?.mfaAgeSeconds !== undefined && !Number.isFinite(event.auth.mfaAgeSeconds)) throw new TypeError('audit: auth.mfaAgeSeconds must be a number');
  if (event.details !== undefined) validateDetails(event.details);
}

export function validateDetails(details: AuditDetails): void {
  if (typeof details !== 'object' || details === null || Array.isArray(details)) throw new TypeError('audit: details must be an object');
  const keys = Object.keys(details);
  if (keys.length > DETAILS_LIMITS.keys) throw new TypeError(`audit: details may have at most ${DETAILS_LIMITS.keys} keys`);
  let bytes = 0;
  for (const key of keys) {
    if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(key) || key.length > DETAILS_LIMITS.keyLength) throw new TypeError(`audit: details key ${JSON.stringify(key)} is not a short identifier`);
    const value = details[key];
    bytes += key.length;
    if (typeof value === 'string') {
      if (value.length > DETAILS_LIMITS.string) throw new TypeError(`audit: details.${key} is longer than ${DETAILS_LIMITS.string} characters`);
      bytes += value.length;
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new TypeError(`audit: details.${key} must be a finite number`);
      bytes += 16;
    } else if (typeof value === 'boolean') {
      bytes += 5;
    } else if (Array.isArray(value)) {
      if (value.length > DETAILS_LIMITS.listItems) throw new TypeError(`audit: details.${key} has more than ${DETAILS_LIMITS.listItems} items`);
      for (const item of value) {
        if (typeof item !== 'string' || item.length > DETAILS_LIMITS.listItem) throw new TypeError(`audit: details.${key} must hold strings of at most ${DETAILS_LIMITS.listItem} characters`);
        bytes += item.length + 3;
      }
    } else {
      throw new TypeError(`audit: details.${key} must be a string, number, boolean or list of strings`);
    }
  }
  if (bytes > DETAILS_LIMITS.bytes) throw new TypeError(`audit: details are larger than ${DETAILS_LIMITS.bytes} bytes`);
}

/** A session reference as recorded: a short hex hash, or (if a caller passed anything else) a hash of it. */
function sessionRef(value: string): string {
  return /^[0-9a-f]{8,32}$/.test(value) ? value : createHash('sha256').update(value).digest('hex').slice(0, 16);
}

const CODE_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * The record body for an event, with the privacy settings applied. Only the fields named here are
 * copied, so extra properties smuggled into an event object never reach the log.
 */
export function toRecordBody(event: AuditEvent, privacy: PrivacySettings, ipDayKey: Buffer | undefined, person?: PersonSeal): AuditRecordBody {
  const body: AuditRecordBody = { type: event.type, outcome: event.outcome };
  if (event.actor) {
    const { sub, iss, email, name } = event.actor;
    if (privacy.identity === 'erasable') {
      // The pseudonym under the person's own key (person-keys.ts), worked out by the writer before sealing.
      if (person === undefined) throw new TypeError('audit: an erasable identity needs the person\'s pseudonym');
      body.actor = { pseudonym: person.pseudonym };
    } else if (privacy.identity === 'pseudonymous') {
      body.actor = { pseudonym: pseudonymOf(privacy.pseudonymKey, iss, sub) };
    } else {
      body.actor = {
        sub: clip(sub, 512), iss: clip(iss, 512),
        ...(email ? { email: clip(email, 320) } : {}),
        ...(privacy.names && name ? { name: clip(name, 200) } : {}),
      };
    }
  }
  const decision = event.decision;
  const room = event.room ?? decision?.room;
  if (room !== undefined) body.room = clip(room, 256);
  const role = event.role ?? decision?.role;
  if (role !== undefined) body.role = role;
  const policy: AuditPolicyRef | undefined = event.policy ?? (decision?.policy
    ? {
      file: decision.policy.file, sha256: decision.policy.sha256,
      ...(decision.rule ? { rule: `${decision.rule.kind}[${decision.rule.index}]`, line: decision.rule.line } : {}),
    }
    : undefined);
  if (policy) {
    body.policy = {
      file: clip(policy.file, 512), sha256: clip(policy.sha256, 64),
      ...(policy.rule !== undefined ? { rule: clip(policy.rule, 64) } : {}),
      ...(policy.line !== undefined && Number.isInteger(policy.line) ? { line: policy.line } : {}),
    };
  }
  if (event.auth) {
    body.auth = {
      methods: event.auth.methods.slice(0, 8).map((m) => clip(m, 32)),
      ...(event.auth.mfaAgeSeconds !== undefined ? { mfaAgeSeconds: Math.max(0, Math.round(event.auth.mfaAgeSeconds)) } : {}),
    };
  }
  if (event.client) {
    const ip = event.client.ip !== undefined ? recordableIp(event.client.ip, privacy.ip, ipDayKey) : undefined;
    const userAgent = event.client.userAgent !== undefined ? clip(event.client.userAgent, 256) : undefined;
    // erasable: a person's client fields are sealed under their key, so shredding it covers them too; in
    // clear they would tie the old records to the person's next ones (same address, same browser).
    const sealed = privacy.identity === 'erasable' && event.actor !== undefined ? person : undefined;
    const put = (field: string, value: string) => (sealed ? sealed.seal(field, value) : value);
    if (ip !== undefined || userAgent !== undefined) body.client = { ...(ip !== undefined ? { ip: put('client.ip', ip) } : {}), ...(userAgent !== undefined ? { userAgent: put('client.userAgent', userAgent) } : {}) };
  }
  if (event.session !== undefined) body.session = sessionRef(event.session);
  const reason = event.reason ?? decision?.reasons[0];
  if (reason !== undefined) body.reason = CODE_PATTERN.test(reason) ? reason : 'RG_INTERNAL';
  if (event.requestId !== undefined) body.requestId = clip(event.requestId, 128);
  const details: AuditDetails = Object.fromEntries(Object.entries(event.details ?? {}).map(([k, v]) => [k, Array.isArray(v) ? [...v] : v]));
  if (decision && decision.reasons.length > 1 && details.reasons === undefined) details.reasons = decision.reasons.slice(0, 16);
  if (decision?.groupsIncomplete && details.groupsIncomplete === undefined) details.groupsIncomplete = true;
  if (Object.keys(details).length > 0) body.details = details;
  return body;
}
