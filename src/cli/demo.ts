import { Command, Option } from 'commander';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from '../app.js';
import { resolveAdminToken } from '../auth/admin-token.js';
import { loadConfig } from '../config.js';
import { ML100K_LIKE, generateSynthetic } from '../data/synthetic.js';
import { MODEL_NAMES } from '../models/model.js';

const BATCH = 5000;

async function call(app: FastifyInstance, token: string, method: 'GET' | 'POST', url: string, payload?: unknown): Promise<Record<string, unknown>> {
  const res = await app.inject({ method, url, payload: payload as Record<string, unknown> | undefined, headers: { authorization: `Bearer ${token}` } });
  if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
  return res.json();
}

/**
 * A first run that shows a trained model: synthetic MovieLens-100K-shaped ratings go in through
 * the ingest route, the model trains as a retrain job would, and the answers are printed with
 * the curl commands that ask for them.
 */
export function demoCommand(): Command {
  return new Command('demo')
    .description('load a synthetic MovieLens-100K-sized data set, train a model and print recommendations (uses DATABASE_PATH)')
    .addOption(new Option('--model <name>', 'model to train').choices(['auto', ...MODEL_NAMES]).default('ease'))
    .option('--seed <n>', 'seed of the synthetic data', (v) => Number(v), 1)
    .action(async (o: { model: string; seed: number }) => {
      const config = loadConfig();
      const token = config.adminToken ?? resolveAdminToken(undefined, config.dataDir).token;
      const app = await buildApp({ ...config, adminToken: token }, { logger: pino({ level: 'warn' }) });
      try {
        const ratings = [...generateSynthetic({ ...ML100K_LIKE, seed: o.seed })].map((r) => ({ userId: r.user, itemId: r.item, rating: r.rating, timestamp: r.ts }));
        for (let k = 0; k < ratings.length; k += BATCH) await call(app, token, 'POST', '/ratings', { ratings: ratings.slice(k, k + BATCH) });
        process.stdout.write(`ingested ${ratings.length.toLocaleString('en')} ratings (${ML100K_LIKE.users} users, ${ML100K_LIKE.items} items) through POST /ratings\n`);
        const { jobId } = (await call(app, token, 'POST', '/admin/retrain', { model: o.model })) as { jobId: string };
        const started = Date.now();
        let job: Record<string, unknown>;
        do {
          await new Promise((r) => setTimeout(r, 500));
          job = await call(app, token, 'GET', `/admin/jobs/${jobId}`);
        } while (!['completed', 'failed', 'cancelled'].includes(job.state as string));
        if (job.state !== 'completed') throw new Error(`training ${job.state}: ${String(job.error)}`);
        const result = job.result as { model: string; version: string; metrics: { test: Record<string, number> } };
        process.stdout.write(`trained ${result.model} ${result.version} in ${((Date.now() - started) / 1000).toFixed(1)} s: test HR@10 ${result.metrics.test['HR@10'].toFixed(4)}, NDCG@10 ${result.metrics.test['NDCG@10'].toFixed(4)}\n\n`);
        await app.services.store.refresh();
        const user = ratings[0].userId;
        const item = ratings[0].itemId;
        for (const [url, shown] of [[`/users/${user}/recommendations?limit=5`, 'recommendations'], [`/items/${item}/similar?limit=5`, 'similar items']] as const) {
          const answer = await call(app, token, 'GET', url);
          process.stdout.write(`${shown} (${url}):\n  curl -s -H "authorization: Bearer $(cat ${config.dataDir}/api-key)" 'localhost:${config.port}${url}'\n`);
          for (const it of answer.items as { itemId: string; score: number }[]) process.stdout.write(`    ${it.itemId.padEnd(8)} ${it.score.toFixed(4)}\n`);
        }
        process.stdout.write(`\nnpm start serves the same database: the commands above work against it.\n`);
      } finally {
        await app.close();
      }
    });
}
