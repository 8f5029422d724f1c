import type { FastifyInstance } from 'fastify';
import { api } from './app.js';
import { generateSynthetic } from '../../src/data/synthetic.js';

export const AUTH = { authorization: 'Bearer test-admin-token-0123456789' };
export const REDIS_URL = 'redis://127.0.0.1:6379';

/** Ingests a small synthetic data set through the API (ratings with planted structure). */
export async function ingestSynthetic(app: FastifyInstance, users = 120, items = 150, seed = 3): Promise<number> {
  const ratings = [...generateSynthetic({ users, items, density: 0.1, seed })].map((r) => ({ userId: r.user, itemId: r.item, rating: r.rating, timestamp: r.ts }));
  for (let k = 0; k < ratings.length; k += 5000) {
    const res = await api(app).post('/ratings').send({ ratings: ratings.slice(k, k + 5000) });
    if (res.status !== 200) throw new Error(`ingest failed: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return ratings.length;
}

export interface JobBody {
  id: string;
  state: string;
  attempts: number;
  error: string | null;
  result: { version: string; promoted: boolean; metrics: { valid: Record<string, number> }; refit: { epochs: number; pairs: number; seconds: number } | null } | null;
  progress: Record<string, unknown> | null;
  /** Per-epoch progress of the attempt, oldest first. */
  history?: Record<string, unknown>[];
}

/** Polls a job until it reaches one of `states`. */
export async function waitForJob(app: FastifyInstance, id: string, states = ['completed', 'failed', 'cancelled'], timeoutMs = 600_000): Promise<JobBody> {
  const deadline = Date.now() + Math.max(timeoutMs, MIN_WAIT_MS);
  for (;;) {
    const res = await api(app).get(`/admin/jobs/${id}`).set(AUTH);
    if (res.status !== 200) throw new Error(`GET job ${id}: ${res.status}`);
    if (states.includes(res.body.state)) return res.body as JobBody;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${res.body.state} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Waits are hang detectors, never measurements: a deadline a loaded 2-core CI cannot meet fails a
 * correct build. Every wait gets at least this long, whatever its call says; timing belongs in bench/.
 */
export const MIN_WAIT_MS = 120_000;

export async function until(check: () => boolean | Promise<boolean>, timeoutMs = MIN_WAIT_MS, what = 'condition'): Promise<void> {
  const deadline = Date.now() + Math.max(timeoutMs, MIN_WAIT_MS);
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
