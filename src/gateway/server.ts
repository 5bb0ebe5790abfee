// Builds a running gateway from a validated Config: store, policies (with hot reload), OIDC relying
// party, backend, assertion signer. Used by `roomguard serve`, `roomguard demo` and the tests.
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.js';
import { decodeKey } from '../config/validate.js';
import { policiesDirOf } from '../config/load.js';
import { LivePolicies } from '../policy/load.js';
import { backendFor } from '../backends/from-config.js';
import { OidcRelyingParty } from '../identity/oidc.js';
import { claimMapping, groupNameTable, PROFILES, profileNamed } from '../identity/profiles.js';
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
import { PersonKeys } from '../audit/person-keys.js';
import { scheduleDailyPurge } from '../audit/purge.js';
import { GatewayMetrics } from './metrics.js';
import { TimedStore } from '../store/timed.js';
import { keyCensus } from '../store/key-census.js';
import { openSessionBus, type SessionBus } from '../store/bus.js';
import { loadAuthenticatorMetadata, type AuthenticatorMetadata } from '../mfa/metadata.js';
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
  const adapterFor = options.backend ?? backendFor;
  const backend = adapterFor(config);
  // The authenticators' metadata before anything listens: a blob that does not verify stops the start.
  const metadata = config.mfa.metadata ? await loadAuthenticatorMetadata({ metadata: config.mfa.metadata, metadataRoot: config.mfa.metadataRoot }) : undefined;
  const policies = await LivePolicies.open(options.policiesDir ?? policiesDirOf(config), { reserved: backend.reservedRooms, settleMs: config.policies.settle });
  // The audit log (the configured file chain, unless a test hands in its own sink) opens before the store:
  // a process refused the chain (another holds its lock) then ends at once instead of idling on connections.
  const writer = options.audit ? undefined : await AuditWriter.open(auditWriterOptions(config, { ...(options.now ? { now: options.now } : {}) }));
  const metrics = new GatewayMetrics();
  // Every store operation is timed (roomguard_store_operation_seconds); the bus and census look through the wrapper.
  const store = new TimedStore(await openStore(config), metrics.storeLatency);
  // Active sessions are the live `session:` records of the shared store, so every instance reports the same number.
  const sessionCensus = keyCensus(store, 'session:');
  if (sessionCensus) metrics.countSessionsWith(sessionCensus);
  // audit.identity erasable: the person keys live in the store, which opens after the writer.
  writer?.usePersonKeys(new PersonKeys(store, config.audit.retentionDays));
  const bus = await openSessionBus(store, config.store.keyPrefix);
  const gateway = new RunningGateway({ config, options, key, adapterFor, backend, policies, writer, metrics, store, bus, ...(metadata ? { metadata } : {}) });
  await gateway.start();
  return gateway;
}

interface Parts {
  /** The FIDO metadata read at start (mfa.metadata); a reload keeps it. */
  metadata?: AuthenticatorMetadata;
  config: Config;
  options: GatewayOptions;
  key: Buffer;
  adapterFor: (config: Config) => Backend;
  backend: Backend;
  policies: LivePolicies;
  writer: AuditWriter | undefined;
  metrics: GatewayMetrics;
  store: TimedStore;
  bus: SessionBus;
}

/**
 * A gateway process's lifetime: the first app generation, one more per accepted reload (each takes the
 * new requests; earlier ones keep their WebSockets until they close), policy reloads, the daily audit
 * purge, and the orderly stop.
 */
class RunningGateway implements Gateway {
  readonly store: TimedStore;
  readonly audit?: AuditWriter;
  readonly metrics: GatewayMetrics;
  readonly #parts: Parts;
  readonly #trail: AuditTrail;
  readonly #status: GatewayStatus;
  #running: Config;
  #backend: Backend;
  #policies: LivePolicies;
  #first!: FastifyInstance;
  #handover: Handover | undefined;
  /** Earlier generations, kept until their WebSockets have closed (they own them). */
  readonly #retired: FastifyInstance[] = [];
  #metricsServer: { address: string; close(): Promise<void> } | undefined;
  #stopPurge: () => void = () => undefined;
  #retireTimer: NodeJS.Timeout | undefined;
  readonly #onPolicyReload = (event: PolicyReloadEvent) => this.#policyReloaded(event);

  constructor(parts: Parts) {
    this.#parts = parts;
    this.store = parts.store;
    if (parts.writer) this.audit = parts.writer;
    this.metrics = parts.metrics;
    this.#running = parts.config;
    this.#backend = parts.backend;
    this.#policies = parts.policies;
    // The one audit trail of the process: every generation of the app writes through it (refusal budget included).
    this.#trail = new AuditTrail(parts.options.audit ?? parts.writer!, parts.metrics, { ...(parts.options.now ? { now: parts.options.now } : {}), log: () => this.app.log });
    this.#status = { config: `${parts.config.sourceFile} loaded ${new Date().toISOString()}` };
  }

  get app(): FastifyInstance {
    return this.#handover?.app ?? this.#first;
  }

  get policies(): LivePolicies {
    return this.#policies;
  }

  /** The first generation, the start's audit records, policy watching, the purge and the retirement of old generations. */
  async start(): Promise<void> {
    const { config } = this.#parts;
    this.#first = await this.#buildApp(config);
    await this.#trail.recordProcess({ type: 'config.loaded', outcome: 'success', details: configDetails(config) });
    await this.#trail.recordProcess({ type: 'policy.loaded', outcome: 'success', details: { version: this.#policies.current.version, ...policyFiles(filesOf(this.#policies)) } });
    this.#policies.on('reload', this.#onPolicyReload);
    if (config.policies.watch) this.#policies.watch();
    const writer = this.#parts.writer;
    if (writer) {
      this.#stopPurge = scheduleDailyPurge(writer, config.audit.retentionDays, {
        onResult: (result) => this.app.log.info({ event: 'audit.purge', result }, 'audit retention purge'),
        onError: (err) => this.app.log.error({ err: err.message }, 'audit purge failed'),
      });
    }
    this.#retireTimer = setInterval(() => void this.#closeRetired(), 10_000);
    this.#retireTimer.unref();
  }

  /** One generation of the app for a configuration: everything that may change on reload is built here. */
  async #buildApp(c: Config, serverFactory?: GatewayDeps['serverFactory']): Promise<FastifyInstance> {
    const { options, store, bus, metrics, key } = this.#parts;
    const oidc = new OidcRelyingParty({
      issuer: c.oidc.issuer,
      clientId: c.oidc.clientId,
      clientSecret: c.oidc.clientSecret.reveal(),
      scopes: c.oidc.scopes,
      claims: claimMapping(profileNamed(c.oidc.profile), c.oidc.claims, groupNameTable(c.oidc.groupNames), c.oidc.trustEmail),
      userinfo: c.oidc.userinfo ?? PROFILES[profileNamed(c.oidc.profile)].userinfo,
      loginTimeoutMs: c.oidc.loginTimeout,
      redirectUri: new URL('/_roomguard/callback', c.publicUrl).href,
      postLogoutRedirectUri: new URL('/_roomguard/logged-out', c.publicUrl).href,
    }, store);
    // Discover early so the first participant does not wait; failures are retried on demand.
    oidc.metadata().catch(() => undefined);
    const assertion = await AssertionSigner.create(c.secrets.assertionKey.reveal(), c.publicUrl.origin, c.backend.upstream.origin);
    const logo = c.ui.logo ? readLogo(c.ui.logo) : undefined;
    return buildGateway({
      ...(this.#parts.metadata ? { metadata: this.#parts.metadata } : {}),
      config: c, store, bus, policies: this.#policies, backend: this.#backend, oidc, assertion, audit: this.#trail, metrics, encryptionKey: key, status: this.#status,
      ...(serverFactory ? { serverFactory } : {}),
      ...(logo ? { logo } : {}), ...(options.logger !== undefined ? { logger: serverFactory ? withLevel(options.logger, c.log.level) : options.logger } : {}),
      ...(options.redirectToPublicHost ? { redirectToPublicHost: true } : {}), ...(options.now ? { now: options.now } : {}),
    });
  }

  #policyReloaded(event: PolicyReloadEvent): void {
    this.metrics.policyReloads.inc({ result: event.ok ? 'loaded' : 'rejected' });
    if (event.ok) {
      delete this.#status.policiesRejected;
      this.app.log.info({ event: 'policies.loaded', version: event.version, files: event.files }, 'policy set loaded');
      void this.#trail.recordProcess({ type: 'policy.loaded', outcome: 'success', details: { version: event.version ?? '', ...policyFiles(event.files) } });
      return;
    }
    const problems = event.problems.map(formatProblem);
    this.#status.policiesRejected = `${new Date().toISOString()}: ${summary(problems)}`;
    this.app.log.error({ event: 'policies.rejected', problems }, 'policy set rejected; the previous set keeps serving');
    void this.#trail.recordProcess({ type: 'policy.rejected', outcome: 'failure', reason: 'RG_POLICY_INVALID', details: { problems: problems.slice(0, 20).map((p) => p.slice(0, 500)), ...policyFiles(event.files) } });
  }

  /** Closes earlier generations once their WebSockets are gone; the first owns the listening socket and goes last. */
  async #closeRetired(): Promise<void> {
    for (const app of [...this.#retired]) {
      if (app === this.#first || openWebSockets(app) > 0) continue;
      this.#retired.splice(this.#retired.indexOf(app), 1);
      await app.close().catch(() => undefined);
    }
  }

  rejectReload(problems: string[]): void {
    this.metrics.configReloads.inc({ result: 'rejected' });
    this.#status.config = `${this.#running.sourceFile} loaded; reload rejected ${new Date().toISOString()}: ${summary(problems)}`;
    this.app.log.error({ event: 'config.rejected', problems }, 'configuration reload rejected; the running configuration keeps serving');
    void this.#trail.recordProcess({ type: 'config.rejected', outcome: 'failure', reason: 'RG_CONFIG_INVALID', details: { file: this.#running.sourceFile, problems: problems.slice(0, 20).map((p) => p.slice(0, 500)) } });
  }

  async listen(): Promise<string> {
    const { config, metrics } = this.#parts;
    if (config.metrics.listen && !this.#metricsServer) this.#metricsServer = await metrics.serve(config.metrics.listen);
    const at = config.listen.lastIndexOf(':');
    const host = config.listen.slice(0, at).replace(/^\[|\]$/g, '');
    const port = Number(config.listen.slice(at + 1));
    await this.#first.listen({ host, port });
    this.#handover = new Handover(this.#first);
    const address = this.#first.server.address();
    return typeof address === 'object' && address ? `${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}` : config.listen;
  }

  async reload(next: Config): Promise<ReloadResult> {
    const handover = this.#handover;
    if (!handover) throw new Error('reload() before listen()');
    const running = this.#running;
    const restartNeeded = RESTART_ONLY.filter((path) => settingOf(next, path) !== settingOf(running, path));
    // Keep what cannot change: the new app runs with the running values of those settings.
    const effective: Config = { ...next, listen: running.listen, http: running.http, store: running.store, secrets: running.secrets, metrics: running.metrics, audit: { ...running.audit, reviewers: next.audit.reviewers }, log: { ...next.log, format: running.log.format } };
    // Everything is built on the side and switched in only when all of it stands: a reload with any
    // problem leaves the running config and policy set untouched.
    const built = await this.#buildGeneration(effective);
    if ('problems' in built) return { ok: false, restartNeeded, problems: built.problems };
    this.#retired.push(handover.switchTo(built.app));
    this.#running = effective;
    this.metrics.configReloads.inc({ result: 'loaded' });
    this.#status.config = `${next.sourceFile} reloaded ${new Date().toISOString()}${restartNeeded.length ? `; restart needed for: ${restartNeeded.join(', ')}` : ''}`;
    built.app.log.info({ event: 'config.reloaded', restartNeeded, policies: this.#policies.current.version.slice(0, 12) }, 'configuration reloaded');
    if (restartNeeded.length) built.app.log.warn({ event: 'config.restart_needed', settings: restartNeeded }, 'some changed settings take effect only after a restart');
    void this.#trail.recordProcess({ type: 'config.loaded', outcome: 'success', details: { ...configDetails(effective), reload: true, ...(restartNeeded.length ? { restartNeeded } : {}) } });
    return { ok: true, restartNeeded, problems: [] };
  }

  /** The backend, policy set and app of a new configuration, all or nothing; the running ones stay on any problem. */
  async #buildGeneration(effective: Config): Promise<{ app: FastifyInstance } | { problems: string[] }> {
    let nextBackend: Backend;
    let nextPolicies: LivePolicies;
    try {
      nextBackend = this.#parts.adapterFor(effective);
      nextPolicies = await LivePolicies.open(this.#parts.options.policiesDir ?? policiesDirOf(effective), { reserved: nextBackend.reservedRooms, settleMs: effective.policies.settle });
    } catch (err) {
      const problems = err instanceof PolicySetError ? err.problems.map(formatProblem) : [(err as Error).message];
      if (err instanceof PolicySetError) this.#policyReloaded({ ok: false, problems: err.problems, files: [] });
      this.rejectReload(problems);
      return { problems };
    }
    const previous = { backend: this.#backend, policies: this.#policies };
    let app: FastifyInstance;
    try {
      this.#backend = nextBackend;
      this.#policies = nextPolicies;
      app = await this.#buildApp(effective, (handler) => createServer(handler));
      await app.ready();
    } catch (err) {
      nextPolicies.close();
      this.#backend = previous.backend;
      this.#policies = previous.policies;
      this.rejectReload([(err as Error).message]);
      return { problems: [(err as Error).message] };
    }
    previous.policies.close();
    nextPolicies.on('reload', this.#onPolicyReload);
    if (effective.policies.watch) nextPolicies.watch();
    if (nextPolicies.current.version !== previous.policies.current.version) {
      this.#policyReloaded({ ok: true, problems: [], version: nextPolicies.current.version, files: filesOf(nextPolicies) });
    }
    return { app };
  }

  async shutdown(): Promise<void> {
    const settings = this.#running.shutdown;
    const log = this.app.log;
    log.info({ event: 'shutdown.begin', drainTimeout: settings.drainTimeout, websocketGrace: settings.websocketGrace }, 'stopping: no new connections, draining');
    const left = this.#handover ? await this.#handover.drain(settings.drainTimeout) : 0;
    if (left > 0) log.warn({ event: 'shutdown.requests_cut', requests: left }, 'requests still running after the drain timeout are cut');
    const apps = [this.app, ...this.#retired];
    const sockets = () => apps.reduce((n, app) => n + openWebSockets(app), 0);
    const deadline = Date.now() + settings.websocketGrace;
    while (sockets() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    log.info({ event: 'shutdown.websockets', closing: sockets() }, 'closing the remaining WebSockets');
    for (const app of apps) (app as FastifyInstance & { roomguardCloseSockets?: () => void }).roomguardCloseSockets?.();
    const closed = Date.now() + 1500;
    while (sockets() > 0 && Date.now() < closed) await new Promise((r) => setTimeout(r, 50));
    await this.close();
  }

  async close(): Promise<void> {
    clearInterval(this.#retireTimer);
    this.#policies.close();
    this.#stopPurge();
    await this.#metricsServer?.close();
    for (const app of new Set([this.app, ...this.#retired])) if (app !== this.#first) await app.close().catch(() => undefined);
    // After a drain the listening socket is already closed; fastify then reports "not running".
    await this.#first.close().catch((err: unknown) => {
      if ((err as { code?: string }).code !== 'ERR_SERVER_NOT_RUNNING') throw err;
    });
    // Anonymous refusals only counted so far are summarised, then the writer flushes its group commit.
    await this.#trail.close();
    await this.#parts.writer?.close();
    await this.#parts.bus.close();
    await this.store.close();
  }
}

function filesOf(policies: LivePolicies): Array<{ file: string; sha256: string }> {
  return policies.current.policies.map((p) => ({ file: p.file, sha256: p.sha256 }));
}

function policyFiles(files: Array<{ file: string; sha256: string }>) {
  return { files: files.map((f) => f.file).slice(0, 64), sha256: files.map((f) => f.sha256).slice(0, 64) };
}

function configDetails(c: Config) {
  return { file: c.sourceFile, publicUrl: c.publicUrl.origin, backend: c.backend.type, store: c.store.url === 'memory' ? 'memory' : 'redis' };
}

/** The first problem, and how many more. */
function summary(problems: string[]): string {
  return `${problems[0] ?? 'problems'}${problems.length > 1 ? ` (+${problems.length - 1} more)` : ''}`;
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
