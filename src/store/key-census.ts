// Counts the live keys under one prefix in the backing store, for gauges such as active sessions.
// Bounded: it stops after a fixed number of SCAN round trips, so a huge keyspace costs a known amount
// and the answer is then a lower bound. The store itself stays ignorant of what the keys mean.
import type { Store } from './store.js';
import { RedisStore } from './redis.js';

export interface KeyCensusOptions {
  /** SCAN round trips at most (each looks at about `batch` keys of the whole keyspace). */
  maxRoundTrips?: number;
  batch?: number;
}

/** A counter of keys starting with `prefix` (after the store's own key prefix), or undefined when the store cannot enumerate keys. */
export function keyCensus(store: Store, prefix: string, options: KeyCensusOptions = {}): (() => Promise<number>) | undefined {
  const raw = backingStoreOf(store);
  if (!(raw instanceof RedisStore)) return undefined;
  // SCAN with MATCH: ioredis does not add keyPrefix to patterns (and a Cluster's nodes do not even know
  // it), hence the explicit prefix. A Cluster is scanned primary by primary; replicas would count twice.
  const pattern = `${globEscape(raw.client.options.keyPrefix ?? '')}${globEscape(prefix)}*`;
  const maxRoundTrips = options.maxRoundTrips ?? 1000;
  const batch = String(options.batch ?? 1000);
  return async () => {
    let count = 0;
    let trips = 0;
    for (const node of raw.scanTargets()) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', batch);
        count += keys.length;
        cursor = next;
      } while (cursor !== '0' && ++trips < maxRoundTrips);
      if (trips >= maxRoundTrips) break;
    }
    return count;
  };
}

/** Follows wrappers (sealing, timing) down to the store that talks to Redis (or memory). */
export function backingStoreOf(store: Store): Store {
  let current: Store = store;
  for (let depth = 0; depth < 8 && 'inner' in current; depth++) current = (current as Store & { inner: Store }).inner;
  return current;
}

function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
