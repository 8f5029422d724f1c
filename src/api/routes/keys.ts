import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { issueKey } from '../../auth/keys.js';
import { DuplicateKeyNameError, type ApiKeyRecord, type ApiKeyRepository } from '../../db/keys-repository.js';
import { AppError, notFound } from '../../errors.js';
import { bodyErrors, errorResponse } from '../schemas/common.js';
import { createdKeyResponse, createKeyBody, keyParams, keysQuery, keysResponse, keyView } from '../schemas/keys.js';

export interface KeyRoutesOptions {
  keys: ApiKeyRepository;
}

const ADMIN = { scope: 'admin' as const };
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export const toKeyView = (r: ApiKeyRecord): z.infer<typeof keyView> => ({
  ...r,
  createdAt: new Date(r.createdAt).toISOString(),
  lastUsedAt: iso(r.lastUsedAt),
  revokedAt: iso(r.revokedAt),
});

/** API key management: create (the key is shown once), list (never the key), revoke (effective on the next request). */
export const keyRoutes: FastifyPluginAsync<KeyRoutesOptions> = async (fastify, opts) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();

  app.post('/admin/keys', { config: ADMIN, schema: { body: createKeyBody, response: { 201: createdKeyResponse, ...bodyErrors, 409: errorResponse } } }, async (request, reply) => {
    try {
      const { record, key } = await issueKey(opts.keys, request.body, Date.now());
      request.log.info({ keyId: record.id, name: record.name, scopes: record.scopes }, 'API key created');
      return reply.code(201).send({ ...toKeyView(record), key });
    } catch (err) {
      if (err instanceof DuplicateKeyNameError) throw new AppError(409, 'key_name_taken', err.message, [{ path: 'body.name', message: 'an active key has this name' }]);
      throw err;
    }
  });

  app.get('/admin/keys', { config: ADMIN, schema: { querystring: keysQuery, response: { 200: keysResponse, 400: errorResponse } } }, async (request) => ({
    keys: (await opts.keys.list({ includeRevoked: request.query.include_revoked })).map(toKeyView),
  }));

  app.delete('/admin/keys/:id', { config: ADMIN, schema: { params: keyParams, response: { 200: keyView, 400: errorResponse, 404: errorResponse } } }, async (request) => {
    const revoked = await opts.keys.revoke(request.params.id, Date.now());
    if (!revoked) throw notFound('active key', 'params.id');
    request.log.info({ keyId: revoked.id, name: revoked.name }, 'API key revoked');
    return toKeyView(revoked);
  });
};
