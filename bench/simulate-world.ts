/**
 * The simulated world of bench/simulate.ts: synthetic users with planted tastes, a click model
 * from those tastes, and a recflow in this process trained on the users' history.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { generateSynthetic, trueAppeal, type PlantedTruth, type SyntheticOptions } from '../src/data/synthetic.js';
import { BENCH_AUTH, BENCH_TOKEN } from './args.js';

export const SLOTS = 10;
/** Examination falls with the position, as in click logs (a DCG-like discount). */
export const positionBias = (k: number): number => 1 / Math.log2(k + 2);

export interface World {
  truth: PlantedTruth;
  users: number;
  items: number;
  /** The offset that puts CTR in a realistic range (set by calibrate). */
  offset: number;
}

export function plantedWorld(options: SyntheticOptions): { world: World; ratings: { userId: string; itemId: string; rating: number; timestamp: number }[] } {
  let truth: PlantedTruth | null = null;
  const ratings = [...generateSynthetic(options, (t) => (truth = t))].map((r) => ({ userId: r.user, itemId: r.item, rating: r.rating ?? 5, timestamp: r.ts }));
  return { world: { truth: truth!, users: options.users, items: options.items, offset: 0 }, ratings };
}

const index = (id: string): number => Number(id.slice(1)) - 1;

/** The probability that `userId` clicks `itemId` shown at position k. */
export function clickProbability(w: World, userId: string, itemId: string, k: number): number {
  const a = trueAppeal(w.truth, index(userId), index(itemId));
  return positionBias(k) / (1 + Math.exp(-(a - w.offset)));
}

/** The expected CTR per slot of a list shown to a user: the planted truth an online metric should recover. */
export function expectedCtr(w: World, userId: string, items: readonly string[]): number {
  return items.reduce((s, item, k) => s + clickProbability(w, userId, item, k), 0) / Math.max(1, items.length);
}

/** Chooses the offset so the lists' mean CTR is `target`. */
export function calibrate(w: World, lists: ReadonlyMap<string, readonly string[]>, target: number): void {
  let lo = -20;
  let hi = 20;
  for (let it = 0; it < 50; it++) {
    w.offset = (lo + hi) / 2;
    let sum = 0;
    for (const [user, items] of lists) sum += expectedCtr(w, user, items);
    if (sum / lists.size > target) lo = w.offset;
    else hi = w.offset;
  }
}

export async function startRecflow(): Promise<FastifyInstance> {
  const dir = mkdtempSync(join(tmpdir(), 'recflow-simulate-'));
  // An empty configuration file: the machine's recflow.yaml, if any, does not leak into the run.
  writeFileSync(join(dir, 'recflow.yaml'), '');
  const config = loadConfig({
    RECFLOW_CONFIG: join(dir, 'recflow.yaml'),
    DATABASE_PATH: join(dir, 'recflow.db'),
    MODEL_DIR: join(dir, 'models'),
    ADMIN_TOKEN: BENCH_TOKEN,
    LOG_LEVEL: 'silent',
    MODEL_POLL_MS: '200',
    STATS_REFRESH_MS: '200',
    IMPRESSION_FLUSH_MS: '100',
    RECOMMENDATION_CACHE_SIZE: '0',
  });
  const app = await buildApp(config, { logger: pino({ level: 'silent' }) });
  await app.ready();
  return app;
}

export async function call<T>(app: FastifyInstance, method: 'GET' | 'POST', url: string, body?: unknown): Promise<T> {
  const res = await app.inject({ method, url, headers: BENCH_AUTH, ...(body === undefined ? {} : { payload: body as object }) });
  if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
  return res.json() as T;
}

/** Trains `model` through the retrain route and returns its test HR@10. */
export async function train(app: FastifyInstance, model: string): Promise<number> {
  const { jobId } = await call<{ jobId: string }>(app, 'POST', '/admin/retrain', { model });
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    const job = await call<{ state: string; error: string | null; result: { metrics?: { test?: Record<string, number> } } | null }>(app, 'GET', `/admin/jobs/${jobId}`);
    if (job.state === 'completed') {
      // The API loads the new version in the background: wait until it answers for it.
      while ((await app.inject({ method: 'GET', url: `/users/u1/recommendations?model=${model}`, headers: BENCH_AUTH })).statusCode !== 200) await new Promise((r) => setTimeout(r, 200));
      return job.result?.metrics?.test?.['HR@10'] ?? NaN;
    }
    if (job.state === 'failed' || job.state === 'cancelled') throw new Error(`${model}: ${job.error}`);
  }
}

/** Each user's first page from a model (its active version), as the API answers it. */
export async function listsOf(app: FastifyInstance, model: string, users: number): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (let u = 1; u <= users; u++) {
    const a = await call<{ items: { itemId: string }[] }>(app, 'GET', `/users/u${u}/recommendations?limit=${SLOTS}&model=${model}`);
    out.set(`u${u}`, a.items.map((x) => x.itemId));
  }
  return out;
}
