// Prometheus metrics (prom-client), served on their own listener (`metrics.listen`) so they are never
// reachable through the public port. Labels carry no personal data and only bounded values: routes,
// outcomes, methods, risk, store operations. Every family is listed in docs/metrics.md.
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Counts live sessions in the shared store (a lower bound when the count stopped at its limit). */
export type SessionCensus = () => Promise<number>;

export interface GatewayMetricsOptions {
  /** A scrape reuses a session count this young, so several scrapers (or a fast one) do not rescan the store. */
  censusMaxAgeMs?: number;
}

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'roomguard_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'] as const, registers: [this.registry] });
  readonly joins = new Counter({ name: 'roomguard_joins_total', help: 'Room entry decisions for page loads and WebSocket upgrades, by policy risk and outcome', labelNames: ['risk', 'outcome'] as const, registers: [this.registry] });
  readonly secondFactors = new Counter({ name: 'roomguard_second_factor_attempts_total', help: 'Second-factor attempts by method and outcome', labelNames: ['method', 'outcome'] as const, registers: [this.registry] });
  readonly logins = new Counter({ name: 'roomguard_logins_total', help: 'Completed and failed IdP logins', labelNames: ['outcome'] as const, registers: [this.registry] });
  readonly websockets = new Gauge({ name: 'roomguard_open_websockets', help: 'Proxied WebSockets currently open on this instance', registers: [this.registry] });
  readonly auditLatency = new Histogram({ name: 'roomguard_audit_append_seconds', help: 'Time to append (and fsync) an audit record', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [this.registry] });
  readonly auditFailures = new Counter({ name: 'roomguard_audit_append_failures_total', help: 'Audit records that could not be written (a join waiting for one is refused with 503)', registers: [this.registry] });
  readonly auditWritable = new Gauge({ name: 'roomguard_audit_writable', help: '1 while this instance can write its audit log, 0 after a failed write until one succeeds (the audit check of /readyz)', registers: [this.registry] });
  readonly policyReloads = new Counter({ name: 'roomguard_policy_reloads_total', help: 'Policy set reloads by result', labelNames: ['result'] as const, registers: [this.registry] });
  readonly configReloads = new Counter({ name: 'roomguard_config_reloads_total', help: 'Configuration reloads (SIGHUP) by result: loaded, or rejected with the old config still serving', labelNames: ['result'] as const, registers: [this.registry] });
  readonly storeLatency = new Histogram({ name: 'roomguard_store_operation_seconds', help: 'Time of each session-store operation (Redis round trip, or memory), by operation and outcome', labelNames: ['operation', 'outcome'] as const, buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5], registers: [this.registry] });
  readonly activeSessions = new Gauge({
    name: 'roomguard_active_sessions',
    help: 'Live sessions in the shared store, counted by this instance (every instance sharing the store reports the same number: aggregate with max, not sum)',
    registers: [this.registry],
    collect: () => this.#takeCensus(),
  });

  readonly #censusMaxAgeMs: number;
  #census: SessionCensus | undefined;
  #censusAt = -Infinity;
  #censusRunning: Promise<void> | undefined;
  #audit: { readonly healthy: boolean } | undefined;

  constructor(options: GatewayMetricsOptions = {}) {
    this.#censusMaxAgeMs = options.censusMaxAgeMs ?? 30_000;
    collectDefaultMetrics({ register: this.registry, prefix: 'roomguard_' });
    this.auditWritable.set(1);
  }

  /** Sets where the active-sessions gauge gets its count (the gateway passes a bounded store scan). */
  countSessionsWith(census: SessionCensus): void {
    this.#census = census;
    this.#censusAt = -Infinity;
  }

  /** Where the audit gauge reads, at each scrape, whether the log is writable (the audit trail counts failures). */
  watchAudit(sink: { readonly healthy: boolean }): void {
    this.#audit = sink;
    this.auditWritable.set(sink.healthy ? 1 : 0);
  }

  async #takeCensus(): Promise<void> {
    if (this.#audit) this.auditWritable.set(this.#audit.healthy ? 1 : 0);
    if (!this.#census || Date.now() - this.#censusAt < this.#censusMaxAgeMs) return;
    this.#censusRunning ??= this.#census().then(
      (count) => {
        this.activeSessions.set(count);
        this.#censusAt = Date.now();
      },
      // The store is away: keep the last count; the store histogram's error outcome shows why.
      () => undefined,
    ).finally(() => { this.#censusRunning = undefined; });
    await this.#censusRunning;
  }

  /** Serves GET /metrics on host:port; resolves to the bound address. */
  async serve(listen: string): Promise<{ address: string; close(): Promise<void> }> {
    const at = listen.lastIndexOf(':');
    const host = listen.slice(0, at).replace(/^\[|\]$/g, '');
    const server: Server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType, 'cache-control': 'no-store' }).end(text),
        () => res.writeHead(500).end(),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(Number(listen.slice(at + 1)), host, resolve);
    });
    const address = server.address();
    return {
      address: typeof address === 'object' && address ? `${address.address}:${address.port}` : listen,
      close: () => new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
    };
  }
}
