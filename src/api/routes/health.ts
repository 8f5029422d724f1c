import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';

export interface HealthRoutesOptions {
  /** Returns the problems that make the service unready; empty when ready. */
  readiness: () => Promise<string[]>;
}

const healthResponse = z.object({ status: z.literal('ok') });
const readyResponse = z.object({ status: z.enum(['ready', 'unready']), problems: z.array(z.string()) });

export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (fastify, opts) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.get('/healthz', { config: { scope: 'public' }, schema: { response: { 200: healthResponse } }, logLevel: 'warn' }, async () => ({ status: 'ok' as const }));
  app.get('/readyz', { config: { scope: 'public' }, schema: { response: { 200: readyResponse, 503: readyResponse } }, logLevel: 'warn' }, async (_req, reply) => {
    const problems = await opts.readiness();
    return reply.code(problems.length ? 503 : 200).send({ status: problems.length ? 'unready' : 'ready', problems });
  });
};
