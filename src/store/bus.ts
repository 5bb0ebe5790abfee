// Session events between gateway instances: "this session ended" and "this session changed", published
// through Redis pub/sub (or in-process for the memory store). Listeners close WebSockets of ended
// sessions and drop cached copies at once; the store stays the truth, the bus only makes it fast.
import { EventEmitter } from 'node:events';
import type { Store } from './store.js';
import { MemoryStore } from './memory.js';
import { Cluster, Redis } from 'ioredis';
import { RedisStore } from './redis.js';
import { backingStoreOf } from './key-census.js';

export interface SessionEvent {
  /** `room`: a room's lock or evictions changed (src/rooms/controls.ts); the hash is then of the room's name. */
  kind: 'ended' | 'changed' | 'room';
  /** Hash of the session id (never the id itself). */
  hash: string;
}

export interface SessionBus {
  /** Tells every instance (this one at once). Never throws: the store already holds the change. */
  publish(event: SessionEvent): Promise<void>;
  /** Calls the listener for every event from any instance; returns the unsubscribe function. */
  subscribe(listener: (event: SessionEvent) => void): () => void;
  /** True while events from other instances are known to arrive (caches may be trusted only then). */
  readonly live: boolean;
  /**
   * Called when the bus drops and again once it is subscribed anew: events published in between are lost
   * (pub/sub keeps nothing), so caches must be emptied and whatever the events would have ended must be
   * looked up in the store. The second call comes only after the new subscription is confirmed.
   */
  onGap(listener: () => void): () => void;
  close(): Promise<void>;
}

const HASH = /^[0-9a-f]{64}$/;
/** An event Redis did not take is sent again after 250 ms, 500 ms, 1 s … (six tries, some 16 s in all). */
const PUBLISH_RETRY_MS = 250;
const PUBLISH_RETRIES = 6;
/** How soon a subscription Redis refused on a live connection is tried again. */
const RESUBSCRIBE_RETRY_MS = 1000;

function parseEvent(message: string): SessionEvent | undefined {
  const at = message.indexOf(':');
  const kind = message.slice(0, at);
  const hash = message.slice(at + 1);
  if ((kind !== 'ended' && kind !== 'changed' && kind !== 'room') || !HASH.test(hash)) return undefined;
  return { kind, hash };
}

/**
 * The bus of a store: Redis pub/sub on the channel `<keyPrefix>session-events` for Redis, a shared
 * in-process emitter for the memory store. Gateways and CLI commands derive the channel here only, so
 * they cannot drift apart (a revocation from the CLI would then reach no running instance).
 */
export async function openSessionBus(store: Store, keyPrefix: string): Promise<SessionBus> {
  const channel = `${keyPrefix}session-events`;
  const raw = backingStoreOf(store);
  if (raw instanceof RedisStore) return RedisSessionBus.open(raw, channel);
  if (raw instanceof MemoryStore) return new LocalSessionBus(localEmitterOf(raw));
  // A store without pub/sub: nothing arrives from elsewhere; `live` stays false so nothing is cached.
  return new LocalSessionBus(new EventEmitter(), false);
}

const emitters = new WeakMap<MemoryStore, EventEmitter>();

/** Gateways sharing one memory store (tests, the demo) share its bus. */
function localEmitterOf(store: MemoryStore): EventEmitter {
  let emitter = emitters.get(store);
  if (!emitter) {
    emitter = new EventEmitter();
    emitter.setMaxListeners(0);
    emitters.set(store, emitter);
  }
  return emitter;
}

class LocalSessionBus implements SessionBus {
  readonly #emitter: EventEmitter;
  readonly live: boolean;
  readonly #own = new Set<(event: SessionEvent) => void>();

  constructor(emitter: EventEmitter, live = true) {
    this.#emitter = emitter;
    this.live = live;
  }

  async publish(event: SessionEvent): Promise<void> {
    this.#emitter.emit('event', event);
  }

  subscribe(listener: (event: SessionEvent) => void): () => void {
    this.#emitter.on('event', listener);
    this.#own.add(listener);
    return () => {
      this.#emitter.off('event', listener);
      this.#own.delete(listener);
    };
  }

  onGap(): () => void {
    return () => undefined;
  }

  async close(): Promise<void> {
    for (const listener of this.#own) this.#emitter.off('event', listener);
    this.#own.clear();
  }
}

class RedisSessionBus implements SessionBus {
  readonly #store: RedisStore;
  #subscriber: Redis;
  readonly #channel: string;
  readonly #local = new EventEmitter();
  #live = false;
  /** Counts subscription attempts: one confirmed for an older attempt (an older connection) proves nothing. */
  #attempt = 0;
  #latest: Promise<void> = Promise.resolve();
  #closed = false;
  /** Cluster only: which node the next subscriber connection goes to (they are taken in turn). */
  #nextNode = 0;

  private constructor(store: RedisStore, channel: string) {
    this.#store = store;
    this.#channel = channel;
    this.#local.setMaxListeners(0);
    this.#subscriber = this.#attach(this.#newSubscriber());
  }

  /**
   * A connection of our own for SUBSCRIBE, whose every break the bus can see. Standalone and Sentinel:
   * a sibling of the command connection (same server, TLS and credentials; it reconnects by itself).
   * Cluster: ioredis's own cluster subscriber moves between nodes without telling anyone, so the bus
   * keeps a plain connection to one node instead (Cluster pub/sub reaches every node), and moves to the
   * next node itself when that one stays away.
   */
  #newSubscriber(): Redis {
    const client = this.#store.client;
    // ioredis's own resubscription is off: the bus resubscribes on 'ready' (below) and waits for the
    // answer; ioredis would send the same command without waiting, and a refusal of it would surface as
    // an unhandled rejection.
    if (!(client instanceof Cluster)) return client.duplicate({ autoResubscribe: false });
    // The nodes the cluster knows now, else those it was given (it may be entirely away just now).
    const known = client.nodes('all').map((node) => ({ host: node.options.host, port: node.options.port }));
    const nodes = known.length > 0 ? known : this.#store.clusterNodes;
    const node = nodes[this.#nextNode++ % nodes.length]!;
    return new Redis({
      ...client.options.redisOptions,
      host: node.host, port: node.port, lazyConnect: true, autoResubscribe: false, keyPrefix: '',
      // A few quick tries on the same node, then 'end': the next node is taken.
      retryStrategy: (attempt: number) => (attempt > 3 ? null : attempt * 200),
    });
  }

  #attach(subscriber: Redis): Redis {
    // A replaced connection (Cluster: its node stayed away) speaks for the bus no more.
    const current = () => subscriber === this.#subscriber;
    subscriber.on('error', () => undefined);
    subscriber.on('message', (from: string, message: string) => {
      if (from !== this.#channel || !current()) return;
      const event = parseEvent(message);
      if (event) this.#local.emit('event', event);
    });
    // Any break in the subscriber's connection (a killed client, a restart, a network blip) loses what
    // was published meanwhile: down at the first sign of it ...
    for (const sign of ['close', 'end', 'reconnecting'] as const) subscriber.on(sign, () => current() && this.#setLive(false));
    // ... and up again only once the channel is subscribed on the new connection. ioredis announces
    // 'ready' before it would send a resubscription, so an event published between the two would be
    // lost after the gap listeners had already looked at the store: subscribe here and wait for the answer.
    subscriber.on('ready', () => current() && void this.#subscribe());
    // A connection that gave up (Cluster: its node stays away) is replaced by one to another node.
    subscriber.once('end', () => {
      if (this.#closed || !current()) return;
      this.#subscriber = this.#attach(this.#newSubscriber());
      void this.#subscribe();
    });
    return subscriber;
  }

  static async open(store: RedisStore, channel: string): Promise<RedisSessionBus> {
    const bus = new RedisSessionBus(store, channel);
    // Redis away at start-up: the bus comes up with the connection ('ready'); until then nothing is cached.
    await bus.#subscribe();
    // Connecting fired 'ready', whose subscription (sent after this one) is the one that sets the bus live.
    await bus.#latest;
    return bus;
  }

  #subscribe(): Promise<void> {
    this.#latest = this.#subscribeOnce();
    return this.#latest;
  }

  async #subscribeOnce(): Promise<void> {
    const attempt = ++this.#attempt;
    const subscriber = this.#subscriber;
    try {
      await subscriber.subscribe(this.#channel);
    } catch {
      // The connection dropped again (its next 'ready' tries anew), or Redis refused (an ACL without the
      // channel): the bus stays down, so nothing is cached and sockets are polled, and tries again later.
      if (subscriber.status === 'ready') {
        setTimeout(() => {
          if (attempt === this.#attempt && !this.#closed) void this.#subscribe();
        }, RESUBSCRIBE_RETRY_MS).unref();
      }
      return;
    }
    if (attempt === this.#attempt && subscriber === this.#subscriber && subscriber.status === 'ready') this.#setLive(true);
  }

  #setLive(live: boolean): void {
    const changed = live !== this.#live;
    this.#live = live;
    if (changed) this.#local.emit('gap');
  }

  get live(): boolean {
    return this.#live && this.#subscriber.status === 'ready';
  }

  async publish(event: SessionEvent): Promise<void> {
    // This instance learns at once; the others through Redis (which also echoes it back here, harmlessly).
    this.#local.emit('event', event);
    if (!(await this.#send(event))) this.#sendLater(event, 1);
  }

  async #send(event: SessionEvent): Promise<boolean> {
    try {
      await this.#store.client.publish(this.#channel, `${event.kind}:${event.hash}`);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * An event Redis did not take (the command connection broke after the store change it reports) is
   * sent again a few times in the background: the other instances' buses may be up and waiting for it,
   * and would otherwise learn of an ended session only at their next 15 s re-check. The caller does not
   * wait: the store already holds the change.
   */
  #sendLater(event: SessionEvent, attempt: number): void {
    if (attempt > PUBLISH_RETRIES || this.#closed) return;
    setTimeout(() => {
      void this.#send(event).then((sent) => sent || this.#sendLater(event, attempt + 1));
    }, PUBLISH_RETRY_MS * 2 ** (attempt - 1)).unref();
  }

  subscribe(listener: (event: SessionEvent) => void): () => void {
    this.#local.on('event', listener);
    return () => this.#local.off('event', listener);
  }

  onGap(listener: () => void): () => void {
    this.#local.on('gap', listener);
    return () => this.#local.off('gap', listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#local.removeAllListeners();
    this.#subscriber.disconnect();
  }
}
