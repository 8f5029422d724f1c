/** One problem the API found, naming the field: `body.ratings[3].rating`, `query.limit`, `params.id`. */
export interface FieldProblem {
  path: string;
  message: string;
}

/**
 * Any answer that is not a success: the API's `code` (validation_failed, not_found, forbidden,
 * rate_limited, database_unavailable, …), its field details, and the request id to quote in a
 * bug report. `retryAfterSeconds` is set when the server said when to try again.
 */
export class RecflowError extends Error {
  override readonly name = 'RecflowError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: readonly FieldProblem[],
    readonly requestId: string | null,
    readonly retryAfterSeconds: number | null,
  ) {
    super(`${status} ${code}: ${message}${details.length ? ` (${details.map((d) => `${d.path}: ${d.message}`).join('; ')})` : ''}`);
  }

  /** The problem reported for one field, if any: `err.field('body.rating')`. */
  field(path: string): FieldProblem | undefined {
    return this.details.find((d) => d.path === path);
  }
}

/** The server could not be reached (refused, reset, DNS): no answer at all. */
export class RecflowConnectionError extends Error {
  override readonly name = 'RecflowConnectionError';
  constructor(
    readonly url: string,
    override readonly cause: unknown,
  ) {
    super(`cannot reach ${url}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}
