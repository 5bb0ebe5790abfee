// Everything a benchmark run talks to, started on loopback and stopped afterwards: a private Redis, the
// upstream, the real oidc-provider with bench accounts, two roomguard gateways (audit log on and off),
// and the baselines (bare proxy, bare route, bare relying party). Each server is its own process.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testConfig, testKeys } from '../test/helpers/gateway.js';
import { onFreePorts } from '../test/helpers/ports.js';
import { openStore } from '../src/store/open.js';
import { FactorStore, newFactorId, userKey } from '../src/mfa/factors.js';
import { newTotpSecret } from '../src/mfa/totp.js';
import { startPrivateRedis, type PrivateRedis } from './redis.js';
import { startServer, type ServerProcess } from './processes.js';
import { compileServers } from './build.js';

/** The room anyone signed in may enter, and the high-risk room that asks for a TOTP code. */
export const OPEN_ROOM = 'hall';
export const HIGH_RISK_ROOM = 'vault';

const POLICIES: Record<string, string> = {
  'hall.yaml': `rooms: [${OPEN_ROOM}, "team-*"]\nallow:\n  - anyone: true\n`,
  'vault.yaml': `rooms: [${HIGH_RISK_ROOM}]\nrisk: high\nallow:\n  - groups: [bench]\nmfa:\n  required: true\n  methods: [totp]\n  maxAge: 1h\n`,
};

const CLIENT_SECRET = 'bench-client-secret-0123456789abcdef';

/** Like Promise.all, but waits for every start to settle, so none is still starting when a failure closes the rest. */
async function allStarted<T extends unknown[]>(starts: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(starts);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as T;
}

export interface Environment {
  redis: PrivateRedis;
  upstream: ServerProcess;
  idp: ServerProcess;
  /** roomguard as configured in production: audit log with fsync (group commit). */
  gateway: ServerProcess;
  /** The same gateway with the audit sink off (baseline of the audit scenario only). */
  gatewayNoAudit: ServerProcess;
  /** A gateway in front of Jitsi (`auth: none`): its XMPP WebSocket messages are read one by one. */
  gatewayJitsi: ServerProcess;
  bareProxy: ServerProcess;
  bareRoute: ServerProcess;
  bareRp: ServerProcess;
  /**
   * Gives each person an authenticator app in the main gateway's store, as enrolment would (setup, not
   * measured); returns the TOTP secrets. Written through the gateway's own sealed FactorStore.
   */
  enrolAuthenticators(people: string[]): Promise<Map<string, string>>;
  close(): Promise<void>;
}

/**
 * `users`: how many bench accounts the IdP knows (bench-0 …). `profileDir`: CPU-profile the main gateway
 * (`profiled: 'jitsi'`: the gateway in front of Jitsi instead).
 */
export async function startEnvironment(options: { users: number; profileDir?: string; profiled?: 'gateway' | 'jitsi' }): Promise<Environment> {
  compileServers();
  const scratch = mkdtempSync(join(tmpdir(), 'rg-bench-'));
  const policiesDir = join(scratch, 'policies');
  const started: Array<{ close(): Promise<void> }> = [];
  const keep = <T extends { close(): Promise<void> }>(server: T): T => (started.push(server), server);
  try {
    mkdirSync(policiesDir);
    for (const [name, text] of Object.entries(POLICIES)) writeFileSync(join(policiesDir, name), text);
    // Independent servers start side by side: on a busy two-core machine each start takes seconds.
    const [redis, upstream] = await allStarted([startPrivateRedis().then(keep), startServer({ role: 'upstream' }).then(keep)]);
    const keys = testKeys();
    // The IdP, both gateways and the bare relying party must know their ports before they start (issuer,
    // public URLs, redirect URIs): they start on ports free now, and again on others if another process
    // took one meanwhile (test/helpers/ports.ts).
    const { gwPort, idp, gateway, gatewayNoAudit, gatewayJitsi, bareProxy, bareRoute, bareRp } = await onFreePorts(5, async ([gwPort, gwNoAuditPort, rpPort, idpPort, gwJitsiPort]) => {
      const attempt: Array<{ close(): Promise<void> }> = [];
      const mine = <T extends { close(): Promise<void> }>(server: T): T => (attempt.push(server), server);
      try {
        const idp = mine(await startServer({
          role: 'idp', port: idpPort!, users: options.users,
          clients: [
            { clientId: 'roomguard-test', clientSecret: CLIENT_SECRET, redirectUris: [gwPort, gwNoAuditPort, gwJitsiPort].map((p) => `http://127.0.0.1:${p}/_roomguard/callback`) },
            { clientId: 'bare-rp', clientSecret: CLIENT_SECRET, redirectUris: [`http://127.0.0.1:${rpPort}/callback`] },
          ],
        }));
        const gatewaySpec = (port: number, audit: 'on' | 'off') => ({
          role: 'gateway' as const, port, issuer: idp.url, clientSecret: CLIENT_SECRET, upstream: upstream.url, redisUrl: redis.url,
          keyPrefix: `rgbench:${port}:`, policiesDir, auditDir: join(scratch, `audit-${port}`), audit, keys,
        });
        const [gateway, gatewayNoAudit, gatewayJitsi, bareProxy, bareRoute, bareRp] = await allStarted([
          startServer(gatewaySpec(gwPort!, 'on'), options.profiled === 'jitsi' ? undefined : options.profileDir).then(mine),
          startServer(gatewaySpec(gwNoAuditPort!, 'off')).then(mine),
          startServer({ ...gatewaySpec(gwJitsiPort!, 'on'), backend: 'jitsi' }, options.profiled === 'jitsi' ? options.profileDir : undefined).then(mine),
          startServer({ role: 'bare-proxy', upstream: upstream.url }).then(mine),
          startServer({ role: 'bare-route' }).then(mine),
          startServer({ role: 'bare-rp', port: rpPort!, issuer: idp.url, clientId: 'bare-rp', clientSecret: CLIENT_SECRET }).then(mine),
        ]);
        return { gwPort: gwPort!, idp, gateway, gatewayNoAudit, gatewayJitsi, bareProxy, bareRoute, bareRp };
      } catch (err) {
        for (const server of attempt.reverse()) await server.close().catch(() => undefined);
        throw err;
      }
    });
    for (const server of [idp, gateway, gatewayNoAudit, gatewayJitsi, bareProxy, bareRoute, bareRp]) keep(server);
    const store = keep(await openStore(testConfig({ port: gwPort, issuer: idp.url, clientSecret: CLIENT_SECRET, upstream: upstream.url, store: redis.url, keyPrefix: `rgbench:${gwPort}:`, policiesDir, keys })));
    const factors = new FactorStore(store);
    return {
      redis, upstream, idp, gateway, gatewayNoAudit, gatewayJitsi, bareProxy, bareRoute, bareRp,
      async enrolAuthenticators(people) {
        const secrets = new Map<string, string>();
        for (const sub of people) {
          const secret = newTotpSecret();
          const doc = await factors.load(userKey(sub));
          doc.factors.push({ kind: 'totp', id: newFactorId(), name: 'Bench phone', secret, lastTimeStep: 0, createdAt: Date.now() });
          await factors.save(userKey(sub), doc);
          secrets.set(sub, secret);
        }
        return secrets;
      },
      async close() {
        // Gateways first (they hold Redis connections), Redis last.
        for (const server of started.reverse()) await server.close();
        rmSync(scratch, { recursive: true, force: true });
      },
    };
  } catch (err) {
    for (const server of started.reverse()) await server.close().catch(() => undefined);
    rmSync(scratch, { recursive: true, force: true });
    throw err;
  }
}
