import type { Readable } from 'node:stream';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { Principal } from '../auth/authenticator.js';
import type { Redis } from 'ioredis';
import { ByteBudget, type BytesLimiter } from '../auth/byte-budget.js';
import { SharedByteBudget } from '../auth/shared-byte-budget.js';
import { grants, type Scope } from '../auth/keys.js';
import { AppError } from '../errors.js';
import { meterBody } from './metered-body.js';
import { errorResponse } from './schemas/common.js';

/** What a route needs: a key with this scope, or nothing (`public`). */
export type RouteScope = Scope | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    scope?: RouteScope;
  }
  interface FastifyRequest {
    /** The authenticated caller; null on public routes. */
    principal: Principal | null;
  }
}

export interface AccessOptions {
  /** Resolves the Authorization header (AUTH=off: everyone is an admin). */
  authenticate: (header: string | undefined) => Promise<Principal | null>;
  /** Routes under these prefixes registered without a scope are public (e.g. Swagger UI). */
  publicPrefixes: readonly string[];
  observe: {
    failure(status: 401 | 403): void;
    request(key: string, outcome: 'ok' | 'client_error' | 'server_error' | 'rate_limited'): void;
    bytes(key: string, bytes: number): void;
  };
  /**
   * Redis shared by the deployment's API replicas: the per-key limits are counted there, so a key
   * gets its limit once however many replicas it reaches. Without it each process counts alone.
   */
  shared?: { redis: Redis; prefix: string };
}

const unauthorized = (): AppError =>
  new AppError(401, 'unauthorized', 'Missing or invalid API key', [{ path: 'headers.authorization', message: 'expected "Bearer <key>"' }]);
const forbidden = (scope: Scope): AppError =>
  new AppError(403, 'forbidden', `This key lacks the "${scope}" scope`, [{ path: 'headers.authorization', message: `the key needs the "${scope}" scope` }]);
const tooManyBytes = (): AppError =>
  new AppError(429, 'rate_limited', 'This key sent more request bytes than its per-minute budget', [{ path: 'body', message: 'bytes per minute exceeded' }]);

/** Fills in what every protected route documents: who may call it and the answers of the guard. */
function documentScope(route: RouteOptions, scope: RouteScope): void {
  const schema = route.schema as { hide?: boolean; security?: unknown; response?: Record<number, unknown> } | undefined;
  if (!schema || schema.hide || scope === 'public') return;
  schema.security = [{ apiKey: [scope] }];
  schema.response = { ...schema.response, 401: errorResponse, 403: errorResponse, 429: errorResponse };
}

/**
 * Access control for every route: each route declares `config.scope` (registering one that does
 * not fails at start-up, so a new route cannot be forgotten); requests are authenticated in the
 * first onRequest hook, before the body is read or anything validated, so callers without a key
 * learn nothing of the schema. Then per-key limits: requests per minute (@fastify/rate-limit) and
 * request-body bytes per minute, both 429 with Retry-After.
 */
export async function registerAccessControl(app: FastifyInstance, opts: AccessOptions): Promise<void> {
  app.decorateRequest('principal', null);
  app.addHook('onRoute', (route) => {
    const declared = route.config?.scope;
    const scope = declared ?? (opts.publicPrefixes.some((p) => route.url.startsWith(p)) ? 'public' : undefined);
    if (!scope) throw new Error(`route ${String(route.method)} ${route.url} declares no access scope (config.scope)`);
    route.config = { ...route.config, scope };
    documentScope(route, scope);
  });

  const bytes: BytesLimiter = opts.shared ? new SharedByteBudget(opts.shared.redis, `${opts.shared.prefix}bytes:`) : new ByteBudget();
  const sweep = setInterval(() => bytes.sweep(), 60_000);
  sweep.unref();
  app.addHook('onClose', async () => clearInterval(sweep));

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    // Unmatched URLs have no scope: any valid key may learn that they do not exist, nobody else.
    const scope = request.routeOptions.config.scope;
    if (scope === 'public') return;
    const principal = await opts.authenticate(request.headers.authorization);
    if (!principal) {
      opts.observe.failure(401);
      reply.header('www-authenticate', 'Bearer realm="recflow"');
      throw unauthorized();
    }
    if (scope && !grants(principal.scopes, scope)) {
      opts.observe.failure(403);
      throw forbidden(scope);
    }
    request.principal = principal;
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > 0) await chargeBytes(request, reply, declared);
  });
  // A body without a declared length is charged as it streams.
  app.addHook('preParsing', async (request, reply, payload) => {
    if (!request.principal?.bytesPerMinute || request.headers['content-length'] !== undefined) return payload;
    return meterBody(payload as Readable, (n) => chargeBytes(request, reply, n));
  });
  const chargeBytes = async (request: FastifyRequest, reply: FastifyReply, n: number): Promise<void> => {
    const p = request.principal!;
    opts.observe.bytes(p.name, n);
    if (p.bytesPerMinute === 0) return;
    const taken = await bytes.take(p.name, n, p.bytesPerMinute);
    if (!taken.ok) {
      opts.observe.request(p.name, 'rate_limited');
      reply.header('retry-after', String(taken.retryAfterSeconds));
      throw tooManyBytes();
    }
  };

  app.addHook('onResponse', async (request, reply) => {
    const p = request.principal;
    if (!p || reply.statusCode === 429) return;
    opts.observe.request(p.name, reply.statusCode >= 500 ? 'server_error' : reply.statusCode >= 400 ? 'client_error' : 'ok');
  });

  await app.register(rateLimit, {
    global: true,
    timeWindow: 60_000,
    // Counted in Redis for all replicas when there is one; a Redis outage lets requests through
    // (the queue's own 503s say Redis is down) rather than refusing all traffic.
    ...(opts.shared ? { redis: opts.shared.redis, nameSpace: `${opts.shared.prefix}requests:`, skipOnError: true } : {}),
    // Public routes and unlimited keys are not counted at all.
    allowList: (request) => !request.principal || request.principal.requestsPerMinute === 0,
    keyGenerator: (request) => `key:${request.principal?.name ?? request.ip}`,
    max: (request) => request.principal?.requestsPerMinute ?? 1,
    onExceeded: (request) => opts.observe.request(request.principal?.name ?? 'unknown', 'rate_limited'),
    errorResponseBuilder: (_request, ctx) =>
      new AppError(429, 'rate_limited', `This key made more than ${ctx.max} requests in a minute; retry in ${ctx.after}`, [{ path: 'headers.authorization', message: 'requests per minute exceeded' }]),
  });
}
