/** One field-level problem in a rejected request. */
export interface ErrorDetail {
  path: string;
  message: string;
}

/**
 * The one error type the service throws on purpose: an HTTP status, a stable machine-readable
 * `code`, and for 4xx the fields at fault. The API's error handler turns it into
 * `{ error, code, details }`; 5xx messages never reach the client.
 */
export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const notFound = (what: string, path: string): AppError =>
  new AppError(404, 'not_found', `${what} not found`, [{ path, message: `${what} not found` }]);

export const badRequest = (path: string, message: string): AppError =>
  new AppError(400, 'bad_request', 'Invalid request', [{ path, message }]);
