// Child-process entry of the benchmarks: starts one server role (bench/processes.ts describes them) on
// loopback, reports its URL over IPC, answers memory queries (after a full GC) and stops on request.
import Fastify, { type FastifyInstance } from 'fastify';
import httpProxy from '@fastify/http-proxy';
import * as client from 'openid-client';
import { startDemoIdp, type DemoUser } from '../src/demo/idp.js';
import { createGateway } from '../src/gateway/server.js';
import type { AuditSink } from '../src/audit/sink.js';
import { loggerOptions } from '../src/gateway/logger.js';
import { testConfig } from '../test/helpers/gateway.js';
import { startBenchUpstream } from './upstream.js';
import type { ChildMessage, ParentMessage, ServerSpec } from './processes.js';

/** A sink that keeps nothing: the benchmark's runs without an audit log. */
const NO_AUDIT: AuditSink = { append: async () => undefined, healthy: true };

/** Demo accounts of the benchmark IdP: bench-0 … bench-(n-1), group `bench`, password `demo`. */
export function benchUsers(count: number): DemoUser[] {
  return Array.from({ length: count }, (_, i) => ({ sub: `bench-${i}`, password: 'demo', email: `bench-${i}@example.org`, name: `Bench ${i}`, groups: ['bench'] }));
}

async function listen(app: FastifyInstance, port = 0): Promise<string> {
  await app.listen({ host: '127.0.0.1', port });
  const address = app.server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`;
}

async function bareProxy(upstream: string): Promise<{ url: string; close(): Promise<void> }> {
  const app = Fastify({ logger: false });
  await app.register(httpProxy, { upstream, websocket: true });
  return { url: await listen(app), close: () => app.close() };
}

async function bareRoute(): Promise<{ url: string; close(): Promise<void> }> {
  const app = Fastify({ logger: false });
  app.get('/verify', async (_request, reply) => reply.code(200).send());
  return { url: await listen(app), close: () => app.close() };
}

/** The smallest relying party that still does a real code flow: PKCE, state, nonce, token exchange. */
async function bareRelyingParty(spec: Extract<ServerSpec, { role: 'bare-rp' }>): Promise<{ url: string; close(): Promise<void> }> {
  const origin = `http://127.0.0.1:${spec.port}`;
  const redirectUri = `${origin}/callback`;
  const config = await client.discovery(new URL(spec.issuer), spec.clientId, undefined, client.ClientSecretBasic(spec.clientSecret), { execute: [client.allowInsecureRequests] });
  const pending = new Map<string, { verifier: string; nonce: string }>();
  const app = Fastify({ logger: false });
  app.get('/login', async (_request, reply) => {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    pending.set(state, { verifier, nonce });
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri, scope: 'openid email profile groups', response_type: 'code',
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce,
    });
    return reply.redirect(url.href, 302);
  });
  app.get('/callback', async (request, reply) => {
    const url = new URL(request.url, origin);
    const state = url.searchParams.get('state') ?? '';
    const login = pending.get(state);
    if (!login) return reply.code(400).send('unknown state');
    pending.delete(state);
    const tokens = await client.authorizationCodeGrant(config, url, { pkceCodeVerifier: login.verifier, expectedState: state, expectedNonce: login.nonce, idTokenExpected: true });
    return reply.code(200).type('text/plain').send(`signed in as ${tokens.claims()?.sub ?? '?'}`);
  });
  return { url: await listen(app, spec.port), close: () => app.close() };
}

async function start(spec: ServerSpec): Promise<{ url: string; close(): Promise<void> }> {
  switch (spec.role) {
    case 'upstream':
      return startBenchUpstream();
    case 'idp': {
      const idp = await startDemoIdp({ port: spec.port, users: benchUsers(spec.users), clients: spec.clients });
      return { url: idp.issuer, close: () => idp.close() };
    }
    case 'gateway': {
      const config = testConfig({
        port: spec.port, issuer: spec.issuer, clientSecret: spec.clientSecret, upstream: spec.upstream, store: spec.redisUrl,
        keyPrefix: spec.keyPrefix, policiesDir: spec.policiesDir, auditDir: spec.auditDir, keys: spec.keys,
        // Join-storm participants each come from their own address (X-Forwarded-For), as behind a real
        // reverse proxy; otherwise 50 people on one address would share one second-factor attempt limit.
        // Forward-auth only adds /_roomguard/verify; proxy mode works as before.
        extra: {
          trustProxy: ['127.0.0.1'], forwardAuth: { enabled: true, proxy: 'nginx' },
          ...(spec.backend === 'jitsi' ? { backend: { type: 'jitsi', upstream: spec.upstream, jitsi: { auth: 'none', domain: 'meet.jitsi' } } } : {}),
        },
      });
      // Logging as `roomguard serve` does (JSON lines at the configured level; the parent discards stdout).
      const gateway = await createGateway(config, { logger: loggerOptions(config.log.level), ...(spec.audit === 'off' ? { audit: NO_AUDIT } : {}) });
      await gateway.listen();
      return { url: `http://127.0.0.1:${spec.port}`, close: () => gateway.close() };
    }
    case 'bare-proxy':
      return bareProxy(spec.upstream);
    case 'bare-route':
      return bareRoute();
    case 'bare-rp':
      return bareRelyingParty(spec);
  }
}

const send = (message: ChildMessage) => process.send?.(message);

try {
  const spec = JSON.parse(process.env.ROOMGUARD_BENCH_SPEC ?? '') as ServerSpec;
  delete process.env.ROOMGUARD_BENCH_SPEC;
  // A benchmark that dies must not leave its servers running: they go when the parent's channel closes.
  process.once('disconnect', () => process.exit(0));
  const server = await start(spec);
  process.on('message', async (message: ParentMessage) => {
    if (message.type === 'memory') {
      // Two collections: the first may only schedule finalisers that free more.
      globalThis.gc?.();
      globalThis.gc?.();
      const { rss, heapUsed, external } = process.memoryUsage();
      send({ type: 'memory', sample: { rss, heapUsed, external } });
    } else if (message.type === 'close') {
      await server.close().catch(() => undefined);
      // A normal exit, so --cpu-prof writes its profile.
      process.exit(0);
    }
  });
  send({ type: 'ready', url: server.url });
} catch (err) {
  send({ type: 'failed', message: (err as Error).stack ?? String(err) });
  process.exit(1);
}
