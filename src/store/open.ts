// The store a configuration names: Redis (standalone, Sentinel or Cluster) or, for the demo, memory —
// connected, and sealed with secrets.encryptionKey (and the previous key during a rotation).
import type { Config } from '../config/schema.js';
import { decodeKey } from '../config/validate.js';
import { MemoryStore } from './memory.js';
import { RedisStore } from './redis.js';
import { redisStoreOptions } from './redis-settings.js';
import { SealedStore } from './sealed.js';
import type { Store } from './store.js';

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
