// Builds a running gateway from a validated Config: store, policies (with hot reload), OIDC relying
// party, backend, assertion signer. Used by `roomguard serve`, `roomguard demo` and the tests.
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.js';
import { decodeKey } from '../config/validate.js';
import { policiesDirOf } from '../config/load.js';
import { LivePolicies } from '../policy/load.js';
import { backendFor } from '../backends/from-config.js';
import { OidcRelyingParty } from '../identity/oidc.js';
import { MemoryStore } from '../store/memory.js';
import { RedisStore } from '../store/redis.js';
import { redisStoreOptions } from '../store/redis-settings.js';
import { SealedStore } from '../store/sealed.js';
import type { Store } from '../store/store.js';
import { AssertionSigner } from './assertion.js';
import { buildGateway } from './app.js';
import { formatProblem } from '../config/yaml-source.js';
import { readFileSync, statSync } from 'node:fs';
import type { AuditSink, GatewayAuditEvent } from './audit-sink.js';
import { AuditWriter, auditSinkOf } from '../audit/writer.js';
import { auditWriterOptions } from '../audit/config.js';
import { scheduleDailyPurge } from '../audit/purge.js';
import { GatewayMetrics } from './metrics.js';
import { TimedStore } from '../store/timed.js';
import { keyCensus } from '../store/key-census.js';
import { openSessionBus } from '../store/bus.js';

export interface Gateway {
  app: FastifyInstance;
  policies: LivePolicies;
  store: Store;
  /** The audit writer (absent when a test supplied its own sink). */
  audit?: AuditWriter;
  metrics: GatewayMetrics;
  /** Starts listening; resolves to the bound address (host:port). */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export interface GatewayOptions {
  logger?: boolean | object;
  /** Policy directory to use instead of config.policies.dir (the demo uses the shipped examples). */
  policiesDir?: string;
  /** Audit sink to use instead of the configured audit log (tests of unrelated behaviour). */
  audit?: AuditSink;
  /** Redirect page loads that arrive under another host name to publicUrl (the demo: 127.0.0.1 → localhost). */
  redirectToPublicHost?: boolean;
  /** The gateway's clock (tests of timeouts and step-up). */
  now?: () => number;
}

export async function createGateway(config: Config, options: GatewayOptions = {}): Promise<Gateway> {
  const key = decodeKey(config.secrets.encryptionKey.reveal());
  if (!key) throw new Error('secrets.encryptionKey is not a 32-byte key');
  const backend = backendFor(config);
  const policies = LivePolicies.open(options.policiesDir ?? policiesDirOf(config), backend.reservedRooms);

  const metrics = new GatewayMetrics();
  // Every store operation is timed (roomguard_store_operation_seconds); the bus and census look through the wrapper.
  const store = new TimedStore(await openStore(config), metrics.storeLatency);
  // Active sessions are the live `session:` records of the shared store, so every instance reports the same number.
  const sessionCensus = keyCensus(store, 'session:');
  if (sessionCensus) metrics.countSessionsWith(sessionCensus);
  const bus = await openSessionBus(store, `${config.store.keyPrefix}session-events`);
  const oidc = new OidcRelyingParty({
    issuer: config.oidc.issuer,
    clientId: config.oidc.clientId,
    clientSecret: config.oidc.clientSecret.reveal(),
    scopes: config.oidc.scopes,
    claims: config.oidc.claims,
    userinfo: config.oidc.userinfo,
    loginTimeoutMs: config.oidc.loginTimeout,
    redirectUri: new URL('/_roomguard/callback', config.publicUrl).href,
    postLogoutRedirectUri: new URL('/_roomguard/logged-out', config.publicUrl).href,
  }, store);
  // Discover early so the first participant does not wait; failures are retried on demand.
  oidc.metadata().catch(() => undefined);
  const assertion = await AssertionSigner.create(config.secrets.assertionKey.reveal(), config.publicUrl.origin, config.backend.upstream.origin);
  const logo = config.ui.logo ? readLogo(config.ui.logo) : undefined;
  // The audit log: the configured file chain, unless a test hands in its own sink.
  const writer = options.audit ? undefined : await AuditWriter.open(auditWriterOptions(config, { ...(options.now ? { now: options.now } : {}) }));
  const audit: AuditSink = metrics.watchAudit(options.audit ?? auditSinkOf(writer!));
  const app = await buildGateway({ config, store, bus, policies, backend, oidc, assertion, audit, metrics, encryptionKey: key, ...(logo ? { logo } : {}), ...(options.logger !== undefined ? { logger: options.logger } : {}), ...(options.redirectToPublicHost ? { redirectToPublicHost: true } : {}), ...(options.now ? { now: options.now } : {}) });

  const record = (event: GatewayAuditEvent) => audit.append(event).catch((err: unknown) => app.log.error({ err: (err as Error).message, event: event.type }, 'audit append failed'));
  const policyFiles = (files: Array<{ file: string; sha256: string }>) => ({ files: files.map((f) => f.file).slice(0, 64), sha256: files.map((f) => f.sha256).slice(0, 64) });
  await record({ type: 'config.loaded', outcome: 'success', details: { file: config.sourceFile, publicUrl: config.publicUrl.origin, backend: config.backend.type, store: config.store.url === 'memory' ? 'memory' : 'redis' } });
  await record({ type: 'policy.loaded', outcome: 'success', details: { version: policies.current.version, ...policyFiles(policies.current.policies.map((p) => ({ file: p.file, sha256: p.sha256 }))) } });
  policies.on('reload', (event) => {
    metrics.policyReloads.inc({ result: event.ok ? 'loaded' : 'rejected' });
    if (event.ok) {
      app.log.info({ event: 'policies.loaded', version: event.version, files: event.files }, 'policy set loaded');
      void record({ type: 'policy.loaded', outcome: 'success', details: { version: event.version ?? '', ...policyFiles(event.files) } });
    } else {
      const problems = event.problems.map(formatProblem);
      app.log.error({ event: 'policies.rejected', problems }, 'policy set rejected; the previous set keeps serving');
      void record({ type: 'policy.rejected', outcome: 'failure', reason: 'RG_POLICY_INVALID', details: { problems: problems.slice(0, 20).map((p) => p.slice(0, 500)), ...policyFiles(event.files) } });
    }
  });
  if (config.policies.watch) policies.watch();
  let metricsServer: { address: string; close(): Promise<void> } | undefined;
  const stopPurge = writer
    ? scheduleDailyPurge(writer, config.audit.retentionDays, {
      onResult: (result) => app.log.info({ event: 'audit.purge', result }, 'audit retention purge'),
      onError: (err) => app.log.error({ err: err.message }, 'audit purge failed'),
    })
    : () => undefined;

  return {
    app,
    policies,
    store,
    ...(writer ? { audit: writer } : {}),
    metrics,
    async listen() {
      if (config.metrics.listen && !metricsServer) metricsServer = await metrics.serve(config.metrics.listen);
      const at = config.listen.lastIndexOf(':');
      const host = config.listen.slice(0, at).replace(/^\[|\]$/g, '');
      const port = Number(config.listen.slice(at + 1));
      await app.listen({ host, port });
      const address = app.server.address();
      return typeof address === 'object' && address ? `${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}` : config.listen;
    },
    async close() {
      policies.close();
      stopPurge();
      await metricsServer?.close();
      await app.close();
      await writer?.close();
      await bus.close();
      await store.close();
    },
  };
}

const MAX_LOGO_BYTES = 256 * 1024;

function readLogo(path: string): { body: Buffer; type: string } {
  if (statSync(path).size > MAX_LOGO_BYTES) throw new Error(`ui.logo: ${path} is larger than ${MAX_LOGO_BYTES} bytes`);
  return { body: readFileSync(path), type: path.toLowerCase().endsWith('.svg') ? 'image/svg+xml' : 'image/png' };
}

/** The configured store, connected and sealed with secrets.encryptionKey (and the previous key during a rotation). */
export async function openStore(config: Config): Promise<SealedStore> {
  const key = decodeKey(config.secrets.encryptionKey.reveal());
  if (!key) throw new Error('secrets.encryptionKey is not a 32-byte key');
  let rawStore: Store;
  if (config.store.url === 'memory') rawStore = new MemoryStore();
  else {
    const redis = new RedisStore(redisStoreOptions(config));
    try {
      await redis.connect();
    } catch (err) {
      // Stop its reconnect loop: the caller gives up (serve exits, a CLI command reports the error).
      await redis.close();
      throw err;
    }
    rawStore = redis;
  }
  const previous = config.secrets.previousEncryptionKey ? decodeKey(config.secrets.previousEncryptionKey.reveal()) : undefined;
  return new SealedStore(rawStore, key, previous ? [previous] : []);
}
