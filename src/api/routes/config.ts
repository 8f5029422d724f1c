import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { EffectiveConfig } from '../../config/effective.js';
import { errorResponse } from '../schemas/common.js';

export interface ConfigRoutesOptions {
  /** The configuration in effect, secrets redacted (computed once at start: it never changes while running). */
  effective: EffectiveConfig;
  /** Items served by the pipeline since start, by route and credited source (this process's counters). */
  slots: () => Promise<{ route: string; source: string; items: number }[]>;
}

const setting = z.object({
  value: z.unknown().describe('The value in effect; secrets (the admin token, passwords in URLs) are redacted'),
  env: z.string().describe('The environment variable that overrides it'),
  origin: z.enum(['default', 'file', 'env']).describe('Where the value came from'),
});

const configResponse = z.object({
  file: z.string().nullable().describe('The configuration file read at start (RECFLOW_CONFIG or ./recflow.yaml), or null'),
  settings: z.record(z.string(), z.record(z.string(), setting)).describe('Every setting by its recflow.yaml section and key'),
  pipeline: z.record(z.string(), z.unknown()).describe('The recommendation pipeline: sources, blend, fallback, ranker, rules, freshness, diversity, paging'),
  features: z.record(z.string(), z.unknown()).describe('How item and user labels become content features: label kinds, limits, text buckets'),
});

const slotsResponse = z.object({
  scope: z.literal('process').describe("These counters are this API process's, since it started"),
  total: z.number().int(),
  sources: z.array(z.object({ route: z.string(), source: z.string(), items: z.number().int(), share: z.number().describe('Share of the route\'s served items') })),
});

/** The configuration in effect and what each pipeline source contributes (admin). */
export const configRoutes: FastifyPluginAsync<ConfigRoutesOptions> = async (fastify, opts) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const errors = { 401: errorResponse, 403: errorResponse };
  app.get('/admin/config', { config: { scope: 'admin' }, schema: { response: { 200: configResponse, ...errors } } }, async () => opts.effective);
  app.get('/admin/stats/pipeline', { config: { scope: 'admin' }, schema: { response: { 200: slotsResponse, ...errors } } }, async () => {
    const rows = await opts.slots();
    const perRoute = new Map<string, number>();
    for (const r of rows) perRoute.set(r.route, (perRoute.get(r.route) ?? 0) + r.items);
    const sources = rows.map((r) => ({ ...r, share: r.items / (perRoute.get(r.route) || 1) })).sort((a, b) => a.route.localeCompare(b.route) || b.items - a.items);
    return { scope: 'process' as const, total: rows.reduce((s, r) => s + r.items, 0), sources };
  });
};
