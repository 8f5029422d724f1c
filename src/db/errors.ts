/**
 * The database cannot be reached right now (a PostgreSQL server down or restarting, a network
 * partition): nothing was written, and the same request can be retried. The API answers 503.
 */
export class DatabaseUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`database unavailable: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'DatabaseUnavailableError';
  }
}
