// Turns the `store.*` settings of roomguard.yaml into RedisStore options: which topology, which
// credentials, and the TLS files read from disk. Validation (file:line: field) happened in config/.
import { readFileSync } from 'node:fs';
import { configRelative } from '../config/load.js';
import { parseHostPort } from '../config/net.js';
import type { Config } from '../config/schema.js';
import type { RedisNode, RedisStoreOptions, RedisTls } from './redis.js';

export function redisStoreOptions(config: Config): RedisStoreOptions {
  const { store } = config;
  const common = {
    keyPrefix: store.keyPrefix,
    ...(store.username ? { username: store.username } : {}),
    ...(store.password ? { password: store.password.reveal() } : {}),
  };
  if (store.sentinel.nodes.length > 0) {
    if (!store.sentinel.name) throw new RangeError('store.sentinel.name is required with store.sentinel.nodes');
    return {
      ...common,
      sentinel: {
        name: store.sentinel.name,
        nodes: store.sentinel.nodes.map(node),
        ...(store.sentinel.username ? { username: store.sentinel.username } : {}),
        ...(store.sentinel.password ? { password: store.sentinel.password.reveal() } : {}),
      },
      ...(store.tls.enabled ? { tls: tlsFiles(config) } : {}),
    };
  }
  if (store.cluster.nodes.length > 0) {
    return { ...common, cluster: { nodes: store.cluster.nodes.map(node) }, ...(store.tls.enabled ? { tls: tlsFiles(config) } : {}) };
  }
  return { ...common, url: store.url, ...(store.url.startsWith('rediss:') ? { tls: tlsFiles(config) } : {}) };
}

function node(text: string): RedisNode {
  const parsed = parseHostPort(text);
  if (!parsed) throw new RangeError(`"${text}" is not host:port`);
  return parsed;
}

function tlsFiles(config: Config): RedisTls {
  const { tls } = config.store;
  const read = (path: string | undefined) => (path === undefined ? undefined : readFileSync(configRelative(config, path), 'utf8'));
  const ca = read(tls.ca);
  const cert = read(tls.cert);
  const key = read(tls.key);
  return {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(tls.servername ? { servername: tls.servername } : {}),
  };
}
