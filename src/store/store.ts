// The one storage interface: short-lived string values under keys, each with a TTL. It knows nothing
// of sessions or second factors; callers own their key names. Failures surface as RG_STORE_UNAVAILABLE.

export interface Store {
  readonly kind: 'redis' | 'memory';
  get(key: string): Promise<string | null>;
  /** Writes a value that disappears after ttlMs. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Reads and deletes atomically: a value can be taken once (single-use login state, codes). */
  take(key: string): Promise<string | null>;
  delete(key: string): Promise<void>;
  /**
   * Several keys in one round trip where the store can (MGET; a Redis Cluster reads key by key, as its
   * keys may live on different nodes); values in the order of `keys`, null where absent.
   */
  getMany(keys: string[]): Promise<Array<string | null>>;
  /** Deletes several keys, in one round trip where the store can (as getMany). */
  deleteMany(keys: string[]): Promise<void>;
  /** Writes only when the key exists (and is live); false when it was gone — nothing is written then. */
  replace(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Writes only when the key is absent; true when this call wrote it (single-use markers, replay guards). */
  add(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Atomically increments a counter, giving it ttlMs when it is new; returns the new value (attempt limits). */
  increment(key: string, ttlMs: number): Promise<number>;
  /**
   * Adds a member to a set (indexes such as a person's sessions, a room's invitations) and makes the set
   * live at least ttlMs more. The set's TTL only ever grows: an index lives as long as its longest-lived
   * member, so a later, shorter member can never make the index forget a longer one (which revocation
   * would then miss). Atomic; a set that has no TTL gets this one.
   */
  addMember(key: string, member: string, ttlMs: number): Promise<void>;
  removeMember(key: string, member: string): Promise<void>;
  members(key: string): Promise<string[]>;
  /** Resolves when the store answers; rejects with RG_STORE_UNAVAILABLE otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
