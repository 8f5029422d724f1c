export { Recflow } from './client.js';
export { RecflowConnectionError, RecflowError, type FieldProblem } from './errors.js';
export { retryAfterSeconds, type ClientOptions, type RetryPolicy } from './transport.js';
export type { NdjsonSource } from './ndjson.js';
export type * from './types.js';
export type { components, operations, paths } from './schema.js';
