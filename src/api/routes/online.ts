import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { ExperimentRunningError } from '../../db/online-repository.js';
import { AppError, notFound } from '../../errors.js';
import type { ExperimentReport } from '../../online/experiment-report.js';
import { ExperimentStateError, NoSuchExperimentError, type Experiment } from '../../online/experiments.js';
import { onlineReport } from '../../online/metrics-report.js';
import { offPolicyEstimate } from '../../online/offpolicy.js';
import type { OnlineEvaluation } from '../../online/online.js';
import type { Recommender } from '../../pipeline/recommender.js';
import { NoSuchVersion } from '../../serving/serving-choice.js';
import { bodyErrors, errorResponse } from '../schemas/common.js';
import {
  concludeBody,
  experimentBody,
  experimentList,
  experimentParams,
  experimentView,
  impressionsBody,
  impressionsResponse,
  offPolicyQuery,
  offPolicyResponse,
  onlineQuery,
  onlineResponse,
  promoteBody,
} from '../schemas/online.js';

export interface OnlineRoutesOptions {
  online: OnlineEvaluation;
  recommender: Recommender;
  /** The version a model type serves now, or null when it has none active. */
  activeVersion: (model: string) => string | null;
  /** Serves a variant's model by default (pins it, activating `version` first). */
  promote: (model: string, version: string | undefined) => Promise<void>;
  /** The items a user has interacted with (as far as a recommendation request reads). */
  seenBy: (userId: string) => Promise<ReadonlySet<string>>;
  /** Visible items in the catalogue (coverage's denominator). */
  catalogueItems: () => number;
}

const ADMIN = { scope: 'admin' as const };
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const DEFAULT_EFFECT = { ab: 0.005, interleave: 0.05 };
/** The deepest list an off-policy target asks for (a page plus the user's seen items). */
const MAX_TARGET_DEPTH = 500;

function view(e: Experiment, report: ExperimentReport | undefined): z.input<typeof experimentView> {
  const { spec } = e;
  return {
    id: e.id,
    name: e.name,
    mode: e.mode,
    status: e.status,
    variants: spec.variants,
    metric: spec.metric,
    alpha: spec.alpha,
    minimumEffect: spec.minimumEffect,
    minUsers: spec.minUsers,
    winner: e.winner,
    verdict: e.verdict ? { ...e.verdict, decidedAt: iso(e.verdict.decidedAt)! } : null,
    createdAt: iso(e.createdAt)!,
    stoppedAt: iso(e.stoppedAt),
    concludedAt: iso(e.concludedAt),
    report: report ? { ...report, computedAt: iso(report.computedAt)! } : null,
  };
}

function translate(err: unknown, path: string): never {
  if (err instanceof NoSuchExperimentError) throw notFound('experiment', 'params.id');
  if (err instanceof ExperimentRunningError) throw new AppError(409, 'experiment_running', err.message, [{ path: 'body', message: err.message }]);
  if (err instanceof ExperimentStateError) throw new AppError(409, 'experiment_state', err.message, [{ path, message: err.message }]);
  if (err instanceof NoSuchVersion) throw new AppError(409, 'not_supported', `${err.message} to promote`, [{ path, message: `${err.message}: the variant's model or version is no longer active` }]);
  throw err;
}

/** Seen reports, the online metrics, experiments and the off-policy estimate. */
export const onlineRoutes: FastifyPluginAsync<OnlineRoutesOptions> = async (fastify, opts) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { online } = opts;
  const errors = { 400: errorResponse, 404: errorResponse, 409: errorResponse };
  const withReport = async (e: Experiment) => view(e, online.monitor.report(e.id) ?? (await online.monitor.reportOn(e, Date.now())));

  app.post('/impressions', { config: { scope: 'write' }, schema: { body: impressionsBody, response: { 202: impressionsResponse, ...bodyErrors } } }, async (request, reply) => {
    const reports = 'reports' in request.body ? request.body.reports : [request.body];
    let accepted = 0;
    for (const r of reports) if (online.log?.report({ recommendationId: r.recommendationId, itemIds: r.items })) accepted++;
    return reply.code(202).send({ accepted, dropped: reports.length - accepted });
  });

  app.get('/stats/online', { config: ADMIN, schema: { querystring: onlineQuery, response: { 200: onlineResponse, 400: errorResponse } } }, async (request) => {
    const { value, at } = online.monitor.days;
    const k = online.deps.config.ctrK;
    const report = onlineReport(value, { k, days: request.query.days, by: request.query.by, now: Date.now(), computedAt: at, catalogueItems: opts.catalogueItems() });
    const c = online.log?.counters;
    return { ...report, computedAt: iso(report.computedAt), impressions: { recorded: c?.recorded ?? 0, dropped: c?.dropped ?? 0, written: c?.written ?? 0, bufferedBytes: online.log?.bytes ?? 0 } };
  });

  app.get('/admin/experiments', { config: ADMIN, schema: { response: { 200: experimentList } } }, async () => ({
    experiments: await Promise.all((await online.book.list()).map(withReport)),
  }));

  app.post('/admin/experiments', { config: ADMIN, schema: { body: experimentBody, response: { 201: experimentView, ...bodyErrors, ...errors } } }, async (request, reply) => {
    const body = request.body;
    body.variants.forEach((v, k) => {
      const active = v.model ? opts.activeVersion(v.model) : null;
      if (v.model && active === null) throw new AppError(409, 'not_supported', `model ${v.model} has no active version`, [{ path: `body.variants.${k}.model`, message: 'has no active version to serve' }]);
      if (v.version && v.version !== active) throw new AppError(409, 'not_supported', `version ${v.version} of ${v.model} is not active`, [{ path: `body.variants.${k}.version`, message: `is not the active version (${active}); activate it first` }]);
      if (v.source && !opts.recommender.runtime.sources.has(v.source)) throw new AppError(400, 'validation_failed', 'Invalid request', [{ path: `body.variants.${k}.source`, message: 'is not a configured source (see GET /admin/config)' }]);
    });
    const variants = body.variants.map((v) => ({ ...v, share: v.share ?? 1 / body.variants.length }));
    try {
      const e = await online.book.create({ ...body, variants, minimumEffect: body.minimumEffect ?? DEFAULT_EFFECT[body.mode] }, Date.now());
      request.log.info({ experiment: e.id, mode: e.mode, variants: variants.map((v) => v.name) }, 'experiment started');
      return reply.code(201).send(view(e, undefined));
    } catch (err) {
      translate(err, 'body');
    }
  });

  app.get('/admin/experiments/:id', { config: ADMIN, schema: { params: experimentParams, response: { 200: experimentView, ...errors } } }, async (request) => {
    try {
      // The monitor's latest look (every STATS_REFRESH_MS); computed here only before its first.
      return await withReport(await online.book.get(request.params.id));
    } catch (err) {
      translate(err, 'params.id');
    }
  });

  app.post('/admin/experiments/:id/stop', { config: ADMIN, schema: { params: experimentParams, response: { 200: experimentView, ...errors } } }, async (request) => {
    try {
      return await withReport(await online.book.stop(request.params.id, Date.now()));
    } catch (err) {
      translate(err, 'params.id');
    }
  });

  app.post('/admin/experiments/:id/conclude', { config: ADMIN, schema: { params: experimentParams, body: concludeBody, response: { 200: experimentView, ...bodyErrors, ...errors } } }, async (request) => {
    try {
      const e = await online.book.get(request.params.id);
      const report = await online.monitor.reportOn(e, Date.now());
      const fallback = report.reached ?? { decidedAt: Date.now(), winner: null, pValue: report.comparisons[0]?.test.pValue ?? report.interleaving?.test.pValue ?? 1, effect: report.comparisons[0]?.test.effect ?? report.interleaving?.test.effect ?? 0 };
      return await withReport(await online.book.conclude(e.id, request.body.winner, fallback, Date.now()));
    } catch (err) {
      translate(err, 'body.winner');
    }
  });

  app.post('/admin/experiments/:id/promote', { config: ADMIN, schema: { params: experimentParams, body: promoteBody, response: { 200: experimentView, ...bodyErrors, ...errors } } }, async (request) => {
    try {
      const e = await online.book.get(request.params.id);
      const name = request.body.variant ?? e.winner ?? e.verdict?.winner;
      if (!name) throw new ExperimentStateError('no winner recorded: conclude the experiment or name a variant');
      const v = e.spec.variants.find((x) => x.name === name);
      if (!v) throw new ExperimentStateError(`experiment has no variant ${name}`);
      if (!v.model) throw new ExperimentStateError(`variant ${name} changes the pipeline${v.source ? ` (source ${v.source})` : ''}, not the model: promote it by editing recflow.yaml`);
      // Concluded first: a variant the test found worse is refused before anything serves it.
      const concluded = e.status === 'concluded' ? e : await online.book.conclude(e.id, name, null, Date.now());
      await opts.promote(v.model, v.version);
      request.log.info({ experiment: e.id, variant: name, model: v.model }, 'experiment variant promoted');
      return await withReport(concluded);
    } catch (err) {
      translate(err, 'body.variant');
    }
  });

  app.get('/admin/offpolicy', { config: ADMIN, schema: { querystring: offPolicyQuery, response: { 200: offPolicyResponse, ...errors } } }, async (request) => {
    const { model, limit, days } = request.query;
    const version = opts.activeVersion(model);
    if (version === null) throw notFound(`active version of model ${model}`, 'query.model');
    const logs = await online.deps.thread.explorationLogs(Date.now() - days * 86_400_000, limit);
    // One bounded recommendation per logged user, each awaited: the loop answers other requests in between.
    const estimate = await offPolicyEstimate(logs, async (log, length) => {
      try {
        // Items seen since the logged answer (its own clicks among them) must stay rankable.
        const seen = await opts.seenBy(log.userId);
        const shown = new Set(log.items.map((x) => x.itemId));
        const answer = await opts.recommender.recommend(log.userId, { limit: Math.min(MAX_TARGET_DEPTH, length + seen.size), excludeSeen: false, model });
        return answer.items.map((x) => x.itemId).filter((id) => shown.has(id) || !seen.has(id)).slice(0, length);
      } catch {
        return null;
      }
    });
    return { model, modelVersion: version, ...estimate };
  });
};
