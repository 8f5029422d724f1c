/** A byte bound for the cache and how to estimate one value's size. */
export interface ByteBound<V> {
  maxBytes: number;
  sizeOf: (value: V) => number;
}

/** Per-entry bookkeeping beyond the value: the map entries, the key set, the record object. */
const ENTRY_OVERHEAD_BYTES = 160;

/**
 * Recent answers per user, bounded in entries, in estimated bytes and in age. A key holds
 * everything an answer depends on (user, query, model version, catalogue version), so a model
 * swap or a catalogue change makes old entries unreachable; new interactions of a user drop that
 * user's entries at once. Map insertion order gives least-recently-used eviction.
 */
export class ResultCache<V> {
  private readonly entries = new Map<string, { value: V; at: number; user: string; bytes: number }>();
  private readonly byUser = new Map<string, Set<string>>();
  private totalBytes = 0;
  hits = 0;
  misses = 0;

  constructor(
    readonly maxEntries: number,
    readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    private readonly bound: ByteBound<V> = { maxBytes: Number.POSITIVE_INFINITY, sizeOf: () => 0 },
  ) {}

  get(user: string, key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e || this.now() - e.at > this.ttlMs) {
      if (e) this.delete(key);
      this.misses++;
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, e);
    this.hits++;
    return e.value;
  }

  set(user: string, key: string, value: V): void {
    if (this.maxEntries <= 0) return;
    this.delete(key);
    // Strings are UTF-16 in V8: two bytes a character, for the key and the user id.
    const bytes = ENTRY_OVERHEAD_BYTES + 2 * (key.length + user.length) + this.bound.sizeOf(value);
    if (bytes > this.bound.maxBytes) return;
    this.entries.set(key, { value, at: this.now(), user, bytes });
    this.totalBytes += bytes;
    let keys = this.byUser.get(user);
    if (!keys) this.byUser.set(user, (keys = new Set()));
    keys.add(key);
    while (this.entries.size > this.maxEntries || this.totalBytes > this.bound.maxBytes) this.delete(this.entries.keys().next().value!);
  }

  invalidateUser(user: string): void {
    for (const key of this.byUser.get(user) ?? []) {
      const e = this.entries.get(key);
      if (e) this.totalBytes -= e.bytes;
      this.entries.delete(key);
    }
    this.byUser.delete(user);
  }

  clear(): void {
    this.entries.clear();
    this.byUser.clear();
    this.totalBytes = 0;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Estimated bytes held by the cached entries. */
  get bytes(): number {
    return this.totalBytes;
  }

  private delete(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.totalBytes -= e.bytes;
    const keys = this.byUser.get(e.user);
    keys?.delete(key);
    if (keys && keys.size === 0) this.byUser.delete(e.user);
  }
}
