import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import type { ErrorDetail } from '../errors.js';
import { TimeBudget } from '../scheduling/yield.js';
import { issuesToDetails, RequestValidationError, VALIDATED } from './zod-compiler.js';

/** A route's batch: `{ <key>: [<element>, …] }`, at most `max` elements. */
export interface SlicedBatch {
  key: string;
  element: z.ZodType;
  max: number;
  /** What the elements are called in messages ("ratings"). */
  noun: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The body may be a large batch: validated in time slices (see {@link registerSlicedValidation}). */
    batch?: SlicedBatch;
  }
}

/** Up to this many elements, the route's schema validates the body at once (well under a slice). */
const AT_ONCE = 1000;
/** Elements between checks of the time budget. */
const CHECK_EVERY = 100;

/**
 * Validates a large batch body element by element in time slices, before the route's schema
 * would: zod took 38 ms of the loop for 10,000 ratings in one synchronous call (with parsing and
 * GC, a 10k-row POST held the loop over 100 ms). The rules are the route's own, element by
 * element, with the same error paths (`body.ratings.9999.rating`); only the schedule differs.
 */
export function registerSlicedValidation(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    const batch = request.routeOptions.config.batch;
    const body = request.body as Record<string, unknown> | null | undefined;
    if (!batch || !body || typeof body !== 'object' || Array.isArray(body)) return;
    const rows = body[batch.key];
    if (!Array.isArray(rows) || rows.length <= AT_ONCE) return;
    const unknown = Object.keys(body).filter((k) => k !== batch.key);
    if (unknown.length) throw new RequestValidationError(unknown.map((k) => ({ path: `body.${k}`, message: 'unknown field' })));
    if (rows.length > batch.max) throw new RequestValidationError([{ path: `body.${batch.key}`, message: `must contain at most ${batch.max} ${batch.noun}` }]);
    const budget = new TimeBudget();
    const parsed: unknown[] = new Array(rows.length);
    const details: ErrorDetail[] = [];
    for (let i = 0; i < rows.length; i++) {
      if (i % CHECK_EVERY === 0) await budget.pause();
      const result = batch.element.safeParse(rows[i]);
      if (result.success) parsed[i] = result.data;
      else details.push(...issuesToDetails(result.error.issues, 'body', [batch.key, i]));
    }
    if (details.length) throw new RequestValidationError(details);
    request.body = { [batch.key]: parsed, [VALIDATED]: true };
  });
}
