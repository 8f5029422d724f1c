import crypto from 'node:crypto';
import http from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler } from 'fastify-type-provider-zod';
import type { Config } from '../config.js';
import { loggerOptions, requestSerializer } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { registerErrorHandler } from './error-handler.js';
import { registerNotFound } from './not-found.js';
import { registerStrictJson } from './strict-json.js';
import { registerBodyDeadline } from './body-deadline.js';
import { registerSlicedValidation } from './sliced-validation.js';
import { zodValidatorCompiler } from './zod-compiler.js';
import { finishDocument, type OpenApiDoc } from './openapi/document.js';

export interface RegisteredRoute {
  method: string;
  url: string;
  /** Left out of the OpenAPI document (metrics, the document itself, Swagger UI). */
  hidden: boolean;
}

const REQUEST_ID_HEADER = 'x-request-id';
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/**
 * Longest path parameter, percent-encoded: an id of MAX_ID_LENGTH (256) UTF-16 units can take 9
 * encoded characters per unit (`%E2%82%AC`); Fastify's default (100) answered 414 to ids that
 * ingest had accepted, so such users could not be read or erased.
 */
const MAX_PARAM_LENGTH = 256 * 9;

/**
 * The Fastify instance with the API's conventions: request ids echoed, request timeouts that mean
 * what they say, zod validation, one error shape, JSON bodies only. `routes` fills in as routes register.
 */
export function createServer(config: Config, logger?: FastifyBaseLogger): { app: FastifyInstance; routes: RegisteredRoute[] } {
  const app = Fastify({
    ...(logger ? { loggerInstance: logger } : { logger: loggerOptions(config) }),
    bodyLimit: config.bodyLimitBytes,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    requestIdHeader: REQUEST_ID_HEADER,
    // Echo a well-formed client request id so logs can be joined across services; mint one otherwise.
    genReqId: (req) => {
      const incoming = req.headers[REQUEST_ID_HEADER];
      return typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    },
    return503OnClosing: true,
    // Every request's logger (also one passed in) prints the URL redacted: keys sent in a query string stay out of logs.
    childLoggerFactory: (logger, bindings, options) => logger.child(bindings, { ...options, serializers: { ...options.serializers, req: requestSerializer } }),
    // Node checks header timeouts every connectionsCheckingInterval (30 s by default); check often
    // enough that the deadline means what it says. Bodies have their own deadline (body-deadline.ts).
    serverFactory: (handler) =>
      http.createServer(
        {
          requestTimeout: 0,
          headersTimeout: config.requestTimeoutMs > 0 ? config.requestTimeoutMs : 60_000,
          connectionsCheckingInterval: config.requestTimeoutMs > 0 ? Math.min(1000, Math.max(100, Math.floor(config.requestTimeoutMs / 3))) : 30_000,
        },
        handler,
      ),
  }) as unknown as FastifyInstance;

  // Every registered route, for the OpenAPI drift test and the access-control table test.
  const routes: RegisteredRoute[] = [];
  app.addHook('onRoute', (r) => {
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    const hidden = Boolean((r.schema as { hide?: boolean } | undefined)?.hide);
    for (const method of methods) routes.push({ method: String(method), url: r.url, hidden });
  });
  app.setValidatorCompiler(zodValidatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // Every body this API takes is JSON; anything else is a 415, not a confusing schema error.
  app.removeContentTypeParser('text/plain');
  registerStrictJson(app);
  registerBodyDeadline(app, config.requestTimeoutMs);
  registerSlicedValidation(app);
  registerErrorHandler(app);
  registerNotFound(app);
  app.addHook('onSend', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });
  return { app, routes };
}

/** OpenAPI from the routes' zod schemas (Swagger UI at /docs); the committed openapi.yaml is served as is. */
export async function registerDocs(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'recflow', version, description: 'Recommendation microservice: ingest ratings and events, train DMF/NeuMF/EINMF, serve top-N and similar items. On PostgreSQL, any operation that reads or writes the database answers 503 with code database_unavailable and Retry-After while the database cannot be reached (nothing is written; retry).' },
      components: {
        securitySchemes: {
          apiKey: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API key (`recflow keys create`, POST /admin/keys) or the admin token, as `Authorization: Bearer <key>`. Each operation\'s security requirement names the scope it needs: read, write or admin (admin may do everything).',
          },
        },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: (documents) => ('openapiObject' in documents ? finishDocument(documents.openapiObject as OpenApiDoc) : documents.swaggerObject) as never,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}

/** Request duration per route template (never the raw URL: ids would explode the label set). */
export function registerRequestMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
}
