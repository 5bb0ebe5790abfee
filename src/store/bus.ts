// Session events between gateway instances: "this session ended" and "this session changed", published
// through Redis pub/sub (or in-process for the memory store). Listeners close WebSockets of ended
// sessions and drop cached copies at once; the store stays the truth, the bus only makes it fast.
import { EventEmitter } from 'node:events';
import type { Store } from './store.js';
import { MemoryStore } from './memory.js';
import { RedisStore } from './redis.js';
import { backingStoreOf } from './key-census.js';

export interface SessionEvent {
  kind: 'ended' | 'changed';
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
  /** Called when the bus (re)connects or drops: events may have been missed, caches must be emptied. */
  onGap(listener: () => void): () => void;
  close(): Promise<void>;
}

const HASH = /^[0-9a-f]{64}$/;

function parseEvent(message: string): SessionEvent | undefined {
  const at = message.indexOf(':');
  const kind = message.slice(0, at);
  const hash = message.slice(at + 1);
  if ((kind !== 'ended' && kind !== 'changed') || !HASH.test(hash)) return undefined;
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
  readonly #subscriber: ReturnType<RedisStore['client']['duplicate']>;
  readonly #channel: string;
  readonly #local = new EventEmitter();
  #live = false;

  private constructor(store: RedisStore, channel: string) {
    this.#store = store;
    this.#channel = channel;
    this.#local.setMaxListeners(0);
    this.#subscriber = store.client.duplicate();
    this.#subscriber.on('error', () => undefined);
    this.#subscriber.on('message', (from: string, message: string) => {
      if (from !== this.#channel) return;
      const event = parseEvent(message);
      if (event) this.#local.emit('event', event);
    });
    // ioredis resubscribes after a reconnect; whatever was published in between is lost: report a gap.
    this.#subscriber.on('close', () => this.#setLive(false));
    this.#subscriber.on('ready', () => this.#setLive(true));
  }

  static async open(store: RedisStore, channel: string): Promise<RedisSessionBus> {
    const bus = new RedisSessionBus(store, channel);
    try {
      await bus.#subscriber.subscribe(channel);
      bus.#setLive(true);
    } catch {
      // Redis away at start-up: the bus comes up with the connection; until then nothing is cached.
    }
    return bus;
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
    try {
      await this.#store.client.publish(this.#channel, `${event.kind}:${event.hash}`);
    } catch {
      // The store already holds the change; other instances' caches expire and their sweeps find it.
    }
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
    this.#local.removeAllListeners();
    this.#subscriber.disconnect();
  }
}
