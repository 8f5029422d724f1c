/**
 * How soon a new item written with labels can be served, with no retrain: the API (in this
 * process, embedded setup) serves a hybrid model trained on MovieLens-100K-shaped data with
 * planted genres; then, one at a time, an item is PUT with a genre and a title and its similar
 * items and a user's model recommendations are asked for at once. Prints the time from the
 * write to the first answer that shows the item, and the event-loop lag meanwhile.
 *
 *   npx tsx bench/new-item.ts [--items 200]
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pino from 'pino';
import request from 'supertest';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { generateSynthetic, ML100K_LIKE, syntheticItemFeatures } from '../src/data/synthetic.js';
import { arg, BENCH_TOKEN } from './args.js';

const n = Number(arg('items', '200'));
const dir = mkdtempSync(join(tmpdir(), 'recflow-new-item-'));
const file = join(dir, 'recflow.yaml');
writeFileSync(file, 'features:\n  items:\n    labels: { title: text }\n');
const config = loadConfig({ RECFLOW_CONFIG: file, DATABASE_PATH: join(dir, 'db.sqlite'), MODEL_DIR: join(dir, 'models'), ADMIN_TOKEN: BENCH_TOKEN, LOG_LEVEL: 'silent', MODEL_POLL_MS: '200' });
const app = await buildApp(config, { logger: pino({ level: 'silent' }) });
await app.ready();
const auth = { authorization: `Bearer ${BENCH_TOKEN}` };
const ratings = [...generateSynthetic(ML100K_LIKE)].map((r) => ({ userId: r.user, itemId: r.item, rating: r.rating, timestamp: r.ts }));
for (let k = 0; k < ratings.length; k += 10_000) await request(app.server).post('/ratings').set(auth).send({ ratings: ratings.slice(k, k + 10_000) }).expect(200);
const features = syntheticItemFeatures(ML100K_LIKE);
const items = [...features].map(([itemId, f]) => ({ itemId, categories: f.categories, labels: f.labels }));
for (let k = 0; k < items.length; k += 1000) await request(app.server).put('/items').set(auth).send({ items: items.slice(k, k + 1000) }).expect(200);
const job = (await request(app.server).post('/admin/retrain').set(auth).send({ model: 'hybrid', refit: false })).body.jobId as string;
for (;;) {
  const state = (await request(app.server).get(`/admin/jobs/${job}`).set(auth)).body.state as string;
  if (state === 'completed') break;
  if (state === 'failed') throw new Error('training failed');
  await new Promise((r) => setTimeout(r, 500));
}
while ((await request(app.server).get('/users/u1/recommendations').set(auth)).body.model !== 'hybrid') await new Promise((r) => setTimeout(r, 100));

const lag = monitorEventLoopDelay({ resolution: 1 });
lag.enable();
const waits: number[] = [];
let recommended = 0;
for (let k = 0; k < n; k++) {
  const itemId = `new-${k}`;
  const genre = `genre${k % 8}`;
  const t0 = performance.now();
  await request(app.server).put(`/items/${itemId}`).set(auth).send({ categories: [genre], labels: { title: `New item ${k} of ${genre}` } }).expect(200);
  const similar = (await request(app.server).get(`/items/${itemId}/similar?limit=10`).set(auth)).body.items as { itemId: string }[];
  waits.push(performance.now() - t0);
  if (similar.length !== 10) throw new Error(`${itemId}: ${similar.length} similar items`);
  const recs = (await request(app.server).get(`/users/u${1 + (k % 900)}/recommendations?source=model&limit=100`).set(auth)).body.items as { itemId: string }[];
  if (recs.some((x) => x.itemId.startsWith('new-'))) recommended++;
}
lag.disable();
waits.sort((a, b) => a - b);
const q = (p: number): number => waits[Math.min(waits.length - 1, Math.floor(p * waits.length))];
console.log(`${n} new items, each PUT with a genre and a title: PUT → its similar items answered in p50 ${q(0.5).toFixed(1)} ms, p99 ${q(0.99).toFixed(1)} ms, max ${waits[waits.length - 1].toFixed(1)} ms`);
console.log(`new items among a user's top-100 model recommendations in ${recommended} of ${n} requests (they compete with 1,682 trained items)`);
console.log(`event-loop lag while writing and serving them: p99 ${(lag.percentile(99) / 1e6).toFixed(1)} ms, max ${(lag.max / 1e6).toFixed(1)} ms`);
await app.close();
