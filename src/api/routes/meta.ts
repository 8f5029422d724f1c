import { readFile } from 'node:fs/promises';
import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import type { RouteScope } from '../access.js';

export interface MetaRoutesOptions {
  registry: Registry;
  openapiPath: string;
  /** Who may read each: `public` or a scope. */
  metricsScope: RouteScope;
  specScope: RouteScope;
}

/** Prometheus metrics and the OpenAPI document (excluded from the spec itself). */
export const metaRoutes: FastifyPluginAsync<MetaRoutesOptions> = async (app, opts) => {
  app.get('/metrics', { config: { scope: opts.metricsScope }, schema: { hide: true } }, async (_request, reply) => {
    reply.type(opts.registry.contentType);
    return opts.registry.metrics();
  });
  app.get('/openapi.yaml', { config: { scope: opts.specScope }, schema: { hide: true } }, async (_request, reply) => {
    reply.type('application/yaml; charset=utf-8');
    return readFile(opts.openapiPath, 'utf8');
  });
};
