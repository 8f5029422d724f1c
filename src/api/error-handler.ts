import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DatabaseUnavailableError, storageProblemOf } from '../db/errors.js';
import { AppError, type ErrorDetail } from '../errors.js';
import { RequestValidationError } from './zod-compiler.js';

interface ErrorBody {
  error: string;
  code: string;
  details: ErrorDetail[];
}

/** Fastify's own client errors, mapped to our codes and to the field they concern. */
const FASTIFY_CLIENT_ERRORS: Record<string, { status: number; code: string; path: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'payload_too_large', path: 'body' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type', path: 'headers.content-type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'bad_request', path: 'headers.content-length' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'malformed_json', path: 'body' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'malformed_json', path: 'body' },
};

/** The answer to an error; `retryAfter` (seconds) when the same request can succeed later. */
function toErrorBody(err: FastifyError | Error, request: FastifyRequest): { status: number; body: ErrorBody; retryAfter?: number } {
  if (err instanceof AppError) {
    return { status: err.statusCode, body: { error: err.message, code: err.code, details: err.details } };
  }
  if (err instanceof DatabaseUnavailableError) {
    request.log.warn({ err: err.message }, 'database unavailable');
    return { status: 503, body: { error: 'The database is unavailable; nothing was written, try again shortly', code: 'database_unavailable', details: [] }, retryAfter: 5 };
  }
  // Freeing space or making a database writable takes an operator: longer pauses than a reconnect.
  const storage = storageProblemOf(err);
  if (storage === 'full') {
    request.log.error({ err: err.message }, 'storage full');
    return { status: 507, body: { error: "The database's disk is full; nothing was written, try again once space is freed", code: 'insufficient_storage', details: [] }, retryAfter: 60 };
  }
  if (storage === 'read_only') {
    request.log.error({ err: err.message }, 'storage read-only');
    return { status: 503, body: { error: 'The database is read-only; nothing was written, try again shortly', code: 'read_only', details: [] }, retryAfter: 30 };
  }
  const ferr = err as FastifyError;
  if (ferr.validation && ferr instanceof RequestValidationError) {
    return { status: 400, body: { error: 'Invalid request', code: 'validation_failed', details: ferr.validation } };
  }
  const known = ferr.code ? FASTIFY_CLIENT_ERRORS[ferr.code] : undefined;
  if (known) {
    return { status: known.status, body: { error: ferr.message, code: known.code, details: [{ path: known.path, message: ferr.message }] } };
  }
  if (err instanceof SyntaxError || (ferr.statusCode === 400 && /JSON/i.test(ferr.message))) {
    return { status: 400, body: { error: 'Malformed JSON body', code: 'malformed_json', details: [{ path: 'body', message: err.message }] } };
  }
  const status = ferr.statusCode && ferr.statusCode >= 400 && ferr.statusCode < 500 ? ferr.statusCode : 500;
  if (status < 500) {
    return { status, body: { error: ferr.message, code: (ferr.code ?? 'client_error').toLowerCase(), details: [] } };
  }
  request.log.error({ err }, 'request failed');
  return { status: 500, body: { error: 'Internal Server Error', code: 'internal', details: [] } };
}

/** One handler shapes every error as `{ error, code, details: [{ path, message }] }`; 5xx internals stay in the log. */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
    const { status, body, retryAfter } = toErrorBody(err, request);
    if (err instanceof AppError && err.statusCode === 401) reply.header('www-authenticate', 'Bearer');
    if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
    return reply.code(status).send(body);
  });
}
