// The test rig: starts what a test of a running gateway needs — the real demo OIDC provider, an echo
// upstream, the run's Redis and one or more gateway instances of one deployment (same keys, store prefix
// and IdP client) — and closes it again. Gateways run in this process (`startRig`) or as `roomguard serve`
// processes (`startServeRig`). Ports cannot race: a gateway whose public URL is elsewhere (behind a proxy
// or a load balancer) listens on port 0; one whose public URL is its own address must know its port before
// it starts (the URL is in its config and in the IdP's redirect URIs), so the rig starts IdP and gateways
// on ports free at that moment and starts them again on others if another process took one (ports.ts).
//
//   const rig = await startRig({ config: { session: { maxPerPerson: 2 } } });
//   const { browser } = await loginAs(rig.origin, 'bob');   // test/security/harness.ts
//   await rig.close();
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { startDemoIdp, type DemoIdp, type DemoIdpClient, type DemoUser } from '../../src/demo/idp.js';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/gateway/server.js';
import { testConfig, testConfigYaml, testKeys, type TestConfigOptions, type TestKeys } from './gateway.js';
import { isAddressInUse, onFreePort, onFreePorts, portOfAddress } from './ports.js';
import { startServeProcess, type ServeProcess } from './serve-process.js';
import { startEchoUpstream, type EchoUpstream } from './upstream.js';

export const CLIENT_ID = 'roomguard-test';
export const CLIENT_SECRET = 'rig-client-secret-0123456789abcdef';
const SCOPES = ['openid', 'email', 'profile', 'groups'];

/**
 * An IdP nobody answers for (connections are refused): port 9 (discard) is privileged and outside the
 * range the kernel hands out for port 0, so no server of the tests is ever there.
 */
export const UNREACHABLE_IDP: DemoIdp = { issuer: 'http://127.0.0.1:9', url: 'http://127.0.0.1:9', provider: undefined, close: async () => undefined };

/** How one gateway instance differs from the test config (test/helpers/gateway.ts). */
export interface InstanceOptions {
  /**
   * Where browsers reach it, when that is not its own address: a proxy in front (nginx, Caddy) or a fixed
   * test origin. Such an instance listens on port 0.
   */
  publicUrl?: string;
  /** Shares the first instance's public URL, as a second instance behind one load balancer; listens on port 0. */
  behindFirst?: boolean;
  /** Host name in its own address when that is its public URL (default 127.0.0.1; passkeys want localhost). */
  publicHost?: '127.0.0.1' | 'localhost';
  /**
   * roomguard.yaml sections that replace the test config's (backend, forwardAuth, trustProxy, session …);
   * the fields of `oidc` and `audit` are added to the rig's own (issuer and client; directory and instance),
   * and a `backend` without an `upstream` gets the rig's.
   */
  config?: Record<string, unknown>;
  policiesDir?: string;
  /** Audit directory (default: a fresh temporary one). */
  auditDir?: string;
  /** Its own keys or store prefix instead of the deployment's (another deployment on the same IdP). */
  keys?: TestKeys;
  keyPrefix?: string;
  /** A metrics listener on a free port (the instance's `metricsUrl`). */
  metrics?: boolean;
  /** createGateway's options: clock, audit sink, backend adapter, logger (in-process gateways only). */
  gateway?: GatewayOptions;
}

/** Settings of the rig's own demo IdP. */
export interface IdpSettings {
  users?: readonly DemoUser[];
  /** Sends back-channel logout tokens to the first instance. */
  backchannelLogout?: boolean;
  /** More origins whose callback and logout pages the client may redirect to (gateways a test starts itself). */
  redirectOrigins?: string[];
}

export interface RigOptions extends InstanceOptions {
  /** Store URL (default: the run's Redis from test/setup/redis.ts; 'memory' for the in-process store). */
  store?: string;
  /** The upstream, if not a fresh echo upstream the rig owns (a fake BBB, Tomcat, a dead one). */
  upstream?: { url: string };
  /** An IdP that is already running (not closed by the rig), or settings of the rig's own. */
  idp?: DemoIdp | IdpSettings;
  /** Several instances; each entry's settings override the ones above. Default: one. */
  instances?: InstanceOptions[];
  /**
   * Another instance of a running rig's deployment: its IdP, upstream, store, keys and prefix, added later
   * (say, with another clock). Closing it leaves the rig running.
   */
  sameAs?: Rig<unknown, { url: string }>;
}

export interface RigInstance<G = Gateway> {
  gateway: G;
  /** The port it listens on, and its address there. */
  port: number;
  address: string;
  /** Where browsers reach it: its address, or the proxy or load balancer in front. */
  origin: string;
  auditDir: string;
  metricsUrl?: string;
}

/** A running deployment, seen through its first instance (`rig.gateway`, `rig.origin` …). */
export interface Rig<G = Gateway, U extends { url: string } = EchoUpstream> extends RigInstance<G> {
  idp: DemoIdp;
  upstream: U;
  store: string;
  keys: TestKeys;
  keyPrefix: string;
  instances: Array<RigInstance<G>>;
  /** Closes the gateways, then what the rig started itself (IdP, upstream). */
  close(): Promise<void>;
}

/** Gateways in this process (createGateway). */
export function startRig<U extends { url: string } = EchoUpstream>(options: RigOptions & { upstream?: U } = {}): Promise<Rig<Gateway, U>> {
  return assemble(options, inProcess);
}

/** Gateways as `roomguard serve` processes (several processes, signals, SIGKILL). */
export function startServeRig<U extends { url: string } = EchoUpstream>(options: RigOptions & { upstream?: U } = {}): Promise<Rig<ServeProcess, U>> {
  return assemble(options, asProcess);
}

/**
 * A rig behind a proxy whose port must be known before anything starts, since it is the public URL and in
 * the proxy's own configuration (nginx, Caddy): the proxy's port becomes the first instance's public URL,
 * and rig and proxy start on a port free now, again on another if some other process took it first.
 */
export function startRigBehind<P extends { stop(): Promise<void> }, U extends { url: string } = EchoUpstream>(
  options: RigOptions & { upstream?: U },
  startProxy: (port: number, rig: Rig<Gateway, U>) => Promise<P>,
): Promise<Rig<Gateway, U> & { proxy: P }> {
  return onFreePort(async (port) => {
    const origin = `http://127.0.0.1:${port}`;
    const [first, ...others] = options.instances ?? [{}];
    const rig = await startRig({ ...options, instances: [{ ...first, publicUrl: origin }, ...others] });
    let proxy: P;
    try {
      proxy = await startProxy(port, rig);
    } catch (err) {
      await rig.close();
      throw err;
    }
    return {
      ...rig,
      proxy,
      async close() {
        await proxy.stop();
        await rig.close();
      },
    };
  });
}

interface Started<G> {
  gateway: G;
  port: number;
  close(): Promise<void>;
}

type Launch<G> = (config: TestConfigOptions, instance: InstanceOptions) => Promise<Started<G>>;

const inProcess: Launch<Gateway> = async (config, instance) => {
  const gateway = await createGateway(testConfig(config), instance.gateway ?? {});
  try {
    return { gateway, port: portOfAddress(await gateway.listen()), close: () => gateway.close() };
  } catch (err) {
    await gateway.close().catch(() => undefined);
    throw err;
  }
};

const asProcess: Launch<ServeProcess> = async (config) => {
  const process = await startServeProcess(testConfigYaml(config));
  return { gateway: process, port: process.port, close: () => process.stop() };
};

/** What the instances of one deployment share. */
interface Deployment<U> {
  idp: DemoIdp;
  upstream: U;
  store: string;
  keys: TestKeys;
  keyPrefix: string;
}

async function assemble<G, U extends { url: string }>(options: RigOptions & { upstream?: U }, launch: Launch<G>): Promise<Rig<G, U>> {
  const specs = (options.instances ?? [{}]).map((instance) => ({ ...options, ...instance, config: mergeConfig(options.config, instance.config) }));
  const base = options.sameAs as Rig<unknown, U> | undefined;
  const ownUpstream = !options.upstream && !base;
  const upstream = options.upstream ?? base?.upstream ?? ((await startEchoUpstream()) as unknown as U);
  const given = base?.idp ?? (options.idp && 'issuer' in options.idp ? options.idp : undefined);
  const settings = options.idp && !('issuer' in options.idp) ? options.idp : {};
  const shared = {
    upstream,
    store: options.store ?? base?.store ?? inject('redisUrl'),
    keys: base?.keys ?? testKeys(),
    keyPrefix: base?.keyPrefix ?? `rgrig:${randomBytes(4).toString('hex')}:`,
  };
  const auditDirs = specs.map((spec) => spec.auditDir ?? mkdtempSync(join(tmpdir(), 'rg-rig-audit-')));
  const wanted = specs.filter(ownsItsOrigin).length + specs.filter((spec) => spec.metrics).length;
  try {
    const { idp, instances, closers } = await onFreePorts(wanted, async (ports) => {
      // Public URLs first: the IdP must know every redirect target before a gateway sends anyone there.
      const publicUrls: string[] = [];
      const listenPorts = specs.map((spec) => {
        if (spec.behindFirst) {
          const front = publicUrls[0] ?? base?.origin;
          if (!front || spec.publicUrl) throw new Error('behindFirst needs a first instance (or sameAs) and no publicUrl of its own');
          publicUrls.push(front);
          return 0;
        }
        if (spec.publicUrl) {
          publicUrls.push(spec.publicUrl);
          return 0;
        }
        const port = ports.shift()!;
        publicUrls.push(`http://${spec.publicHost ?? '127.0.0.1'}:${port}`);
        return port;
      });
      const idp = given ?? (await startOwnIdp(settings, publicUrls));
      const closers: Array<() => Promise<void>> = given ? [] : [() => idp.close()];
      const deployment: Deployment<U> = { idp, ...shared };
      // Side by side: a `roomguard serve` process takes seconds to start on a busy machine.
      const metricsPorts = specs.map((spec) => (spec.metrics ? ports.shift()! : undefined));
      const results = await Promise.allSettled(specs.map((spec, i) => launch(configOf(deployment, spec, {
        port: listenPorts[i]!, publicUrl: publicUrls[i]!, auditDir: auditDirs[i]!, instance: `gw-${i + 1}`, metricsPort: metricsPorts[i],
      }), spec)));
      for (const result of results) if (result.status === 'fulfilled') closers.unshift(result.value.close);
      const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
      if (failures.length > 0) {
        await closeAll(closers);
        // A lost port first: then onFreePorts tries again.
        throw failures.find(isAddressInUse) ?? failures[0];
      }
      const instances = results.map((result, i): RigInstance<G> => {
        const started = (result as PromiseFulfilledResult<Started<G>>).value;
        const metricsPort = metricsPorts[i];
        return {
          gateway: started.gateway, port: started.port, address: `http://127.0.0.1:${started.port}`, origin: publicUrls[i]!, auditDir: auditDirs[i]!,
          ...(metricsPort ? { metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` } : {}),
        };
      });
      return { idp, instances, closers };
    });
    const first = instances[0]!;
    return {
      ...first, idp, ...shared, instances,
      async close() {
        await closeAll(closers);
        if (ownUpstream) await (upstream as unknown as EchoUpstream).close();
      },
    };
  } catch (err) {
    if (ownUpstream) await (upstream as unknown as EchoUpstream).close();
    throw err;
  }
}

/** An instance whose public URL is its own address, so its port must be known before it starts. */
function ownsItsOrigin(spec: InstanceOptions): boolean {
  return !spec.publicUrl && !spec.behindFirst;
}

async function startOwnIdp(settings: IdpSettings, publicUrls: string[]): Promise<DemoIdp> {
  const origins = [...new Set([...publicUrls, ...(settings.redirectOrigins ?? [])])];
  const client: DemoIdpClient = {
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUris: origins.map((origin) => `${origin}/_roomguard/callback`),
    postLogoutRedirectUris: origins.map((origin) => `${origin}/_roomguard/logged-out`),
    ...(settings.backchannelLogout ? { backchannelLogoutUri: `${publicUrls[0]}/_roomguard/backchannel-logout` } : {}),
  };
  return startDemoIdp({ clients: [client], ...(settings.users ? { users: settings.users } : {}) });
}

function configOf(deployment: Deployment<{ url: string }>, spec: InstanceOptions, at: { port: number; publicUrl: string; auditDir: string; instance: string; metricsPort: number | undefined }): TestConfigOptions {
  const { oidc, audit, backend, ...sections } = spec.config ?? {};
  return {
    port: at.port,
    publicUrl: at.publicUrl,
    issuer: deployment.idp.issuer,
    clientSecret: CLIENT_SECRET,
    upstream: deployment.upstream.url,
    store: deployment.store,
    keys: spec.keys ?? deployment.keys,
    keyPrefix: spec.keyPrefix ?? deployment.keyPrefix,
    ...(spec.policiesDir ? { policiesDir: spec.policiesDir } : {}),
    extra: {
      oidc: { issuer: deployment.idp.issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, scopes: SCOPES, ...(oidc as object | undefined) },
      audit: { dir: at.auditDir, instance: at.instance, ...(audit as object | undefined) },
      ...(at.metricsPort ? { metrics: { listen: `127.0.0.1:${at.metricsPort}` } } : {}),
      ...(backend ? { backend: { upstream: deployment.upstream.url, ...(backend as object) } } : {}),
      ...sections,
    },
  };
}

/** Sections of the instance replace the rig's; in oidc and audit, fields are merged. */
function mergeConfig(rig: Record<string, unknown> | undefined, instance: Record<string, unknown> | undefined): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...rig, ...instance };
  for (const section of ['oidc', 'audit']) {
    if (rig?.[section] || instance?.[section]) merged[section] = { ...(rig?.[section] as object | undefined), ...(instance?.[section] as object | undefined) };
  }
  return merged;
}

async function closeAll(closers: Array<() => Promise<void>>): Promise<void> {
  for (const close of closers) await close();
}
