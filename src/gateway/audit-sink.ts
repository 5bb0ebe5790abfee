// What the gateway tells the audit log. The gateway awaits `append` for join decisions before it
// admits anyone (DESIGN invariant 4); other events are appended too but never block a refusal.
import type { Decision } from '../policy/types.js';
import type { Role } from '../identity/types.js';

export interface GatewayAuditEvent {
  type:
    | 'login.success' | 'login.failure' | 'logout'
    | 'mfa.success' | 'mfa.failure' | 'mfa.lock' | 'mfa.replay' | 'mfa.enrolled' | 'mfa.removed' | 'mfa.recovery_used'
    | 'room.decision' | 'session.revoked' | 'policy.loaded' | 'policy.rejected' | 'config.loaded' | 'config.rejected'
    | 'guest.invite_created' | 'guest.invite_revoked' | 'guest.invite_used' | 'guest.invite_refused' | 'audit.summary';
  outcome: 'success' | 'failure' | 'allow' | 'deny' | 'login' | 'mfa';
  actor?: { sub: string; iss: string; email?: string; name?: string };
  decision?: Decision;
  /** Room and role of an event without a decision (guest invitations). */
  room?: string;
  role?: Role;
  /** Second factor in force: method and age in seconds. */
  auth?: { methods: string[]; mfaAgeSeconds?: number };
  client?: { ip?: string; userAgent?: string };
  /** Short session hash (never the id). */
  session?: string;
  reason?: string;
  requestId?: string;
  details?: Record<string, string | number | boolean | string[]>;
}

export interface AuditSink {
  /** Resolves once the event is durably recorded; rejects when it cannot be. */
  append(event: GatewayAuditEvent): Promise<void>;
  readonly healthy: boolean;
}

/** Used until an audit log is configured in tests that do not look at it. */
export const NO_AUDIT: AuditSink = { append: async () => undefined, healthy: true };
