// The store on every Redis topology roomguard.yaml can name, against real redis-server processes on
// loopback ports: TLS (server CA, client certificate, wrong CA, wrong name), Sentinel with a failover
// under a live gateway, and a three-primary Cluster with the key prefix and the increment script.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { openSessionBus } from '../../src/store/bus.js';
import { RedisStore } from '../../src/store/redis.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import { testConfig, testKeys, type TestKeys } from '../helpers/gateway.js';
import { startRig, type Rig } from '../helpers/rig.js';
import {
  failOver, makeTlsMaterial, redisCli, redisTempDir, requirePrograms, startCluster, startRedisProcess, startSentinelSet, startTlsRedis, waitFor,
  type RedisCluster, type RedisProcess, type SentinelSet, type TempDir, type TlsMaterial, type TlsRedis,
} from '../helpers/redis-servers.js';

requirePrograms('redis-server', 'redis-cli', 'openssl');

const SECRET = 'topology-client-secret-0123456789abc';
const POLICIES = fileURLToPath(new URL('../fixtures/policies-mfa', import.meta.url));

/** A gateway whose roomguard.yaml has the given `store:` section, with its own IdP client and upstream. */
function gatewayWith(store: Record<string, unknown>): Promise<Rig> {
  return startRig({ store: 'unused', policiesDir: POLICIES, config: { store }, gateway: { logger: false } });
}

/** Signs `user` in through the real IdP and opens the room; the browser keeps the session cookie. */
async function signInToRoom(origin: string, user: string): Promise<{ browser: ScriptedBrowser; status: number }> {
  const browser = new ScriptedBrowser({ accept: 'text/html' });
  const start = await browser.follow(`${origin}/rooms/open`);
  const done = await browser.submitLogin(start.final, user, 'demo');
  return { browser, status: done.final.status };
}

/** Every key under `pattern` on one server, with its remaining lifetime. */
function keysWithTtl(port: number, pattern: string): Array<{ key: string; pttl: number }> {
  const keys = redisCli(port, ['--scan', '--pattern', pattern]).split('\n').filter(Boolean);
  return keys.map((key) => ({ key, pttl: Number(redisCli(port, ['pttl', key])) }));
}

function configWith(store: Record<string, unknown>, keys: TestKeys = testKeys()) {
  return testConfig({ port: 1, issuer: 'http://127.0.0.1:1/', clientSecret: SECRET, upstream: 'http://127.0.0.1:2', store: 'unused', keys, extra: { store } });
}

describe('TLS (rediss://)', () => {
  let temp: TempDir;
  let server: TlsRedis;
  let url: string;

  beforeAll(async () => {
    temp = redisTempDir('tls');
    server = await startTlsRedis(temp.dir, true);
    url = `rediss://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server?.kill();
    temp?.remove();
  });

  it('connects through roomguard.yaml with store.tls.ca and a client certificate, and stores sealed values with a TTL', async () => {
    const store = await openStore(configWith({ url, keyPrefix: 'rgtls:', tls: { ca: server.tls.ca, cert: server.tls.clientCert, key: server.tls.clientKey } }));
    try {
      await store.set('probe', 'over tls', 60_000);
      expect(await store.get('probe')).toBe('over tls');
      const raw = redisCli(server.port, ['get', 'rgtls:probe'], server.cliArgs);
      expect(raw).toMatch(/^v1\./);
      expect(raw).not.toContain('over tls');
      expect(Number(redisCli(server.port, ['pttl', 'rgtls:probe'], server.cliArgs))).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  });

  it('refuses a server whose certificate the configured CA did not sign', async () => {
    const attempt = openStore(configWith({ url, tls: { ca: server.tls.otherCa, cert: server.tls.clientCert, key: server.tls.clientKey } }));
    await expect(attempt).rejects.toMatchObject({ code: 'RG_STORE_UNAVAILABLE', message: expect.stringMatching(/certificate/i) });
  });

  it('refuses a certificate issued to another name than store.tls.servername', async () => {
    const right = await openStore(configWith({ url, tls: { ca: server.tls.ca, cert: server.tls.clientCert, key: server.tls.clientKey, servername: 'redis.test' } }));
    await right.close();
    const wrong = openStore(configWith({ url, tls: { ca: server.tls.ca, cert: server.tls.clientCert, key: server.tls.clientKey, servername: 'elsewhere.test' } }));
    await expect(wrong).rejects.toMatchObject({ code: 'RG_STORE_UNAVAILABLE', message: expect.stringMatching(/elsewhere\.test/) });
  });

  it('is refused by a server that demands a client certificate when none is configured', async () => {
    // With TLS 1.3 the server judges the client certificate after the client's handshake is done, so the
    // refusal arrives either as its alert or as a reset connection, depending on timing.
    const attempt = openStore(configWith({ url, tls: { ca: server.tls.ca } }));
    await expect(attempt).rejects.toMatchObject({ code: 'RG_STORE_UNAVAILABLE', message: expect.stringMatching(/certificate required|ECONNRESET/i) });
  });
});

describe('ACL user (store.username)', () => {
  let temp: TempDir;
  let server: RedisProcess;
  const password = 'acl-password-0815-not-default';

  beforeAll(async () => {
    temp = redisTempDir('acl');
    server = await startRedisProcess(temp.dir, 'acl', []);
    // The commands docs/operations.md tells admins to allow, read from the document itself.
    const doc = readFileSync(fileURLToPath(new URL('../../docs/operations.md', import.meta.url)), 'utf8');
    const commands = /ACL SETUSER roomguard[^`]*/.exec(doc)![0].match(/\+[a-z|]+/g)!;
    expect(commands).toContain('+eval');
    const rules = ['on', `>${password}`, '~rgacl:*', '&rgacl:*', ...commands];
    expect(redisCli(server.port, ['acl', 'setuser', 'roomguard', ...rules])).toBe('OK');
  });
  afterAll(async () => {
    await server?.kill();
    temp?.remove();
  });

  it('runs the store and the session bus as the documented least-privilege user', async () => {
    const store = await openStore(configWith({ url: `redis://127.0.0.1:${server.port}`, keyPrefix: 'rgacl:', username: 'roomguard', password }));
    const publisher = await openSessionBus(store, 'rgacl:');
    const listener = await openSessionBus(store, 'rgacl:');
    try {
      await store.set('a', '1', 60_000);
      expect(await store.get('a')).toBe('1');
      expect(await store.take('a')).toBe('1');
      expect(await store.add('b', '1', 60_000)).toBe(true);
      expect(await store.replace('b', '2', 60_000)).toBe(true);
      expect(await store.increment('n', 60_000)).toBe(1);
      await store.addMember('s', 'm', 60_000);
      expect(await store.members('s')).toEqual(['m']);
      await store.removeMember('s', 'm');
      expect(await store.getMany(['b', 'missing'])).toEqual(['2', null]);
      await store.deleteMany(['b', 'missing']);
      expect(await store.get('b')).toBeNull();
      const received = new Promise((resolve) => listener.subscribe(resolve));
      await publisher.publish({ kind: 'changed', hash: 'b'.repeat(64) });
      expect(await received).toEqual({ kind: 'changed', hash: 'b'.repeat(64) });
      const [, keys] = await (store.inner as RedisStore).client.scan('0', 'MATCH', 'rgacl:*', 'COUNT', 100);
      expect(keys).toEqual(['rgacl:n']);
    } finally {
      await Promise.all([publisher.close(), listener.close()]);
      await store.close();
    }
  });

  it('refuses to start for a user made from the command list before MGET or PTTL was on it, and names the command', async () => {
    const doc = readFileSync(fileURLToPath(new URL('../../docs/operations.md', import.meta.url)), 'utf8');
    for (const later of ['mget', 'pttl']) {
      const older = /ACL SETUSER roomguard[^`]*/.exec(doc)![0].match(/\+[a-z|]+/g)!.filter((c) => c !== `+${later}`);
      expect(redisCli(server.port, ['acl', 'setuser', `roomguard-no-${later}`, 'reset', 'on', `>${password}`, '~rgacl:*', '&rgacl:*', ...older])).toBe('OK');
      await expect(openStore(configWith({ url: `redis://127.0.0.1:${server.port}`, keyPrefix: 'rgacl:', username: `roomguard-no-${later}`, password }))).rejects.toMatchObject({
        code: 'RG_STORE_UNAVAILABLE',
        message: expect.stringContaining(`refuses roomguard's user: allow it ${later.toUpperCase()} (\`+${later}\`, see the ACL line in docs/operations.md)`),
      });
    }
  });

  it('is refused with the server\'s reason for a wrong password, and outside its key prefix', async () => {
    await expect(openStore(configWith({ url: `redis://127.0.0.1:${server.port}`, keyPrefix: 'rgacl:', username: 'roomguard', password: 'wrong' }))).rejects.toMatchObject({ code: 'RG_STORE_UNAVAILABLE', message: expect.stringMatching(/WRONGPASS/) });
    // Outside its key pattern: refused at start-up, naming the prefix, not at the first login.
    await expect(openStore(configWith({ url: `redis://127.0.0.1:${server.port}`, keyPrefix: 'other:', username: 'roomguard', password }))).rejects.toMatchObject({ code: 'RG_STORE_UNAVAILABLE', message: expect.stringMatching(/~other:\*.*NOPERM/) });
  });
});

describe('Sentinel', () => {
  let temp: TempDir;
  let set: SentinelSet;
  let gw: Awaited<ReturnType<typeof gatewayWith>>;

  beforeAll(async () => {
    temp = redisTempDir('sentinel');
    set = await startSentinelSet(temp.dir);
    gw = await gatewayWith({ keyPrefix: 'rgsentinel:', sentinel: { name: set.name, nodes: set.sentinels.map((s) => `127.0.0.1:${s.port}`) } });
  });
  afterAll(async () => {
    await gw?.close();
    await set?.stop();
    temp?.remove();
  });

  it('keeps a session across a failover, and new logins write to the new primary', async () => {
    const bob = await signInToRoom(gw.origin, 'bob');
    expect(bob.status).toBe(200);
    const sessionKeys = keysWithTtl(set.primary.port, 'rgsentinel:session:*');
    expect(sessionKeys).toHaveLength(1);

    await failOver(set);
    expect(set.primaryAddress()).toBe(`127.0.0.1:${set.replica.port}`);

    // The old primary is a replica now: a client still writing there would get READONLY and a 503.
    const again = await bob.browser.request(`${gw.origin}/rooms/open`);
    expect(again.status).toBe(200);
    const carol = await signInToRoom(gw.origin, 'carol');
    expect(carol.status).toBe(200);
    const afterFailover = keysWithTtl(set.replica.port, 'rgsentinel:session:*');
    expect(afterFailover.length).toBeGreaterThanOrEqual(2);
    for (const { pttl } of afterFailover) expect(pttl).toBeGreaterThan(0);
  });

  it('lets a set\'s TTL only grow on the primary the sentinels name', async () => {
    const store = new RedisStore({ sentinel: { name: set.name, nodes: set.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })) }, keyPrefix: 'rgsentinel-index:' });
    try {
      await store.connect();
      await store.addMember('index', 'long', 30 * 86_400_000);
      await store.addMember('index', 'short', 5 * 60_000);
      const [index] = keysWithTtl(Number(set.primaryAddress().split(':')[1]), 'rgsentinel-index:*');
      expect(index?.pttl).toBeGreaterThan(29 * 86_400_000);
      await store.delete('index');
    } finally {
      await store.close();
    }
  });

  it('names the reason when the sentinels know no primary of that name (a wrong store.sentinel.name)', async () => {
    const store = new RedisStore({ sentinel: { name: 'not-ours', nodes: set.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })) }, keyPrefix: 'x:', connectDeadlineMs: 1500 });
    try {
      await expect(store.connect()).rejects.toMatchObject({ code: 'RG_STORE_UNAVAILABLE', message: expect.stringMatching(/No such master with that name/) });
    } finally {
      await store.close();
    }
  });
});

describe('Sentinel over TLS (store.tls.enabled)', () => {
  let temp: TempDir;
  let set: SentinelSet;
  let tls: TlsMaterial;

  beforeAll(async () => {
    temp = redisTempDir('sentinel-tls');
    tls = makeTlsMaterial(temp.dir);
    set = await startSentinelSet(temp.dir, { name: 'rgtlsprimary', tls });
  });
  afterAll(async () => {
    await set?.stop();
    temp?.remove();
  });

  it('asks the sentinels and writes to the primary over TLS, verified against store.tls.ca', async () => {
    const sentinel = { name: set.name, nodes: set.sentinels.map((s) => `127.0.0.1:${s.port}`) };
    const store = await openStore(configWith({ keyPrefix: 'rgstls:', sentinel, tls: { enabled: true, ca: tls.ca } }));
    try {
      await store.set('probe', 'over tls', 60_000);
      expect(await store.get('probe')).toBe('over tls');
      expect(set.cli(set.primary.port, ['get', 'rgstls:probe'])).toMatch(/^v1\./);
    } finally {
      await store.close();
    }
    // The same sentinels with a CA that signed none of them: the reason is the certificate, said so.
    const untrusted = new RedisStore({ keyPrefix: 'rgstls:', sentinel: { name: set.name, nodes: set.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })) }, tls: { ca: readFileSync(tls.otherCa, 'utf8') }, connectDeadlineMs: 1500 });
    try {
      await expect(untrusted.connect()).rejects.toMatchObject({ code: 'RG_STORE_UNAVAILABLE', message: expect.stringMatching(/TLS to sentinel .* failed: .*certificate/i) });
    } finally {
      await untrusted.close();
    }
  });
});

describe('Cluster over TLS (store.tls.enabled)', () => {
  let temp: TempDir;
  let cluster: RedisCluster;
  let tls: TlsMaterial;

  beforeAll(async () => {
    temp = redisTempDir('cluster-tls');
    tls = makeTlsMaterial(temp.dir);
    cluster = await startCluster(temp.dir, { tls });
  });
  afterAll(async () => {
    await cluster?.stop();
    temp?.remove();
  });

  it('reaches every primary over TLS, verified against store.tls.ca, and refuses an untrusted one', async () => {
    const nodes = cluster.nodes.map((n) => `127.0.0.1:${n.port}`);
    const store = await openStore(configWith({ keyPrefix: 'rgctls:', cluster: { nodes }, tls: { enabled: true, ca: tls.ca } }));
    try {
      for (let i = 0; i < 12; i++) await store.set(`k${i}`, String(i), 60_000);
      for (let i = 0; i < 12; i++) expect(await store.get(`k${i}`)).toBe(String(i));
      const tlsArgs = ['--tls', '--cacert', tls.ca];
      // The keys landed on every node, each reached over TLS.
      for (const node of cluster.nodes) expect(redisCli(node.port, ['dbsize'], tlsArgs)).not.toBe('0');
      // The session bus keeps a subscriber connection of its own to one node: over TLS too.
      const bus = await openSessionBus(store, 'rgctls:');
      try {
        expect(bus.live).toBe(true);
      } finally {
        await bus.close();
      }
    } finally {
      await store.close();
    }
    await expect(openStore(configWith({ keyPrefix: 'rgctls:', cluster: { nodes }, tls: { enabled: true, ca: tls.otherCa } }))).rejects.toMatchObject({ code: 'RG_STORE_UNAVAILABLE', message: expect.stringMatching(/TLS to node 127.0.0.1:\d+ failed: .*certificate/i) });
  });
});

describe('Cluster', () => {
  let temp: TempDir;
  let cluster: RedisCluster;
  let store: RedisStore;
  let gw: Awaited<ReturnType<typeof gatewayWith>>;
  const nodes = () => cluster.nodes.map((n) => `127.0.0.1:${n.port}`);

  beforeAll(async () => {
    temp = redisTempDir('cluster');
    cluster = await startCluster(temp.dir);
    store = new RedisStore({ cluster: { nodes: cluster.nodes.slice(0, 1).map((n) => ({ host: '127.0.0.1', port: n.port })) }, keyPrefix: 'rgcluster:' });
    await store.connect();
    gw = await gatewayWith({ keyPrefix: 'rggw:', cluster: { nodes: nodes() } });
  });
  afterAll(async () => {
    await gw?.close();
    await store?.close();
    await cluster?.stop();
    temp?.remove();
  });

  it('runs every store operation under the key prefix on keys spread over all primaries', async () => {
    expect(store.topology).toBe('cluster');
    for (let i = 0; i < 24; i++) {
      await store.set(`value:${i}`, `v${i}`, 60_000);
      expect(await store.increment(`counter:${i}`, 60_000)).toBe(1);
      expect(await store.increment(`counter:${i}`, 60_000)).toBe(2);
      await store.addMember(`set:${i}`, 'a', 60_000);
      await store.addMember(`set:${i}`, 'b', 60_000);
    }
    expect(await store.get('value:7')).toBe('v7');
    expect(await store.take('value:7')).toBe('v7');
    expect(await store.take('value:7')).toBeNull();
    expect(await store.add('marker', '1', 60_000)).toBe(true);
    expect(await store.add('marker', '1', 60_000)).toBe(false);
    expect(await store.replace('absent', 'x', 60_000)).toBe(false);
    expect(await store.replace('value:3', 'w', 60_000)).toBe(true);
    expect(await store.get('value:3')).toBe('w');
    await store.removeMember('set:5', 'a');
    expect((await store.members('set:5')).sort()).toEqual(['b']);
    await store.delete('value:4');
    expect(await store.get('value:4')).toBeNull();
    // Keys on different primaries: read and deleted key by key (a multi-key command would be CROSSSLOT).
    expect(await store.getMany(['value:1', 'value:4', 'value:2', 'value:9'])).toEqual(['v1', null, 'v2', 'v9']);
    await store.deleteMany(['value:1', 'value:2']);
    expect(await store.getMany(['value:1', 'value:2'])).toEqual([null, null]);

    const perNode = cluster.nodes.map((n) => keysWithTtl(n.port, 'rgcluster:*'));
    // Hash slots put the keys on every primary; each key carries the prefix and a TTL.
    for (const keys of perNode) expect(keys.length).toBeGreaterThan(0);
    const all = perNode.flat();
    expect(all).toHaveLength(24 * 3 - 4 + 1);
    for (const { key, pttl } of all) {
      expect(key.startsWith('rgcluster:')).toBe(true);
      expect(pttl, key).toBeGreaterThan(0);
    }
    // The store's scan targets are exactly the primaries (a key census must visit each).
    expect(store.scanTargets().map((c) => c.options.port).sort()).toEqual(cluster.nodes.map((n) => n.port).sort());
  });

  it('lets a set\'s TTL only grow, on every primary (one key per script: no CROSSSLOT)', async () => {
    for (let i = 0; i < 12; i++) {
      await store.addMember(`index:${i}`, 'long', 30 * 86_400_000);
      await store.addMember(`index:${i}`, 'short', 5 * 60_000);
    }
    const perNode = cluster.nodes.map((n) => keysWithTtl(n.port, 'rgcluster:index:*'));
    for (const keys of perNode) expect(keys.length).toBeGreaterThan(0);
    for (const { key, pttl } of perNode.flat()) expect(pttl, key).toBeGreaterThan(29 * 86_400_000);
    await store.deleteMany(Array.from({ length: 12 }, (_, i) => `index:${i}`));
  });

  it('signs a person in through a gateway on the Cluster and reads the session back', async () => {
    const bob = await signInToRoom(gw.origin, 'bob');
    expect(bob.status).toBe(200);
    const again = await bob.browser.request(`${gw.origin}/rooms/open`);
    expect(again.status).toBe(200);
    const sessions = cluster.nodes.flatMap((n) => keysWithTtl(n.port, 'rggw:session:*'));
    expect(sessions).toHaveLength(1);
    // Without the cookie the same room asks for a login: the 200 above came from the stored session.
    const stranger = await new ScriptedBrowser({ accept: 'text/html' }).request(`${gw.origin}/rooms/open`);
    expect(stranger.status).toBe(302);
  });

  it('carries session events between instances over Cluster pub/sub (the bus subscribes on store.client.duplicate())', async () => {
    const publisher = await openSessionBus(store, 'rgcluster:');
    const listener = await openSessionBus(store, 'rgcluster:');
    try {
      const received = new Promise((resolve) => listener.subscribe(resolve));
      const event = { kind: 'ended' as const, hash: 'a'.repeat(64) };
      await publisher.publish(event);
      expect(await received).toEqual(event);
    } finally {
      await Promise.all([publisher.close(), listener.close()]);
    }
  });

  it('reports a gap in Cluster pub/sub: a killed subscriber is down at once, up again once resubscribed, and hears what follows', async () => {
    const publisher = await openSessionBus(store, 'rgcluster:');
    const listener = await openSessionBus(store, 'rgcluster:');
    try {
      expect(listener.live).toBe(true);
      const gaps: boolean[] = [];
      listener.onGap(() => gaps.push(listener.live));
      // The listener subscribes on one node of its choosing: cut every node's subscribers.
      for (const node of cluster.nodes) redisCli(node.port, ['client', 'kill', 'type', 'pubsub']);
      await expect.poll(() => gaps, { timeout: 10_000 }).toEqual([false, true]);
      const received = new Promise((resolve) => listener.subscribe(resolve));
      const event = { kind: 'ended' as const, hash: 'e'.repeat(64) };
      await publisher.publish(event);
      expect(await received).toEqual(event);
    } finally {
      await Promise.all([publisher.close(), listener.close()]);
    }
  });

  it('moves its subscription to another node when the one it listens on stays away, and reports the gap', async () => {
    const listener = await openSessionBus(store, 'rgcluster-move:');
    const listenerNode = () => cluster.nodes.find((n) => /\bsub=1\b/.test(redisCli(n.port, ['client', 'list', 'type', 'pubsub'])));
    const node = listenerNode()!;
    expect(node).toBeDefined();
    try {
      const gaps: boolean[] = [];
      listener.onGap(() => gaps.push(listener.live));
      await node.kill();
      await expect.poll(() => gaps, { timeout: 15_000 }).toEqual([false, true]);
      expect(listenerNode()?.port).not.toBe(node.port);
    } finally {
      await listener.close();
      await node.restart();
      await waitFor('the node back in the cluster', () => redisCli(node.port, ['cluster', 'info']).includes('cluster_state:ok'));
    }
  });

  it('fails fast with RG_STORE_UNAVAILABLE while a primary is down, and recovers when it rejoins', async () => {
    const node = cluster.nodes[1]!;
    const slotOwner = (key: string) => Number(redisCli(node.port, ['cluster', 'keyslot', `rgcluster:${key}`]));
    // A key whose slot this node serves: its commands cannot go anywhere else.
    const shards = redisCli(node.port, ['cluster', 'slots']).split('\n');
    let key = '';
    for (let i = 0; i < 200 && !key; i++) {
      const slot = slotOwner(`outage:${i}`);
      if (ownsSlot(shards, slot, node.port)) key = `outage:${i}`;
    }
    expect(key).not.toBe('');
    await store.set(key, 'before', 60_000);

    await node.kill();
    await expect(store.get(key)).rejects.toMatchObject({ code: 'RG_STORE_UNAVAILABLE' });
    await expect(store.set(key, 'during', 60_000)).rejects.toMatchObject({ code: 'RG_STORE_UNAVAILABLE' });

    await node.restart();
    // The test servers keep nothing on disk, so the value is gone; what matters is that the store answers again.
    await expect.poll(() => store.get(key).then(() => 'answers', (err: { code?: string }) => err.code), { timeout: 20_000, interval: 250 }).toBe('answers');
    await store.set(key, 'after', 60_000);
    expect(await store.get(key)).toBe('after');
  });
});

/** Whether `port` serves `slot`, from the flat `redis-cli cluster slots` output (start, end, host, port, id, …). */
function ownsSlot(lines: string[], slot: number, port: number): boolean {
  for (let i = 0; i + 3 < lines.length; i++) {
    const [start, end, host, owner] = [Number(lines[i]), Number(lines[i + 1]), lines[i + 2], Number(lines[i + 3])];
    if (host === '127.0.0.1' && owner === port && Number.isInteger(start) && Number.isInteger(end) && slot >= start && slot <= end) return true;
  }
  return false;
}
