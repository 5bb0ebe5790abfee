// /healthz (the process answers) and /readyz (what it depends on: store, IdP, policies, config, audit log),
// for load balancers and orchestrators; never cached.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { isRoomguardError } from '../errors.js';
import type { GatewayDeps } from './context.js';

interface Check {
  ok: boolean;
  detail?: string;
}

export function registerHealthRoutes(app: FastifyInstance, deps: GatewayDeps): void {
  app.get('/healthz', async (_request, reply) => reply.header('cache-control', 'no-store').send({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => readiness(deps, reply));
}

async function readiness(deps: GatewayDeps, reply: FastifyReply) {
  const checks: Record<string, Check> = {};
  checks.store = await probe(() => deps.store.ping());
  checks.idp = await probe(() => deps.oidc.metadata());
  const rejected = deps.status?.policiesRejected;
  checks.policies = { ok: true, detail: `${deps.policies.current.version.slice(0, 12)}${rejected ? `; last reload rejected: ${rejected}` : ''}` };
  if (deps.status?.config) checks.config = { ok: true, detail: deps.status.config };
  checks.audit = deps.audit.healthy ? { ok: true } : { ok: false, detail: 'RG_AUDIT_UNAVAILABLE' };
  // The IdP is needed for new logins only: people already signed in keep their meetings (and the load
  // balancer keeps sending them here) while it is away, so its failure degrades readiness, never ends it.
  const ok = Object.entries(checks).every(([name, c]) => c.ok || name === 'idp');
  const status = !ok ? 'not ready' : checks.idp.ok ? 'ready' : 'degraded';
  return reply.code(ok ? 200 : 503).header('cache-control', 'no-store').send({ status, checks });
}

async function probe(call: () => Promise<unknown>): Promise<Check> {
  try {
    await call();
    return { ok: true };
  } catch (err) {
    return { ok: false, detail: isRoomguardError(err) ? err.code : 'error' };
  }
}
