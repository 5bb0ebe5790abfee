// Prometheus metrics (prom-client), served on their own listener (`metrics.listen`) so they are never
// reachable through the public port. Labels carry no personal data: routes, outcomes, methods, risk.
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'roomguard_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'] as const, registers: [this.registry] });
  readonly joins = new Counter({ name: 'roomguard_joins_total', help: 'Room entry decisions for page loads and WebSocket upgrades, by policy risk and outcome', labelNames: ['risk', 'outcome'] as const, registers: [this.registry] });
  readonly secondFactors = new Counter({ name: 'roomguard_second_factor_attempts_total', help: 'Second-factor attempts by method and outcome', labelNames: ['method', 'outcome'] as const, registers: [this.registry] });
  readonly logins = new Counter({ name: 'roomguard_logins_total', help: 'Completed and failed IdP logins', labelNames: ['outcome'] as const, registers: [this.registry] });
  readonly websockets = new Gauge({ name: 'roomguard_open_websockets', help: 'Proxied WebSockets currently open', registers: [this.registry] });
  readonly auditLatency = new Histogram({ name: 'roomguard_audit_append_seconds', help: 'Time to append (and fsync) an audit record', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [this.registry] });
  readonly policyReloads = new Counter({ name: 'roomguard_policy_reloads_total', help: 'Policy set reloads by result', labelNames: ['result'] as const, registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'roomguard_' });
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
