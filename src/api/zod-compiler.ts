import type { FastifySchemaCompiler } from 'fastify';
import type { z } from 'zod';
import type { ErrorDetail } from '../errors.js';

/** Marks a body already validated element by element in time slices (sliced-validation.ts): its schema is not run again. */
export const VALIDATED = Symbol('validated in slices');

type Issue = z.core.$ZodIssue;

/** Where in the request a field sits, as it appears in error paths (`body.ratings.3.rating`). */
const CONTEXT_PREFIX: Record<string, string> = {
  body: 'body',
  querystring: 'query',
  params: 'params',
  headers: 'headers',
};

/**
 * Turns zod issues into `{ path, message }` details. A failed union reports the branch the
 * input came closest to (fewest issues), so a bad single rating is not explained in terms
 * of the batch shape and vice versa.
 */
export function issuesToDetails(issues: readonly Issue[], prefix: string, basePath: PropertyKey[] = []): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  for (const issue of issues) {
    const fullPath = [...basePath, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const closest = issue.errors.reduce((best, branch) => (branch.length < best.length ? branch : best));
      details.push(...issuesToDetails(closest, prefix, fullPath));
      continue;
    }
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) details.push({ path: joinPath(prefix, [...fullPath, key]), message: 'unknown field' });
      continue;
    }
    details.push({ path: joinPath(prefix, fullPath), message: issue.message });
  }
  return details;
}

function joinPath(prefix: string, path: PropertyKey[]): string {
  return [prefix, ...path.map(String)].join('.');
}

/** An error Fastify recognises as a validation failure (it sets status 400 and `validationContext`). */
export class RequestValidationError extends Error {
  readonly validation: ErrorDetail[];
  constructor(details: ErrorDetail[]) {
    super(details.map((d) => `${d.path}: ${d.message}`).join('; '));
    this.validation = details;
  }
}

/** Validates params, query and body with the zod schema each route declares. */
export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema, httpPart }) => {
  const prefix = CONTEXT_PREFIX[httpPart ?? 'body'] ?? 'body';
  return (data: unknown) => {
    // A large batch already validated element by element, in time slices (sliced-validation.ts).
    if (httpPart === 'body' && data !== null && typeof data === 'object' && (data as Record<symbol, unknown>)[VALIDATED] === true) return { value: data };
    const result = schema.safeParse(data);
    if (result.success) return { value: result.data };
    return { error: new RequestValidationError(issuesToDetails(result.error.issues, prefix)) };
  };
};
