import { OPERATIONS, TAGS } from './operations.js';
import { PARAMETERS, PROPERTIES, type ByType } from './glossary.js';

type Schema = { [key: string]: unknown; description?: string; properties?: Record<string, Schema>; type?: string | string[] };
type MediaTypes = Record<string, { schema?: Schema; examples?: unknown }>;
type Response = { description?: string; headers?: Record<string, unknown>; content?: MediaTypes };
interface Parameter {
  name: string;
  in: string;
  description?: string;
  schema?: Schema;
}
interface Operation {
  operationId?: string;
  tags?: string[];
  summary?: string;
  description?: string;
  security?: unknown[];
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: MediaTypes };
  responses?: Record<string, Response>;
}
export interface OpenApiDoc {
  info?: Record<string, unknown>;
  servers?: { url: string; description?: string }[];
  tags?: { name: string; description: string }[];
  paths?: Record<string, Record<string, Operation>>;
}

const RETRY_AFTER = { 'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 0 } } };

/** What an error status means on any operation; the body is always `{error, code, details}`. */
const ERROR_TEXT: Record<string, string> = {
  400: 'The request is invalid: `details` names each field and what is wrong with it.',
  401: 'No key, or a key that is unknown or revoked (code `unauthorized`).',
  403: "The key lacks the operation's scope (code `forbidden`).",
  404: 'Something named in the request does not exist: `details` says which parameter.',
  409: 'The request conflicts with the current state (a finished job, a duplicate name, a model that cannot answer it).',
  410: 'The cursor expired: start again from the first page.',
  413: 'The body is larger than BODY_LIMIT_BYTES (or an import line is longer than IMPORT_MAX_LINE_BYTES).',
  415: 'The body is not of the media type the operation takes.',
  429: "The key went over its requests or body bytes per minute (code `rate_limited`): wait `Retry-After` seconds.",
  503: 'The service cannot take this now (the database is unreachable, the disk is read-only, or in-flight bodies are at their limit): nothing was written; retry after `Retry-After` seconds.',
  507: 'The disk is full: nothing was written; retry after `Retry-After` seconds.',
};

const NDJSON_LINE = { type: 'object', description: 'One record per line, as the matching export writes it (users, items, ratings or events); `cursor` and `createdAt` are ignored on import.' };

const RATING_LINE = { userId: 'alice', itemId: 'movie-42', rating: 4.5, timestamp: '2026-11-24T09:00:00Z' };

const PUBLIC = new Set(['GET /healthz', 'GET /readyz']);

/**
 * Turns what @fastify/swagger derives from the routes into the contract: each operation's
 * identity from the catalogue, error answers with their meaning and Retry-After, NDJSON media
 * types, and the glossary's words for every field the schemas leave undescribed.
 */
export function finishDocument(doc: OpenApiDoc): OpenApiDoc {
  doc.info = { ...doc.info, license: { name: 'MIT', identifier: 'MIT' } };
  doc.servers = [{ url: '/', description: 'Where this document is served from (http://localhost:8080 by default); clients take the base URL as an option.' }];
  doc.tags = Object.entries(TAGS).map(([name, description]) => ({ name, description }));
  withNdjsonMediaTypes(doc);
  for (const [path, ops] of Object.entries(doc.paths ?? {})) {
    for (const [method, operation] of Object.entries(ops)) finishOperation(`${method.toUpperCase()} ${path}`, operation);
  }
  return doc;
}

function finishOperation(key: string, operation: Operation): void {
  const entry = OPERATIONS[key];
  if (entry) {
    operation.operationId = entry.id;
    operation.tags = [entry.tag];
    operation.summary = entry.summary;
    operation.description = entry.description;
  }
  if (PUBLIC.has(key)) operation.security = [];
  else operation.responses = { ...operation.responses, 503: operation.responses?.[503] ?? errorAnswer(operation) };
  for (const parameter of operation.parameters ?? []) parameter.description ??= parameter.schema?.description ?? PARAMETERS[parameter.name];
  for (const media of Object.values(operation.requestBody?.content ?? {})) describeFields(media.schema);
  for (const [status, response] of Object.entries(operation.responses ?? {})) {
    const ok = status.startsWith('2');
    response.description = ok ? (entry?.ok ?? response.description) : (ERROR_TEXT[status] ?? response.description);
    if (status === '429' || status === '503' || status === '507') response.headers = { ...response.headers, ...RETRY_AFTER };
    for (const media of Object.values(response.content ?? {})) describeFields(media.schema);
  }
}

/** A copy of the operation's 400 answer (every error has the same body), for the 503 every stored-data route can give. */
function errorAnswer(operation: Operation): Response {
  const any = Object.entries(operation.responses ?? {}).find(([status]) => status.startsWith('4'))?.[1];
  return structuredClone(any ?? { content: { 'application/json': { schema: { type: 'object' } } } });
}

function jsonType(schema: Schema): string | undefined {
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  const own = types.find((t) => t !== 'null');
  if (own) return own;
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = schema[key] as Schema[] | undefined;
    const found = options?.map(jsonType).find((t) => t && t !== 'null');
    if (found) return found;
  }
  return types[0];
}

function glossaryText(name: string, schema: Schema): string | undefined {
  const entry: string | ByType | undefined = PROPERTIES[name];
  if (typeof entry === 'string' || entry === undefined) return entry;
  const type = jsonType(schema) as keyof ByType | undefined;
  return type ? entry[type] : undefined;
}

function describeFields(schema: Schema | undefined): void {
  if (!schema || typeof schema !== 'object') return;
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    property.description ??= glossaryText(name, property);
    describeFields(property);
  }
  for (const key of ['items', 'additionalProperties']) {
    const inner = schema[key];
    if (inner && typeof inner === 'object' && !Array.isArray(inner)) describeFields(inner as Schema);
  }
  for (const key of ['anyOf', 'oneOf', 'allOf']) for (const inner of (schema[key] as Schema[] | undefined) ?? []) describeFields(inner);
}

/**
 * Bulk routes stream NDJSON, which no route schema can say (their bodies are streams, not JSON):
 * the document names the media type on the import's request and the export's answer.
 */
function withNdjsonMediaTypes(doc: OpenApiDoc): void {
  const importOp = doc.paths?.['/admin/import/{kind}']?.post;
  if (importOp) importOp.requestBody = { required: true, content: { 'application/x-ndjson': { schema: NDJSON_LINE, examples: { rating: { summary: 'One line of a ratings file', value: RATING_LINE } } } } };
  const exportOp = doc.paths?.['/admin/export/{kind}']?.get;
  if (exportOp) exportOp.responses = { ...exportOp.responses, 200: { content: { 'application/x-ndjson': { schema: NDJSON_LINE } } } };
}
