import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { JobState } from '../../db/jobs-repository.js';
import { ingestSeries, type DataStats } from '../../stats/data-stats.js';
import { ANSWER_METHODS, type ServingSample } from '../../stats/serving-series.js';
import { errorResponse } from '../schemas/common.js';

export interface StatsRoutesOptions {
  /** The figures computed last by the reader thread (never computed in a request). */
  data: () => DataStats;
  jobs: () => Promise<Record<JobState, number>>;
  /** The serving chart: every replica's together when they share Redis, else this process's. */
  serving: () => { series: readonly ServingSample[]; processes: number; scope?: 'process' };
  sampleMs: number;
}

const ADMIN = { scope: 'admin' as const };
const iso = (ms: number): string | null => (ms > 0 ? new Date(ms).toISOString() : null);
const computedAt = z.string().nullable().describe('When the figures were computed (they lag writes by up to STATS_REFRESH_MS); null before the first computation');

const statsResponse = z.object({
  computedAt,
  counts: z.object({ users: z.number().int(), items: z.number().int(), ratings: z.number().int(), events: z.number().int(), hiddenItems: z.number().int() }),
  jobs: z.record(z.string(), z.number().int()).describe('Training jobs by state'),
  categories: z.array(z.object({ category: z.string(), items: z.number().int() })).describe('The 200 largest item categories, largest first'),
});
const ingestQuery = z.strictObject({ bucket: z.enum(['hour', 'day']).default('hour') });
const ingestResponse = z.object({
  bucket: z.enum(['hour', 'day']),
  computedAt,
  series: z
    .array(z.object({ t: z.string(), ratings: z.number().int(), events: z.number().int() }))
    .describe('One entry per bucket, oldest first, ending with the current one (48 hours or 30 days): ratings written (by their last write) and events received'),
});
const servingResponse = z.object({
  sampleSeconds: z.number(),
  series: z
    .array(
      z.object({
        t: z.string(),
        answers: z.object(Object.fromEntries(ANSWER_METHODS.map((m) => [m, z.number()])) as Record<(typeof ANSWER_METHODS)[number], z.ZodNumber>),
        requests: z.number(),
        p50Ms: z.number().nullable(),
        p99Ms: z.number().nullable(),
      }),
    )
    .describe('The last 10 minutes: answers per second by how they were made, successful serving requests per second and their latency'),
  scope: z.enum(['deployment', 'process']).describe('deployment: every API replica sharing REDIS_URL, added up; process: the replica that answered'),
  processes: z.number().int().describe('API processes whose samples are in the series'),
});

/** Figures for the dashboard's overview and catalogue pages, as documented JSON for scripts too. */
export const statsRoutes: FastifyPluginAsync<StatsRoutesOptions> = async (fastify, opts) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();

  app.get('/admin/stats', { config: ADMIN, schema: { response: { 200: statsResponse } } }, async () => {
    const data = opts.data();
    return { computedAt: iso(data.at), counts: data.counts, jobs: await opts.jobs(), categories: data.categories };
  });

  app.get('/admin/stats/ingest', { config: ADMIN, schema: { querystring: ingestQuery, response: { 200: ingestResponse, 400: errorResponse } } }, async (request) => {
    const { bucket } = request.query;
    const data = opts.data();
    const series = ingestSeries(data, bucket, Date.now()).map((b) => ({ ...b, t: new Date(b.t).toISOString() }));
    return { bucket, computedAt: iso(data.at), series };
  });

  app.get('/admin/stats/serving', { config: ADMIN, schema: { response: { 200: servingResponse } } }, async () => {
    const serving = opts.serving();
    return {
      sampleSeconds: opts.sampleMs / 1000,
      series: serving.series.map((s) => ({ ...s, t: new Date(s.t).toISOString() })),
      scope: serving.scope ?? ('deployment' as const),
      processes: serving.processes,
    };
  });
};
