// The one launcher of redis-server processes for tests: the run's shared server (test/setup/redis.ts), a
// private server a test may kill and restart, a TLS server with its own CA, a Sentinel set (primary,
// replica, sentinel) and a three-primary Cluster, each in a temporary directory on loopback ports.
// A start waits until *its own* process answers (INFO's process_id), never just until something answers on
// the port, and starts again on another port when another process took the first one (ports.ts).
// stop()/kill() end what was started. Needs redis-server, redis-cli and openssl (Debian packages
// redis-server, redis-tools, openssl) and says so if one is missing.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AddressInUse, onFreePorts } from './ports.js';
import { until } from './until.js';

const PACKAGES: Record<string, string> = { 'redis-server': 'redis-server', 'redis-cli': 'redis-tools', openssl: 'openssl' };

/** Fails with the Debian package to install when a program the Redis tests run is missing. */
export function requirePrograms(...programs: Array<keyof typeof PACKAGES>): void {
  for (const program of programs) {
    if (spawnSync(program, ['--version'], { encoding: 'utf8' }).error) {
      throw new Error(`${program} is not installed: the tests need it (Debian package "${PACKAGES[program]}": apt-get install ${PACKAGES[program]})`);
    }
  }
}

export interface RedisProcess {
  port: number;
  readonly process: ChildProcess;
  /** SIGKILL, as a crash or an OOM kill would; resolved once the process is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port from the same config file (a Cluster node rejoins with its nodes.conf). */
  restart(): Promise<void>;
}

export function redisCli(port: number, args: string[], tlsArgs: string[] = []): string {
  const result = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...tlsArgs, ...args], { encoding: 'utf8', timeout: 10_000 });
  return `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
}

/** Polls `check` (see until.ts); kept under this name for the topology tests. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  await until(what, check, { timeout: timeoutMs, interval: 50 });
}

/** The config lines of a server, given the port it listens on and a second free port (a Cluster's bus). */
export type RedisConfig = string[] | ((ports: { port: number; busPort: number }) => string[]);

/**
 * Starts redis-server with a config file in `dir` on a free port; resolves once this very process answers
 * (on `pingArgs`, e.g. TLS). Starts again on other ports when another process took the port first.
 */
export async function startRedisProcess(dir: string, name: string, config: RedisConfig, options: { sentinel?: boolean; pingArgs?: string[] } = {}): Promise<RedisProcess> {
  return onFreePorts(2, async ([port, busPort]) => {
    const lines = typeof config === 'function' ? config({ port: port!, busPort: busPort! }) : config;
    return launchRedis(dir, name, port!, lines, options);
  });
}

async function launchRedis(dir: string, name: string, port: number, config: string[], options: { sentinel?: boolean; pingArgs?: string[] }): Promise<RedisProcess> {
  const file = join(dir, `${name}.conf`);
  const log = join(dir, `${name}.log`);
  // A later `port 0` (TLS-only servers) overrides the plain port.
  writeFileSync(file, [`port ${port}`, `bind 127.0.0.1`, `dir ${dir}`, `save ""`, `appendonly no`, `loglevel warning`, `logfile ${log}`, ...config, ''].join('\n'));
  let child: ChildProcess;
  let exited: Promise<void>;
  const start = async () => {
    const logFrom = existsSync(log) ? statSync(log).size : 0;
    child = spawn('redis-server', options.sentinel ? [file, '--sentinel'] : [file], { stdio: 'ignore' });
    exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const own = `process_id:${child.pid}`;
    try {
      await until(`${name} (pid ${child.pid}) on port ${port}`, () => {
        if (child.exitCode !== null || child.signalCode !== null) throw startFailure(name, port, readFileSync(log, 'utf8').slice(logFrom));
        return redisCli(port, ['info', 'server'], options.pingArgs).includes(own);
      });
    } catch (err) {
      child.kill('SIGKILL');
      await exited;
      throw err;
    }
  };
  await start();
  return {
    port,
    get process() {
      return child;
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    restart: start,
  };
}

/** Why a redis-server ended at start: its port was taken (try another), or anything else. */
function startFailure(name: string, port: number, log: string): Error {
  if (/address already in use/i.test(log)) return new AddressInUse(`redis-server ${name} on port ${port}`, log);
  return new Error(`redis-server ${name} on port ${port} exited at start:\n${log}`);
}

export interface PrivateRedis extends RedisProcess {
  url: string;
  /** Kills the server and removes its directory. */
  stop(): Promise<void>;
}

/** A plain redis-server of its own (no persistence: a restart loses all data), in a fresh temporary directory. */
export async function startRedis(label: string, config: string[] = []): Promise<PrivateRedis> {
  requirePrograms('redis-server', 'redis-cli');
  const temp = redisTempDir(label);
  try {
    const server = await startRedisProcess(temp.dir, label, config);
    return Object.assign(server, {
      url: `redis://127.0.0.1:${server.port}`,
      stop: async () => {
        await server.kill();
        temp.remove();
      },
    });
  } catch (err) {
    temp.remove();
    throw err;
  }
}

export interface TlsMaterial {
  dir: string;
  ca: string;
  /** A CA that signed nothing here: a client trusting only it must refuse the server. */
  otherCa: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/** A CA, a server certificate for 127.0.0.1/localhost, a client certificate and an unrelated CA, made with openssl. */
export function makeTlsMaterial(dir: string): TlsMaterial {
  const run = (args: string[]) => {
    const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${result.stderr}`);
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  run(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=roomguard test CA', '-days', '2']);
  run(['req', '-x509', ...ec, '-keyout', 'other-ca.key', '-out', 'other-ca.crt', '-subj', '/CN=unrelated CA', '-days', '2']);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:redis.test\n');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, subject, ext] of [['server', '/CN=redis.test', 'server.ext'], ['client', '/CN=roomguard', 'client.ext']] as const) {
    run(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
    run(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', ext]);
  }
  return {
    dir,
    ca: join(dir, 'ca.crt'),
    otherCa: join(dir, 'other-ca.crt'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.crt'),
    clientKey: join(dir, 'client.key'),
  };
}

export interface TlsRedis extends RedisProcess {
  tls: TlsMaterial;
  /** redis-cli arguments that connect with the client certificate. */
  cliArgs: string[];
}

/** redis-server on a TLS port only (no plain port); `requireClientCert` demands a client certificate. */
export async function startTlsRedis(dir: string, requireClientCert: boolean): Promise<TlsRedis> {
  const tls = makeTlsMaterial(dir);
  const cliArgs = ['--tls', '--cacert', tls.ca, '--cert', tls.clientCert, '--key', tls.clientKey];
  const server = await startRedisProcess(dir, `tls-${requireClientCert ? 'mutual' : 'server'}`, ({ port }) => [
    'port 0', `tls-port ${port}`, `tls-cert-file ${tls.serverCert}`, `tls-key-file ${tls.serverKey}`, `tls-ca-cert-file ${tls.ca}`,
    `tls-auth-clients ${requireClientCert ? 'yes' : 'no'}`,
  ], { pingArgs: cliArgs });
  return { ...server, tls, cliArgs };
}

export interface SentinelSet {
  name: string;
  primary: RedisProcess;
  replica: RedisProcess;
  sentinels: RedisProcess[];
  /** redis-cli against a member of the set (with TLS arguments when the set speaks TLS). */
  cli(port: number, args: string[]): string;
  /** host:port of the current primary, as the sentinels report it. */
  primaryAddress(): string;
  stop(): Promise<void>;
}

/** Config lines that make a server (or sentinel) speak TLS only, replication and sentinel links included. */
function tlsOnly(tls: TlsMaterial, port: number): string[] {
  return ['port 0', `tls-port ${port}`, `tls-cert-file ${tls.serverCert}`, `tls-key-file ${tls.serverKey}`, `tls-ca-cert-file ${tls.ca}`, 'tls-auth-clients no', 'tls-replication yes'];
}

/**
 * A primary, one replica and `sentinelCount` sentinels (quorum 1) watching them as `name`. With `tls`,
 * every member listens on TLS only and replication and the sentinels' links use TLS too.
 */
export async function startSentinelSet(dir: string, options: { name?: string; sentinelCount?: number; tls?: TlsMaterial } = {}): Promise<SentinelSet> {
  const { name = 'rgprimary', sentinelCount = 1, tls } = options;
  const tlsArgs = tls ? ['--tls', '--cacert', tls.ca] : [];
  const cli = (port: number, args: string[]) => redisCli(port, args, tlsArgs);
  const start = async (label: string, lines: string[], sentinel = false) => {
    const server = await startRedisProcess(dir, label, ({ port }) => [...(tls ? tlsOnly(tls, port) : []), ...lines], { sentinel, pingArgs: tlsArgs });
    started.push(server);
    return server;
  };
  const started: RedisProcess[] = [];
  try {
    const primary = await start('primary', []);
    const replica = await start('replica', [`replicaof 127.0.0.1 ${primary.port}`]);
    await waitFor('the replica to sync', () => cli(replica.port, ['info', 'replication']).includes('master_link_status:up'));
    const sentinels: RedisProcess[] = [];
    for (let i = 0; i < sentinelCount; i++) {
      sentinels.push(await start(`sentinel-${i}`, [
        `sentinel monitor ${name} 127.0.0.1 ${primary.port} 1`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 5000`,
      ], true));
    }
    const primaryAddress = () => cli(sentinels[0]!.port, ['sentinel', 'get-master-addr-by-name', name]).split('\n').join(':');
    // A manual failover needs a replica the sentinel has seen and judged healthy.
    await waitFor('the sentinel to know the replica', () => cli(sentinels[0]!.port, ['sentinel', 'replicas', name]).includes(String(replica.port)));
    return { name, primary, replica, sentinels, cli, primaryAddress, stop: () => killAll(started) };
  } catch (err) {
    await killAll(started);
    throw err;
  }
}

/** Asks the first sentinel to fail over and waits until both it and the new primary agree on the switch. */
export async function failOver(set: SentinelSet): Promise<void> {
  const before = set.primaryAddress();
  // The replica must hold everything written so far before it is promoted.
  await waitFor('the replica to catch up', () => Number(set.cli(set.primary.port, ['wait', '1', '1000'])) >= 1);
  const answer = set.cli(set.sentinels[0]!.port, ['sentinel', 'failover', set.name]);
  if (answer !== 'OK') throw new Error(`SENTINEL FAILOVER answered ${answer}`);
  await waitFor('the failover', () => set.primaryAddress() !== before);
  const [, port] = set.primaryAddress().split(':');
  await waitFor('the new primary to take writes', () => set.cli(Number(port), ['info', 'replication']).includes('role:master'));
  // Until the old primary is a replica it still takes writes, and a client that has not yet heard of the
  // switch would write there and lose them at the resync (Redis's own failover window). The sentinel turns
  // it into a replica by itself only 8-18 s later (four publish periods, then its next INFO); do now what
  // it would do then, and wait until it follows.
  const [, oldPort] = before.split(':');
  const [newHost] = set.primaryAddress().split(':');
  if (set.cli(Number(oldPort), ['replicaof', newHost!, port!]) !== 'OK') throw new Error('REPLICAOF on the old primary failed');
  await waitFor('the old primary to follow the new one', () => {
    const info = set.cli(Number(oldPort), ['info', 'replication']);
    return info.includes('role:slave') && info.includes('master_link_status:up') && info.includes(`master_port:${port}`);
  });
}

export interface RedisCluster {
  nodes: RedisProcess[];
  stop(): Promise<void>;
}

/**
 * Three primaries (no replicas) joined with `redis-cli --cluster create`, waiting for cluster_state:ok.
 * With `tls`, the nodes listen on TLS only and the cluster bus uses TLS too.
 */
export async function startCluster(dir: string, options: { size?: number; tls?: TlsMaterial } = {}): Promise<RedisCluster> {
  const { size = 3, tls } = options;
  const tlsArgs = tls ? ['--tls', '--cacert', tls.ca] : [];
  const nodes: RedisProcess[] = [];
  try {
    for (let i = 0; i < size; i++) {
      // The cluster bus gets its own free port (the default port+10000 may be taken or out of range).
      nodes.push(await startRedisProcess(dir, `cluster-${i}`, ({ port, busPort }) => [
        ...(tls ? [...tlsOnly(tls, port), 'tls-cluster yes'] : []),
        'cluster-enabled yes', `cluster-config-file nodes-${port}.conf`, `cluster-port ${busPort}`, 'cluster-node-timeout 2000',
      ], { pingArgs: tlsArgs }));
    }
    const create = spawnSync('redis-cli', [...tlsArgs, '--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 30_000 });
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
    for (const node of nodes) await waitFor(`cluster_state:ok on ${node.port}`, () => redisCli(node.port, ['cluster', 'info'], tlsArgs).includes('cluster_state:ok'));
    return { nodes, stop: () => killAll(nodes) };
  } catch (err) {
    await killAll(nodes);
    throw err;
  }
}

async function killAll(processes: RedisProcess[]): Promise<void> {
  await Promise.all(processes.map((p) => p.kill()));
}

export interface TempDir {
  dir: string;
  remove(): void;
}

/** A temporary directory for server files, removed by `remove()` (make it in beforeAll, so a filtered-out suite leaves none). */
export function redisTempDir(label: string): TempDir {
  const dir = mkdtempSync(join(tmpdir(), `rg-${label}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
