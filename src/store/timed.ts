// A Store decorator that times every operation into a histogram by operation and outcome, so slow or
// failing Redis shows up in metrics before participants see 503 pages. It changes no behaviour: values,
// errors and TTLs pass through untouched.
import type { Store } from './store.js';

/** The part of a prom-client Histogram the decorator needs (keeps the store free of metrics imports). */
export interface OperationTimer {
  startTimer(labels: { operation: string }): (labels: { outcome: 'ok' | 'error' }) => unknown;
}

export class TimedStore implements Store {
  readonly #inner: Store;
  readonly #timer: OperationTimer;

  constructor(inner: Store, timer: OperationTimer) {
    this.#inner = inner;
    this.#timer = timer;
  }

  get kind() {
    return this.#inner.kind;
  }

  /** The wrapped store (the session bus and key census look through wrappers). */
  get inner(): Store {
    return this.#inner;
  }

  async #timed<T>(operation: string, run: () => Promise<T>): Promise<T> {
    const done = this.#timer.startTimer({ operation });
    try {
      const result = await run();
      done({ outcome: 'ok' });
      return result;
    } catch (err) {
      done({ outcome: 'error' });
      throw err;
    }
  }

  get(key: string) { return this.#timed('get', () => this.#inner.get(key)); }
  set(key: string, value: string, ttlMs: number) { return this.#timed('set', () => this.#inner.set(key, value, ttlMs)); }
  take(key: string) { return this.#timed('take', () => this.#inner.take(key)); }
  delete(key: string) { return this.#timed('delete', () => this.#inner.delete(key)); }
  getMany(keys: string[]) { return this.#timed('getMany', () => this.#inner.getMany(keys)); }
  deleteMany(keys: string[]) { return this.#timed('deleteMany', () => this.#inner.deleteMany(keys)); }
  replace(key: string, value: string, ttlMs: number) { return this.#timed('replace', () => this.#inner.replace(key, value, ttlMs)); }
  add(key: string, value: string, ttlMs: number) { return this.#timed('add', () => this.#inner.add(key, value, ttlMs)); }
  increment(key: string, ttlMs: number) { return this.#timed('increment', () => this.#inner.increment(key, ttlMs)); }
  addMember(key: string, member: string, ttlMs: number) { return this.#timed('addMember', () => this.#inner.addMember(key, member, ttlMs)); }
  removeMember(key: string, member: string) { return this.#timed('removeMember', () => this.#inner.removeMember(key, member)); }
  members(key: string) { return this.#timed('members', () => this.#inner.members(key)); }
  ping() { return this.#timed('ping', () => this.#inner.ping()); }
  close() { return this.#inner.close(); }
}
