// The gateway's one way into the audit log, between its handlers and the sink (the writer). It adds who
// and where from the request and its session, counts each event for the metrics, and writes in one of two
// ways: `record` is awaited and rejects when the log cannot be written (join decisions: DESIGN invariant
// 4, no join without a durable record); `recordQuietly` never blocks or fails what it reports (refusals),
// and keeps every refusal it writes within the refusal budget (refusal-budget.ts), summarised once a minute.
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import type { AuditEvent } from '../audit/record.js';
import type { AuditSink } from '../audit/sink.js';
import type { LoadedSession } from '../session/sessions.js';
import type { GatewayMetrics } from './metrics.js';
import { clientNetwork, PER_ACTOR, PER_POOL, RefusalBudget, WINDOW_MS, type RefusedActor } from './refusal-budget.js';

/** What a handler says about a request; the trail adds request id, client and session, and from the session the person and factor. */
export type RequestEvent = Omit<AuditEvent, 'requestId' | 'client' | 'session'>;

export interface AuditTrailOptions {
  now?: () => number;
  /** Where a failed best-effort write of the process's own events is logged. */
  log: () => Pick<FastifyBaseLogger, 'error'>;
}

export class AuditTrail {
  readonly #sink: AuditSink;
  readonly #metrics: GatewayMetrics;
  readonly #now: () => number;
  readonly #log: AuditTrailOptions['log'];
  readonly #refusals = new RefusalBudget();
  readonly #summaries: NodeJS.Timeout;

  constructor(sink: AuditSink, metrics: GatewayMetrics, options: AuditTrailOptions) {
    this.#sink = sink;
    this.#metrics = metrics;
    this.#now = options.now ?? Date.now;
    this.#log = options.log;
    metrics.watchAudit(sink);
    this.#summaries = setInterval(() => void this.summariseRefusals(), WINDOW_MS);
    this.#summaries.unref();
  }

  /** Whether the log can be written (false after a failed write until one succeeds). */
  get healthy(): boolean {
    return this.#sink.healthy;
  }

  /** Resolves once the record is durable; rejects when it cannot be written (the caller refuses the join). */
  readonly record = (request: FastifyRequest, session: LoadedSession | undefined, event: RequestEvent): Promise<void> => {
    this.#count(event);
    return this.#append(this.#aboutRequest(request, session, event));
  };

  /**
   * Best-effort, for events that must not turn into a failure of their own. Every refusal among them
   * (anything but a success), with a session or without, is written within the refusal budget of its
   * actor and pool; beyond it, counted for the minute's summary. Successes are always written.
   */
  readonly recordQuietly = (request: FastifyRequest, session: LoadedSession | undefined, event: RequestEvent): void => {
    this.#count(event);
    if (isRefusal(event) && !this.#refusals.admit(`${event.type} ${event.reason ?? ''}`.trim(), refusedActor(request, session))) return;
    this.#append(this.#aboutRequest(request, session, event)).catch((err: unknown) => request.log.error({ err: (err as Error).message, event: event.type }, 'audit append failed'));
  };

  /** An event of the process itself (configuration and policy loads); best-effort, a failure is logged. */
  recordProcess(event: AuditEvent): Promise<void> {
    return this.#append(event).catch((err: unknown) => this.#log().error({ err: (err as Error).message, event: event.type }, 'audit append failed'));
  }

  /** Writes what the refusal budget only counted in the minute that ended, one record per pool and kind. */
  async summariseRefusals(): Promise<void> {
    await Promise.all(this.#refusals.drain().map((counted) => {
      const [type = '', reason] = counted.kind.split(' ');
      const anonymous = counted.pool === 'anonymous';
      return this.#append({
        type: 'audit.summary', outcome: 'deny', ...(reason ? { reason } : {}),
        details: {
          of: type, pool: counted.pool, count: counted.count, ...(anonymous ? { networks: counted.actors } : { sessions: counted.actors }),
          windowSeconds: WINDOW_MS / 1000, ...(anonymous ? { perNetwork: PER_ACTOR } : { perSession: PER_ACTOR }), perWindow: PER_POOL,
        },
      }).catch(() => undefined);
    }));
  }

  /** Stops the minute's clock and writes what was only counted (before the writer closes). */
  async close(): Promise<void> {
    clearInterval(this.#summaries);
    await this.summariseRefusals();
  }

  #aboutRequest(request: FastifyRequest, session: LoadedSession | undefined, event: RequestEvent): AuditEvent {
    const identity = session?.data.identity;
    const mfa = session?.data.mfa;
    return {
      ...(identity ? { actor: { sub: identity.sub, iss: identity.iss, ...(identity.email ? { email: identity.email } : {}), ...(identity.name ? { name: identity.name } : {}) } } : {}),
      ...(mfa ? { auth: { methods: [mfa.method], mfaAgeSeconds: Math.max(0, Math.round((this.#now() - mfa.at) / 1000)) } } : {}),
      ...event,
      requestId: request.id,
      client: { ip: request.ip, ...(request.headers['user-agent'] ? { userAgent: String(request.headers['user-agent']).slice(0, 200) } : {}) },
      ...(session ? { session: session.hash.slice(0, 16) } : {}),
    };
  }

  /** The one call of the sink: timed, and every failure counted. */
  async #append(event: AuditEvent): Promise<void> {
    const done = this.#metrics.auditLatency.startTimer();
    try {
      await this.#sink.append(event);
    } catch (err) {
      this.#metrics.auditFailures.inc();
      throw err;
    } finally {
      done();
      this.#metrics.auditWritable.set(this.#sink.healthy ? 1 : 0);
    }
  }

  /** Every request event is also counted (without personal data) for the metrics listener. */
  #count(event: RequestEvent): void {
    const m = this.#metrics;
    if (event.type === 'room.decision') m.joins.inc({ risk: event.decision?.policy?.risk ?? 'none', outcome: event.outcome });
    else if (event.type === 'login.success' || event.type === 'login.failure') m.logins.inc({ outcome: event.outcome });
    else if (event.type.startsWith('mfa.') && event.type !== 'mfa.enrolled' && event.type !== 'mfa.removed') {
      const method = typeof event.details?.method === 'string' ? event.details.method : 'unknown';
      m.secondFactors.inc({ method, outcome: event.type === 'mfa.success' || event.type === 'mfa.recovery_used' ? 'success' : event.type.slice(4) });
    }
  }
}

/** A best-effort record of anything but a success: a denial, a failure, a demand for login or a second factor. */
function isRefusal(event: RequestEvent): boolean {
  return event.outcome !== 'success' && event.outcome !== 'allow';
}

/** Whom the refusal budget charges: the session (a guest's or a signed-in person's), else the client network. */
function refusedActor(request: FastifyRequest, session: LoadedSession | undefined): RefusedActor {
  if (!session) return { pool: 'anonymous', id: clientNetwork(request.ip) };
  return { pool: session.data.identity.guest ? 'guest' : 'signed-in', id: session.hash };
}
