import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * A preHandler that admits only `Authorization: Bearer <ADMIN_TOKEN>`. Both sides are hashed to
 * a fixed length before a constant-time comparison, so neither the token's content nor its
 * length leaks through timing. The token itself is never logged (the logger redacts the header).
 */
export function requireAdminToken(token: string) {
  const expected = digest(token);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer (.+)$/.exec(header) : null;
    const ok = match !== null && timingSafeEqual(digest(match[1]), expected);
    if (!ok) {
      reply.header('www-authenticate', 'Bearer realm="recflow-admin"');
      throw new AppError(401, 'unauthorized', 'Missing or invalid admin token', [{ path: 'headers.authorization', message: 'expected "Bearer <ADMIN_TOKEN>"' }]);
    }
  };
}
