/**
 * Recent answers per user, bounded in entries and age. A key holds everything an answer depends
 * on (user, query, model version, catalogue version), so a model swap or a catalogue change
 * makes old entries unreachable; new interactions of a user drop that user's entries at once.
 * Map insertion order gives least-recently-used eviction.
 */
export class ResultCache<V> {
  private readonly entries = new Map<string, { value: V; at: number; user: string }>();
  private readonly byUser = new Map<string, Set<string>>();
  hits = 0;
  misses = 0;

  constructor(
    readonly maxEntries: number,
    readonly ttlMs: number,
    private readonly now: () => number = Date.now,
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
    this.entries.set(key, { value, at: this.now(), user });
    let keys = this.byUser.get(user);
    if (!keys) this.byUser.set(user, (keys = new Set()));
    keys.add(key);
    while (this.entries.size > this.maxEntries) this.delete(this.entries.keys().next().value!);
  }

  invalidateUser(user: string): void {
    for (const key of this.byUser.get(user) ?? []) this.entries.delete(key);
    this.byUser.delete(user);
  }

  clear(): void {
    this.entries.clear();
    this.byUser.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private delete(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    const keys = this.byUser.get(e.user);
    keys?.delete(key);
    if (keys && keys.size === 0) this.byUser.delete(e.user);
  }
}
