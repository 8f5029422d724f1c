import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.js';
import { meterBody } from './metered-body.js';

const timedOut = (ms: number, streamed: boolean): AppError =>
  new AppError(408, 'request_timeout', streamed ? `No part of the body arrived for ${ms} ms` : `The body did not arrive within ${ms} ms`, [
    { path: 'body', message: streamed ? `must keep arriving: at most ${ms} ms without a byte (REQUEST_TIMEOUT_MS)` : `must arrive within ${ms} ms (REQUEST_TIMEOUT_MS)` },
  ]);

/**
 * Request bodies must arrive in time, or the request ends with 408: a stalled upload holds a
 * connection and part of the in-flight byte budget. A JSON body gets REQUEST_TIMEOUT_MS in all;
 * a streamed body (a bulk import, long by design) gets REQUEST_TIMEOUT_MS without a byte, so a
 * 1M-line import is never cut at 30 s. Node's own requestTimeout, which cannot tell the two
 * apart (it cut such an import with 408 mid-stream), is off; its headersTimeout still guards headers.
 */
export function registerBodyDeadline(app: FastifyInstance, timeoutMs: number): void {
  if (timeoutMs <= 0) return;
  const timers = new WeakMap<object, NodeJS.Timeout>();
  app.addHook('preParsing', async (request, reply, payload) => {
    const hasBody = Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'] !== undefined;
    if (!hasBody || request.raw.complete) return payload;
    const streamed = request.routeOptions.config.streamsBody === true;
    const arm = (): void => {
      clearTimeout(timers.get(request));
      const timer = setTimeout(() => {
        // The rest of the body will not be read: the connection cannot be reused.
        reply.header('connection', 'close');
        out.destroy(timedOut(timeoutMs, streamed));
      }, timeoutMs);
      timer.unref();
      timers.set(request, timer);
    };
    const out = meterBody(payload as Readable, () => (streamed ? arm() : undefined));
    out.once('end', () => clearTimeout(timers.get(request)));
    arm();
    return out;
  });
  app.addHook('onResponse', async (request) => clearTimeout(timers.get(request)));
}
