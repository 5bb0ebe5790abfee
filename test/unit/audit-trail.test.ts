// The gateway's one way into the audit log (src/gateway/audit-trail.ts): a join's record is awaited and
// its failure reaches the caller; a refusal's record never fails the refusal; every best-effort refusal
// (with a session or without) stays within the refusal budget and is summarised; every event and every
// failure is counted for the metrics.
import type { FastifyRequest } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AuditEvent } from '../../src/audit/record.js';
import type { AuditSink } from '../../src/audit/sink.js';
import { RoomguardError } from '../../src/errors.js';
import { AuditTrail } from '../../src/gateway/audit-trail.js';
import { GatewayMetrics } from '../../src/gateway/metrics.js';
import { PER_ACTOR, PER_POOL } from '../../src/gateway/refusal-budget.js';
import type { LoadedSession } from '../../src/session/sessions.js';

const NOW = Date.parse('2024-05-01T10:00:00Z');

function request(ip = '203.0.113.9') {
  const error = vi.fn();
  return { id: 'req-1', ip, headers: { 'user-agent': 'Firefox' }, log: { error } } as unknown as FastifyRequest & { log: { error: typeof error } };
}

const session = {
  id: 'secret-id', hash: 'ab'.repeat(32), idleFor: 0,
  data: { identity: { sub: 'alice', iss: 'https://id.example.org', email: 'alice@example.org', name: 'Alice', groups: [] }, mfa: { method: 'totp', at: NOW - 30_000 } },
} as unknown as LoadedSession;

/** A sink that keeps what it is given, or fails every append while `failing`. */
function sink() {
  const events: AuditEvent[] = [];
  const s = { events, failing: false, healthy: true, async append(event: AuditEvent) {
    if (s.failing) {
      s.healthy = false;
      throw new RoomguardError('RG_AUDIT_UNAVAILABLE', 'disk full');
    }
    events.push(event);
  } };
  return s satisfies AuditSink & { events: AuditEvent[] };
}

async function value(metrics: GatewayMetrics, name: string): Promise<number> {
  const line = (await metrics.registry.metrics()).split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return Number(line?.split(' ').at(-1) ?? NaN);
}

const trails: AuditTrail[] = [];
function trailOf(s: AuditSink, metrics = new GatewayMetrics(), log = { error: vi.fn() }) {
  const trail = new AuditTrail(s, metrics, { now: () => NOW, log: () => log });
  trails.push(trail);
  return { trail, metrics, log };
}
afterEach(async () => {
  for (const trail of trails.splice(0)) await trail.close();
});

describe('audit trail', () => {
  it('records a join with the person, factor, client, session and request id, and resolves once the sink has it', async () => {
    const s = sink();
    const { trail, metrics } = trailOf(s);
    await trail.record(request(), session, { type: 'room.decision', outcome: 'allow', room: 'board' });
    expect(s.events).toEqual([{
      type: 'room.decision', outcome: 'allow', room: 'board', requestId: 'req-1',
      actor: { sub: 'alice', iss: 'https://id.example.org', email: 'alice@example.org', name: 'Alice' },
      auth: { methods: ['totp'], mfaAgeSeconds: 30 },
      client: { ip: '203.0.113.9', userAgent: 'Firefox' },
      session: 'ab'.repeat(8),
    }]);
    expect(JSON.stringify(s.events)).not.toContain('secret-id');
    expect(await value(metrics, 'roomguard_joins_total')).toBe(1);
  });

  it('lets a join\'s caller see the failure (the join is refused), and counts it', async () => {
    const s = sink();
    s.failing = true;
    const { trail, metrics } = trailOf(s);
    await expect(trail.record(request(), session, { type: 'room.decision', outcome: 'allow' })).rejects.toMatchObject({ code: 'RG_AUDIT_UNAVAILABLE' });
    expect(await value(metrics, 'roomguard_audit_append_failures_total')).toBe(1);
    expect(await value(metrics, 'roomguard_audit_writable')).toBe(0);
    expect(trail.healthy).toBe(false);
  });

  it('never fails a refusal for its record: the failure is logged and counted', async () => {
    const s = sink();
    s.failing = true;
    const { trail, metrics } = trailOf(s);
    const req = request();
    expect(trail.recordQuietly(req, session, { type: 'mfa.failure', outcome: 'failure', reason: 'RG_MFA_INVALID', details: { method: 'totp' } })).toBeUndefined();
    await vi.waitFor(() => expect(req.log.error).toHaveBeenCalledWith({ err: expect.stringContaining('disk full'), event: 'mfa.failure' }, 'audit append failed'));
    expect(await value(metrics, 'roomguard_audit_append_failures_total')).toBe(1);
    expect(await value(metrics, 'roomguard_second_factor_attempts_total')).toBe(1);
  });

  it('writes anonymous refusals within the budget, counts the rest, and summarises them on close', async () => {
    const s = sink();
    const { trail, metrics } = trailOf(s);
    for (let i = 0; i < PER_ACTOR + 5; i++) trail.recordQuietly(request(), undefined, { type: 'login.failure', outcome: 'failure', reason: 'RG_LOGIN_STATE_UNKNOWN' });
    // A signed-in person's refusal has a budget of its own.
    trail.recordQuietly(request(), session, { type: 'login.failure', outcome: 'failure', reason: 'RG_LOGIN_STATE_UNKNOWN' });
    await vi.waitFor(() => expect(s.events).toHaveLength(PER_ACTOR + 1));
    expect(await value(metrics, 'roomguard_logins_total')).toBe(PER_ACTOR + 6);
    await trail.close();
    expect(s.events.at(-1)).toMatchObject({ type: 'audit.summary', outcome: 'deny', reason: 'RG_LOGIN_STATE_UNKNOWN', details: { of: 'login.failure', pool: 'anonymous', count: 5, networks: 1, perNetwork: PER_ACTOR, perWindow: PER_POOL } });
  });

  it('budgets the refusals of a session too, per session and whatever the address, and names the pool and the number of sessions in the summary', async () => {
    const s = sink();
    const { trail } = trailOf(s);
    const guest = { ...session, hash: 'cd'.repeat(32), data: { identity: { sub: 'guest:x', iss: 'https://gw.example.org/guest', name: 'Visitor', groups: [], guest: { room: 'lobby', invitation: 'abc', expiresAt: NOW + 60_000 } } } } as unknown as LoadedSession;
    for (let i = 0; i < PER_ACTOR + 40; i++) trail.recordQuietly(request(`198.51.${i}.7`), guest, { type: 'room.decision', outcome: 'deny', reason: 'RG_GUEST_NOT_ALLOWED' });
    for (let i = 0; i < PER_ACTOR + 3; i++) trail.recordQuietly(request(), session, { type: 'room.decision', outcome: 'mfa', reason: 'RG_MFA_REQUIRED' });
    // Successes are never budgeted.
    for (let i = 0; i < PER_ACTOR + 3; i++) trail.recordQuietly(request(), session, { type: 'mfa.enrolled', outcome: 'success' });
    await vi.waitFor(() => expect(s.events).toHaveLength(3 * PER_ACTOR + 3));
    expect(s.events.filter((e) => e.reason === 'RG_GUEST_NOT_ALLOWED')).toHaveLength(PER_ACTOR);
    await trail.close();
    const summaries = s.events.filter((e) => e.type === 'audit.summary');
    expect(summaries).toHaveLength(2);
    expect(summaries).toContainEqual(expect.objectContaining({ reason: 'RG_GUEST_NOT_ALLOWED', details: { of: 'room.decision', pool: 'guest', count: 40, sessions: 1, windowSeconds: 60, perSession: PER_ACTOR, perWindow: PER_POOL } }));
    expect(summaries).toContainEqual(expect.objectContaining({ reason: 'RG_MFA_REQUIRED', details: expect.objectContaining({ of: 'room.decision', pool: 'signed-in', count: 3, sessions: 1 }) }));
    // The summary names no session (only how many there were).
    expect(JSON.stringify(summaries)).not.toContain('cdcdcdcd');
  });

  it('records the process\'s own events best-effort: a failure is logged, counted and not thrown', async () => {
    const s = sink();
    s.failing = true;
    const { trail, metrics, log } = trailOf(s);
    await expect(trail.recordProcess({ type: 'config.loaded', outcome: 'success' })).resolves.toBeUndefined();
    expect(log.error).toHaveBeenCalledWith({ err: expect.stringContaining('disk full'), event: 'config.loaded' }, 'audit append failed');
    expect(await value(metrics, 'roomguard_audit_append_failures_total')).toBe(1);
  });
});
