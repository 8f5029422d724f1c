import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import { meterBody } from './metered-body.js';

/** Seconds a client is told to wait when the in-flight body budget is spent. */
const RETRY_AFTER_SECONDS = 2;

const overloaded = (): AppError =>
  new AppError(503, 'overloaded', 'Too many request bodies in flight; retry later', [{ path: 'body', message: 'the server is receiving too many request bodies at once' }]);

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The handler consumes its body as a stream in bounded batches (bulk import): no in-flight reservation. */
    streamsBody?: boolean;
  }
}

const RESERVED = Symbol('inflightBytes');
type Tracked = FastifyRequest & { [RESERVED]?: number };

/**
 * Bounds the bytes of request bodies being received at once, so slow or stalled uploads cannot
 * grow memory without limit: a body whose declared length does not fit gets 503 + Retry-After
 * before it is read; a body without a length is counted as it streams and cut off the same way.
 * A request's bytes are released when its response is sent or its connection closes.
 */
export function registerInflightBodyLimit(app: FastifyInstance, maxBytes: number): { current(): number } {
  let inflight = 0;
  const reserve = (req: Tracked, bytes: number): boolean => {
    if (inflight + bytes > maxBytes) return false;
    inflight += bytes;
    req[RESERVED] = (req[RESERVED] ?? 0) + bytes;
    return true;
  };
  const release = (req: Tracked): void => {
    inflight -= req[RESERVED] ?? 0;
    req[RESERVED] = 0;
  };

  app.addHook('onRequest', async (request, reply) => {
    // A route that consumes its body in bounded batches holds no body in memory (bulk import).
    if (request.routeOptions.config.streamsBody) return;
    const declared = Number(request.headers['content-length'] ?? 0);
    const chunked = request.headers['transfer-encoding'] !== undefined;
    if (!(declared > 0) && !chunked) return;
    request.raw.once('close', () => release(request));
    if (declared > 0 && !reserve(request, declared)) {
      // The body will not be read: close the connection rather than leave it to be drained.
      reply.header('retry-after', String(RETRY_AFTER_SECONDS)).header('connection', 'close');
      throw overloaded();
    }
  });
  app.addHook('preParsing', async (request, reply, payload) => {
    if (request.headers['content-length'] !== undefined || request.routeOptions.config.streamsBody) return payload;
    // No declared length: count bytes as they arrive.
    return meterBody(payload as Readable, (bytes) => {
      if (reserve(request, bytes)) return;
      reply.header('retry-after', String(RETRY_AFTER_SECONDS)).header('connection', 'close');
      throw overloaded();
    });
  });
  app.addHook('onResponse', async (request) => release(request));
  return { current: () => inflight };
}
