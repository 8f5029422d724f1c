/** The synchronous shape of an async repository interface: what a better-sqlite3 implementation writes. */
export type Synchronous<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R : T[K];
};

/**
 * Presents a synchronous (SQLite) implementation through its repository's async interface, so
 * callers are written once for every backend. A throw becomes a rejection, never a sync throw.
 */
export function promised<T extends object>(impl: Synchronous<T>): T {
  const out: Record<string, unknown> = {};
  for (const [name, member] of Object.entries(impl)) {
    if (typeof member !== 'function') {
      out[name] = member;
      continue;
    }
    const method = member as (...args: unknown[]) => unknown;
    out[name] = (...args: unknown[]): Promise<unknown> => {
      try {
        return Promise.resolve(method(...args));
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    };
  }
  return out as T;
}
