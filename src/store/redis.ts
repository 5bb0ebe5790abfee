// Redis Store through ioredis, for a standalone server (redis:// or rediss://), a Sentinel-managed
// primary, or a Cluster. Commands fail fast (one retry, a 2 s deadline) while Redis is away, so a
// participant gets a 503 page instead of a hanging request; ioredis reconnects on its own.
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { RoomguardError } from '../errors.js';
import type { Store } from './store.js';

// One key per script and per MULTI, so both run unchanged on a Cluster (everything hashes to one slot).
const INCREMENT_WITH_TTL = "local v = redis.call('INCR', KEYS[1]) if v == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return v";
// A set's TTL only grows: read it before adding (-2 absent, -1 none), and move it only when the new member
// needs longer. PEXPIRE … GT (Redis 7) alone would leave a set it creates without any TTL.
const ADD_MEMBER_KEEPING_LONGEST_TTL = "local left = redis.call('PTTL', KEYS[1]) redis.call('SADD', KEYS[1], ARGV[1]) if left < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return left";

export interface RedisNode {
  host: string;
  port: number;
}

/** TLS material as PEM text (the caller reads the files). The server's certificate is always verified. */
export interface RedisTls {
  ca?: string;
  cert?: string;
  key?: string;
  /** Name expected in the server certificate when it differs from the host connected to. */
  servername?: string;
}

export interface RedisStoreOptions {
  /** Standalone: `redis://` or `rediss://` (TLS), optionally with credentials and a database number. */
  url?: string;
  /** Sentinel: the primary's name as the sentinels know it, and some of the sentinels. */
  sentinel?: { name: string; nodes: RedisNode[]; username?: string; password?: string };
  /** Cluster: some of its nodes; the others are discovered. */
  cluster?: { nodes: RedisNode[] };
  /** For a `rediss://` URL; for Sentinel and Cluster, its presence switches TLS on (sentinels included). */
  tls?: RedisTls;
  /** ACL user (Redis 6+); the URL's user wins for standalone. */
  username?: string;
  password?: string;
  keyPrefix: string;
  commandTimeoutMs?: number;
  /** How long connect() waits for a first answer (ioredis would retry unreachable sentinels forever). */
  connectDeadlineMs?: number;
}

export type RedisTopology = 'standalone' | 'sentinel' | 'cluster';

export class RedisStore implements Store {
  readonly kind = 'redis' as const;
  readonly topology: RedisTopology;
  /** The command connection; `duplicate()` gives a sibling with the same settings (pub/sub). */
  readonly client: Redis | Cluster;
  /** Cluster: the nodes it was given (the session bus subscribes on one of them itself); else empty. */
  readonly clusterNodes: readonly RedisNode[];
  readonly #deadlineMs: number;
  readonly #connectDeadlineMs: number;
  readonly #keyPrefix: string;
  #connectionError: string | undefined;
  /** Where a TLS handshake can be tried by hand when the client hides why connecting failed. */
  readonly #tlsProbe: { node: RedisNode; tls: ConnectionOptions } | undefined;

  constructor(options: RedisStoreOptions) {
    const given = [options.url, options.sentinel, options.cluster].filter((t) => t !== undefined).length;
    if (given !== 1) throw new RangeError('give exactly one of url, sentinel or cluster');
    this.#keyPrefix = options.keyPrefix;
    const commandTimeout = options.commandTimeoutMs ?? 2000;
    // ioredis queues commands while (re)connecting; this deadline bounds the wait for every topology.
    this.#deadlineMs = commandTimeout + 500;
    this.#connectDeadlineMs = options.connectDeadlineMs ?? 10_000;
    // What every connection to a Redis server gets, whichever topology found the server.
    const connection: RedisOptions = {
      maxRetriesPerRequest: 1,
      commandTimeout,
      connectTimeout: 5000,
      ...(options.username ? { username: options.username } : {}),
      ...(options.password ? { password: options.password } : {}),
    };
    const common: RedisOptions = {
      ...connection,
      lazyConnect: true,
      enableOfflineQueue: true,
      retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
    };
    this.clusterNodes = options.cluster?.nodes ?? [];
    if (options.cluster) {
      this.topology = 'cluster';
      const clusterOptions: ClusterOptions = {
        keyPrefix: options.keyPrefix,
        lazyConnect: true,
        enableOfflineQueue: true,
        clusterRetryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
        // The key prefix belongs to the Cluster object (it computes slots from prefixed keys), not to its nodes.
        redisOptions: { ...connection, ...(options.tls ? { tls: tlsOptions(options.tls) } : {}) },
      };
      this.client = new Cluster(options.cluster.nodes, clusterOptions);
      if (options.tls) this.#tlsProbe = { node: options.cluster.nodes[0]!, tls: tlsOptions(options.tls) };
    } else if (options.sentinel) {
      this.topology = 'sentinel';
      const tls = options.tls ? tlsOptions(options.tls) : undefined;
      this.client = new Redis({
        ...common,
        keyPrefix: options.keyPrefix,
        name: options.sentinel.name,
        sentinels: options.sentinel.nodes,
        ...(options.sentinel.username ? { sentinelUsername: options.sentinel.username } : {}),
        ...(options.sentinel.password ? { sentinelPassword: options.sentinel.password } : {}),
        // Learn of a failover from the sentinels at once instead of waiting for the old primary to drop us,
        // and send a write that still reached the demoted primary (READONLY) again after asking them anew.
        // Only here: a standalone URL naming a replica should fail with its READONLY, not reconnect in a loop.
        failoverDetector: true,
        reconnectOnError: (err: Error) => (err.message.startsWith('READONLY') ? 2 : false),
        ...(tls ? { tls, sentinelTLS: tls, enableTLSForSentinelMode: true } : {}),
      });
      if (tls) this.#tlsProbe = { node: options.sentinel.nodes[0]!, tls };
    } else {
      this.topology = 'standalone';
      this.client = new Redis({ ...common, ...standaloneTarget(options.url!, options.tls), keyPrefix: options.keyPrefix });
    }
    // Connection errors are reported per command (as RG_STORE_UNAVAILABLE) and by /readyz; do not crash.
    // The last one is kept: ioredis rejects commands with "Connection is closed", which hides the
    // reason an admin needs (a certificate the CA did not sign, a refused password, a wrong host).
    this.client.on('error', (err: Error) => {
      this.#connectionError = err.message.trim();
    });
    this.client.on('ready', () => {
      this.#connectionError = undefined;
    });

  }

  /** Connects once at start-up; rejects with RG_STORE_UNAVAILABLE if Redis does not answer. */
  async connect(): Promise<void> {
    try {
      await this.#run(async () => {
        if (this.client.status === 'wait') await this.client.connect();
        await this.client.ping();
      }, this.#connectDeadlineMs);
    } catch (err) {
      // ioredis reports a sentinel or Cluster node it could not reach over TLS only as "Connection is
      // closed"; a handshake of our own names the reason (an untrusted certificate, a wrong name).
      const handshake = this.#tlsProbe ? await tlsHandshakeError(this.#tlsProbe.node, this.#tlsProbe.tls) : undefined;
      if (!handshake) throw err;
      throw new RoomguardError('RG_STORE_UNAVAILABLE', `Redis (${this.topology}): TLS to ${this.topology === 'sentinel' ? 'sentinel' : 'node'} ${this.#tlsProbe!.node.host}:${this.#tlsProbe!.node.port} failed: ${handshake}`, { cause: err });
    }
    await this.#checkPermissions();
  }

  /**
   * An ACL user that may not use roomguard's keys, or was made from an older copy of the documented
   * command list (before MGET, the attempt limiter's one read of its locks; before PTTL, which the set
   * script reads so that an index's TTL only grows), is named at start-up rather than found by a failing
   * login or second-factor page later. Each probe reads a key that does not exist, under the prefix; a
   * Cluster reads key by key and needs no MGET.
   */
  async #checkPermissions(): Promise<void> {
    const client = this.client;
    const probes: Array<() => Promise<unknown>> = [() => client.pttl('permission-check')];
    if (!(client instanceof Cluster)) probes.unshift(() => client.mget('permission-check'));
    for (const probe of probes) {
      try {
        await this.#run(probe);
      } catch (err) {
        const reason = ((err as Error).cause as Error | undefined)?.message ?? (err as Error).message;
        if (!reason.startsWith('NOPERM')) throw err;
        const command = /'([a-z|]+)' command/i.exec(reason)?.[1]?.toLowerCase();
        const fix = command
          ? `allow it ${command.toUpperCase()} (\`+${command}\`, see the ACL line in docs/operations.md)`
          : `allow it the keys under store.keyPrefix (\`~${this.#keyPrefix}*\` in its ACL)`;
        throw new RoomguardError('RG_STORE_UNAVAILABLE', `Redis (${this.topology}) refuses roomguard's user: ${fix}. ${reason}`, { cause: err });
      }
    }
  }

  /**
   * The connections a key scan must visit: the one connection, or every Cluster primary (SCAN sees
   * one node only). Their key prefix is not applied to SCAN patterns.
   */
  scanTargets(): Redis[] {
    return this.client instanceof Cluster ? this.client.nodes('master') : [this.client];
  }

  async #run<T>(op: () => Promise<T>, deadlineMs = this.#deadlineMs): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from Redis (${this.topology}) within ${deadlineMs} ms`)), deadlineMs);
    });
    try {
      return await Promise.race([op(), deadline]);
    } catch (err) {
      const reason = this.#connectionError ? ` (last connection error: ${this.#connectionError})` : '';
      throw new RoomguardError('RG_STORE_UNAVAILABLE', `Redis (${this.topology}): ${(err as Error).message}${reason}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  get(key: string): Promise<string | null> {
    return this.#run(() => this.client.get(key));
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    if (!(ttlMs > 0)) throw new RangeError(`ttl must be positive, got ${ttlMs}`);
    await this.#run(() => this.client.set(key, value, 'PX', Math.ceil(ttlMs)));
  }

  take(key: string): Promise<string | null> {
    return this.#run(() => this.client.getdel(key));
  }

  async delete(key: string): Promise<void> {
    await this.#run(() => this.client.del(key));
  }

  /** One MGET; a Cluster refuses multi-key commands across slots (CROSSSLOT), so there one GET per key. */
  getMany(keys: string[]): Promise<Array<string | null>> {
    if (keys.length === 0) return Promise.resolve([]);
    const client = this.client;
    return this.#run(() => (client instanceof Cluster ? Promise.all(keys.map((key) => client.get(key))) : client.mget(...keys)));
  }

  async deleteMany(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    const client = this.client;
    await this.#run<unknown>(() => (client instanceof Cluster ? Promise.all(keys.map((key) => client.del(key))) : client.del(...keys)));
  }

  async replace(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (!(ttlMs > 0)) throw new RangeError(`ttl must be positive, got ${ttlMs}`);
    return (await this.#run(() => this.client.set(key, value, 'PX', Math.ceil(ttlMs), 'XX'))) === 'OK';
  }

  async add(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (!(ttlMs > 0)) throw new RangeError(`ttl must be positive, got ${ttlMs}`);
    return (await this.#run(() => this.client.set(key, value, 'PX', Math.ceil(ttlMs), 'NX'))) === 'OK';
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    if (!(ttlMs > 0)) throw new RangeError(`ttl must be positive, got ${ttlMs}`);
    // One script so a counter can never be left without its TTL (PEXPIRE … NX would need Redis 7).
    const value = await this.#run(() => this.client.eval(INCREMENT_WITH_TTL, 1, key, String(Math.ceil(ttlMs))));
    return Number(value);
  }

  async addMember(key: string, member: string, ttlMs: number): Promise<void> {
    if (!(ttlMs > 0)) throw new RangeError(`ttl must be positive, got ${ttlMs}`);
    // One script, one key: atomic against other adders, and unchanged on a Cluster (no CROSSSLOT).
    await this.#run(() => this.client.eval(ADD_MEMBER_KEEPING_LONGEST_TTL, 1, key, member, String(Math.ceil(ttlMs))));
  }

  async removeMember(key: string, member: string): Promise<void> {
    await this.#run(() => this.client.srem(key, member));
  }

  members(key: string): Promise<string[]> {
    return this.#run(() => this.client.smembers(key));
  }

  async ping(): Promise<void> {
    await this.#run(() => this.client.ping());
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}

/** Host, port, database and credentials of a standalone URL; TLS for `rediss://`. Query strings are refused (ioredis would read options from them). */
function standaloneTarget(url: string, tls: RedisTls | undefined): RedisOptions {
  const parsed = new URL(url);
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new RangeError('the Redis URL must start with redis:// or rediss://');
  if (parsed.search || parsed.hash) throw new RangeError('the Redis URL must not have a query or fragment');
  if (tls && parsed.protocol !== 'rediss:') throw new RangeError('TLS settings need a rediss:// URL');
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d{1,2}$/.test(db)) throw new RangeError('the Redis URL path must be a database number');
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    ...(db ? { db: Number(db) } : {}),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: tlsOptions(tls ?? {}) } : {}),
  };
}

/** The error of a TLS handshake with `node`, or undefined when it succeeds (or does not finish within 2 s). */
function tlsHandshakeError(node: RedisNode, tls: ConnectionOptions): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ ...tls, host: node.host, port: node.port });
    const done = (result: string | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(undefined), 2000);
    socket.once('secureConnect', () => done(undefined));
    socket.once('error', (err: Error) => done(err.message));
  });
}

function tlsOptions(tls: RedisTls): ConnectionOptions {
  // rejectUnauthorized stays Node's default (true): there is deliberately no way to switch it off.
  return {
    ...(tls.ca ? { ca: tls.ca } : {}),
    ...(tls.cert ? { cert: tls.cert } : {}),
    ...(tls.key ? { key: tls.key } : {}),
    ...(tls.servername ? { servername: tls.servername } : {}),
  };
}
