import { readFile } from 'node:fs/promises';
import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';

export interface MetaRoutesOptions {
  registry: Registry;
  openapiPath: string;
}

/** Prometheus metrics and the OpenAPI document (excluded from the spec itself). */
export const metaRoutes: FastifyPluginAsync<MetaRoutesOptions> = async (app, opts) => {
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.type(opts.registry.contentType);
    return opts.registry.metrics();
  });
  app.get('/openapi.yaml', { schema: { hide: true } }, async (_request, reply) => {
    reply.type('application/yaml; charset=utf-8');
    return readFile(opts.openapiPath, 'utf8');
  });
};
