// Builds a running gateway from a validated Config: store, policies (with hot reload), OIDC relying
// party, backend, assertion signer. Used by `roomguard serve`, `roomguard demo` and the tests.
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.js';
import { decodeKey } from '../config/validate.js';
import { policiesDirOf } from '../config/load.js';
import { LivePolicies } from '../policy/load.js';
import { backendFor } from '../backends/from-config.js';
import { OidcRelyingParty } from '../identity/oidc.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { AssertionSigner } from './assertion.js';
import { buildGateway } from './app.js';
import { formatProblem } from '../config/yaml-source.js';
import { readFileSync, statSync } from 'node:fs';
import type { AuditSink } from '../audit/sink.js';
import { AuditWriter } from '../audit/writer.js';
import { AuditTrail } from './audit-trail.js';
import { auditWriterOptions } from '../audit/config.js';
import { scheduleDailyPurge } from '../audit/purge.js';
import { GatewayMetrics } from './metrics.js';
import { TimedStore } from '../store/timed.js';
import { keyCensus } from '../store/key-census.js';
import { openSessionBus } from '../store/bus.js';
import { createServer } from 'node:http';
import { Handover } from './handover.js';
import { PolicySetError, type PolicyReloadEvent } from '../policy/load.js';
import type { GatewayDeps, GatewayStatus } from './context.js';
import type { Backend } from '../backends/backend.js';

export interface Gateway {
  /** The app answering new requests (a config reload replaces it). */
  readonly app: FastifyInstance;
  readonly policies: LivePolicies;
  store: Store;
  /** The audit writer (absent when a test supplied its own sink). */
  audit?: AuditWriter;
  metrics: GatewayMetrics;
  /** Starts listening; resolves to the bound address (host:port). */
  listen(): Promise<string>;
  /**
   * Applies a new configuration (SIGHUP) without dropping a connection: a new app is built and takes
   * every new request. Settings that need a restart are reported and keep their running values; a
   * policy set with problems rejects the whole reload (the running app keeps serving).
   */
  reload(next: Config): Promise<ReloadResult>;
  /** Records a reload whose config file did not validate: logs, metrics, audit and /readyz say so. */
  rejectReload(problems: string[]): void;
  /** SIGTERM: stop accepting, let requests finish, give WebSockets their grace, then close everything. */
  shutdown(): Promise<void>;
  close(): Promise<void>;
}

export interface ReloadResult {
  ok: boolean;
  /** Changed settings that take effect only after a restart (kept at their running values). */
  restartNeeded: string[];
  problems: string[];
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
  /** The backend adapter to use instead of the one `backend.type` names (tests of the Backend interface). */
  backend?: (config: Config) => Backend;
}

/** Settings a running process cannot change: the listener (and its timeouts), the store, keys, the metrics listener, the audit writer. */
const RESTART_ONLY = ['listen', 'http', 'store', 'secrets', 'metrics', 'audit.dir', 'audit.instance', 'audit.ip', 'audit.identity', 'audit.names', 'audit.retentionDays', 'audit.checkpointEvery', 'audit.checkpointInterval', 'audit.stdout', 'audit.syslog', 'log.format'] as const;

function settingOf(config: Config, path: string): string {
  let value: unknown = config;
  for (const part of path.split('.')) value = (value as Record<string, unknown> | undefined)?.[part];
  // Secrets compare by value (they print as [redacted]).
  return JSON.stringify(value, (_key, v: unknown) => (v && typeof v === 'object' && 'reveal' in v && typeof (v as { reveal: unknown }).reveal === 'function' ? (v as { reveal(): string }).reveal() : v));
}

export async function createGateway(config: Config, options: GatewayOptions = {}): Promise<Gateway> {
  const key = decodeKey(config.secrets.encryptionKey.reveal());
  if (!key) throw new Error('secrets.encryptionKey is not a 32-byte key');
  let running = config;
  const adapterFor = options.backend ?? backendFor;
  let backend = adapterFor(config);
  const policiesDir = (c: Config) => options.policiesDir ?? policiesDirOf(c);
  let policies = await LivePolicies.open(policiesDir(config), { reserved: backend.reservedRooms, settleMs: config.policies.settle });
  // The audit log (the configured file chain, unless a test hands in its own sink) opens before the store:
  // a process refused the chain (another holds its lock) then ends at once instead of idling on connections.
  const writer = options.audit ? undefined : await AuditWriter.open(auditWriterOptions(config, { ...(options.now ? { now: options.now } : {}) }));

  const metrics = new GatewayMetrics();
  // Every store operation is timed (roomguard_store_operation_seconds); the bus and census look through the wrapper.
  const store = new TimedStore(await openStore(config), metrics.storeLatency);
  // Active sessions are the live `session:` records of the shared store, so every instance reports the same number.
  const sessionCensus = keyCensus(store, 'session:');
  if (sessionCensus) metrics.countSessionsWith(sessionCensus);
  const bus = await openSessionBus(store, config.store.keyPrefix);
  // The one audit trail of the process: every generation of the app writes through it (refusal budget included).
  const audit: AuditTrail = new AuditTrail(options.audit ?? writer!, metrics, { ...(options.now ? { now: options.now } : {}), log: () => current().log });
  const status: GatewayStatus = { config: `${config.sourceFile} loaded ${new Date().toISOString()}` };

  /** One generation of the app for a configuration: everything that may change on reload is built here. */
  const buildApp = async (c: Config, serverFactory?: GatewayDeps['serverFactory']) => {
    const oidc = new OidcRelyingParty({
      issuer: c.oidc.issuer,
      clientId: c.oidc.clientId,
      clientSecret: c.oidc.clientSecret.reveal(),
      scopes: c.oidc.scopes,
      claims: c.oidc.claims,
      userinfo: c.oidc.userinfo,
      loginTimeoutMs: c.oidc.loginTimeout,
      redirectUri: new URL('/_roomguard/callback', c.publicUrl).href,
      postLogoutRedirectUri: new URL('/_roomguard/logged-out', c.publicUrl).href,
    }, store);
    // Discover early so the first participant does not wait; failures are retried on demand.
    oidc.metadata().catch(() => undefined);
    const assertion = await AssertionSigner.create(c.secrets.assertionKey.reveal(), c.publicUrl.origin, c.backend.upstream.origin);
    const logo = c.ui.logo ? readLogo(c.ui.logo) : undefined;
    return buildGateway({
      config: c, store, bus, policies, backend, oidc, assertion, audit, metrics, encryptionKey: key, status,
      ...(serverFactory ? { serverFactory } : {}),
      ...(logo ? { logo } : {}), ...(options.logger !== undefined ? { logger: serverFactory ? withLevel(options.logger, c.log.level) : options.logger } : {}),
      ...(options.redirectToPublicHost ? { redirectToPublicHost: true } : {}), ...(options.now ? { now: options.now } : {}),
    });
  };

  const first = await buildApp(config);
  let handover: Handover | undefined;
  /** Earlier generations, kept until their WebSockets have closed (they own them). */
  const retired: FastifyInstance[] = [];
  const current = () => handover?.app ?? first;

  const policyFiles = (files: Array<{ file: string; sha256: string }>) => ({ files: files.map((f) => f.file).slice(0, 64), sha256: files.map((f) => f.sha256).slice(0, 64) });
  const configDetails = (c: Config) => ({ file: c.sourceFile, publicUrl: c.publicUrl.origin, backend: c.backend.type, store: c.store.url === 'memory' ? 'memory' : 'redis' });
  await audit.recordProcess({ type: 'config.loaded', outcome: 'success', details: configDetails(config) });
  await audit.recordProcess({ type: 'policy.loaded', outcome: 'success', details: { version: policies.current.version, ...policyFiles(policies.current.policies.map((p) => ({ file: p.file, sha256: p.sha256 }))) } });
  const onPolicyReload = (event: PolicyReloadEvent) => {
    metrics.policyReloads.inc({ result: event.ok ? 'loaded' : 'rejected' });
    if (event.ok) {
      delete status.policiesRejected;
      current().log.info({ event: 'policies.loaded', version: event.version, files: event.files }, 'policy set loaded');
      void audit.recordProcess({ type: 'policy.loaded', outcome: 'success', details: { version: event.version ?? '', ...policyFiles(event.files) } });
    } else {
      const problems = event.problems.map(formatProblem);
      status.policiesRejected = `${new Date().toISOString()}: ${problems[0] ?? 'problems'}${problems.length > 1 ? ` (+${problems.length - 1} more)` : ''}`;
      current().log.error({ event: 'policies.rejected', problems }, 'policy set rejected; the previous set keeps serving');
      void audit.recordProcess({ type: 'policy.rejected', outcome: 'failure', reason: 'RG_POLICY_INVALID', details: { problems: problems.slice(0, 20).map((p) => p.slice(0, 500)), ...policyFiles(event.files) } });
    }
  };
  policies.on('reload', onPolicyReload);
  if (config.policies.watch) policies.watch();
  let metricsServer: { address: string; close(): Promise<void> } | undefined;
  const stopPurge = writer
    ? scheduleDailyPurge(writer, config.audit.retentionDays, {
      onResult: (result) => current().log.info({ event: 'audit.purge', result }, 'audit retention purge'),
      onError: (err) => current().log.error({ err: err.message }, 'audit purge failed'),
    })
    : () => undefined;
  const retireTimer = setInterval(() => void closeRetired(), 10_000);
  retireTimer.unref();
  /** Closes earlier generations once their WebSockets are gone; the first owns the listening socket and goes last. */
  const closeRetired = async () => {
    for (const app of [...retired]) {
      if (app === first || openWebSockets(app) > 0) continue;
      retired.splice(retired.indexOf(app), 1);
      await app.close().catch(() => undefined);
    }
  };

  const rejectReload = (problems: string[]) => {
    metrics.configReloads.inc({ result: 'rejected' });
    status.config = `${running.sourceFile} loaded; reload rejected ${new Date().toISOString()}: ${problems[0] ?? 'problems'}${problems.length > 1 ? ` (+${problems.length - 1} more)` : ''}`;
    current().log.error({ event: 'config.rejected', problems }, 'configuration reload rejected; the running configuration keeps serving');
    void audit.recordProcess({ type: 'config.rejected', outcome: 'failure', reason: 'RG_CONFIG_INVALID', details: { file: running.sourceFile, problems: problems.slice(0, 20).map((p) => p.slice(0, 500)) } });
  };

  const gateway: Gateway = {
    get app() {
      return current();
    },
    get policies() {
      return policies;
    },
    store,
    ...(writer ? { audit: writer } : {}),
    metrics,
    async listen() {
      if (config.metrics.listen && !metricsServer) metricsServer = await metrics.serve(config.metrics.listen);
      const at = config.listen.lastIndexOf(':');
      const host = config.listen.slice(0, at).replace(/^\[|\]$/g, '');
      const port = Number(config.listen.slice(at + 1));
      await first.listen({ host, port });
      handover = new Handover(first);
      const address = first.server.address();
      return typeof address === 'object' && address ? `${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}` : config.listen;
    },
    async reload(next) {
      if (!handover) throw new Error('reload() before listen()');
      const restartNeeded = RESTART_ONLY.filter((path) => settingOf(next, path) !== settingOf(running, path));
      // Keep what cannot change: the new app runs with the running values of those settings.
      const effective: Config = { ...next, listen: running.listen, http: running.http, store: running.store, secrets: running.secrets, metrics: running.metrics, audit: { ...running.audit, reviewers: next.audit.reviewers }, log: { ...next.log, format: running.log.format } };
      // Everything is built on the side and switched in only when all of it stands: a reload with any
      // problem leaves the running config and policy set untouched.
      let nextBackend: Backend;
      let nextPolicies: LivePolicies;
      try {
        nextBackend = adapterFor(effective);
        nextPolicies = await LivePolicies.open(policiesDir(effective), { reserved: nextBackend.reservedRooms, settleMs: effective.policies.settle });
      } catch (err) {
        const problems = err instanceof PolicySetError ? err.problems.map(formatProblem) : [(err as Error).message];
        if (err instanceof PolicySetError) onPolicyReload({ ok: false, problems: err.problems, files: [] });
        rejectReload(problems);
        return { ok: false, restartNeeded, problems };
      }
      const previous = { backend, policies };
      let app: FastifyInstance;
      try {
        backend = nextBackend;
        policies = nextPolicies;
        app = await buildApp(effective, (handler) => createServer(handler));
        await app.ready();
      } catch (err) {
        nextPolicies.close();
        backend = previous.backend;
        policies = previous.policies;
        rejectReload([(err as Error).message]);
        return { ok: false, restartNeeded, problems: [(err as Error).message] };
      }
      previous.policies.close();
      nextPolicies.on('reload', onPolicyReload);
      if (effective.policies.watch) nextPolicies.watch();
      if (nextPolicies.current.version !== previous.policies.current.version) {
        onPolicyReload({ ok: true, problems: [], version: nextPolicies.current.version, files: nextPolicies.current.policies.map((p) => ({ file: p.file, sha256: p.sha256 })) });
      }
      retired.push(handover.switchTo(app));
      running = effective;
      metrics.configReloads.inc({ result: 'loaded' });
      status.config = `${next.sourceFile} reloaded ${new Date().toISOString()}${restartNeeded.length ? `; restart needed for: ${restartNeeded.join(', ')}` : ''}`;
      app.log.info({ event: 'config.reloaded', restartNeeded, policies: policies.current.version.slice(0, 12) }, 'configuration reloaded');
      if (restartNeeded.length) app.log.warn({ event: 'config.restart_needed', settings: restartNeeded }, 'some changed settings take effect only after a restart');
      void audit.recordProcess({ type: 'config.loaded', outcome: 'success', details: { ...configDetails(effective), reload: true, ...(restartNeeded.length ? { restartNeeded } : {}) } });
      return { ok: true, restartNeeded, problems: [] };
    },
    rejectReload,
    async shutdown() {
      const settings = running.shutdown;
      const log = current().log;
      log.info({ event: 'shutdown.begin', drainTimeout: settings.drainTimeout, websocketGrace: settings.websocketGrace }, 'stopping: no new connections, draining');
      const left = handover ? await handover.drain(settings.drainTimeout) : 0;
      if (left > 0) log.warn({ event: 'shutdown.requests_cut', requests: left }, 'requests still running after the drain timeout are cut');
      const apps = [current(), ...retired];
      const sockets = () => apps.reduce((n, app) => n + openWebSockets(app), 0);
      const deadline = Date.now() + settings.websocketGrace;
      while (sockets() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      log.info({ event: 'shutdown.websockets', closing: sockets() }, 'closing the remaining WebSockets');
      for (const app of apps) (app as FastifyInstance & { roomguardCloseSockets?: () => void }).roomguardCloseSockets?.();
      const closed = Date.now() + 1500;
      while (sockets() > 0 && Date.now() < closed) await new Promise((r) => setTimeout(r, 50));
      await gateway.close();
    },
    async close() {
      clearInterval(retireTimer);
      policies.close();
      stopPurge();
      await metricsServer?.close();
      for (const app of new Set([current(), ...retired])) if (app !== first) await app.close().catch(() => undefined);
      // After a drain the listening socket is already closed; fastify then reports "not running".
      await first.close().catch((err: unknown) => {
        if ((err as { code?: string }).code !== 'ERR_SERVER_NOT_RUNNING') throw err;
      });
      // Anonymous refusals only counted so far are summarised, then the writer flushes its group commit.
      await audit.close();
      await writer?.close();
      await bus.close();
      await store.close();
    },
  };
  return gateway;
}

/** The logger settings with the level of this configuration (log.level applies on reload). */
function withLevel(logger: boolean | object, level: string): boolean | object {
  return typeof logger === 'object' && logger !== null && 'level' in logger ? { ...logger, level } : logger;
}

/** Proxied WebSockets an app generation holds open (metrics-free count from its socket tracker). */
function openWebSockets(app: FastifyInstance): number {
  return (app as FastifyInstance & { roomguardSockets?: () => number }).roomguardSockets?.() ?? 0;
}

const MAX_LOGO_BYTES = 256 * 1024;

function readLogo(path: string): { body: Buffer; type: string } {
  if (statSync(path).size > MAX_LOGO_BYTES) throw new Error(`ui.logo: ${path} is larger than ${MAX_LOGO_BYTES} bytes`);
  return { body: readFileSync(path), type: path.toLowerCase().endsWith('.svg') ? 'image/svg+xml' : 'image/png' };
}
