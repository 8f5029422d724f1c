import { parentPort, workerData } from 'node:worker_threads';
import { createCatalogueRepository, type CatalogueRows } from '../db/catalogue-repository.js';
import { checkpoint, openDb } from '../db/connection.js';
import { createServingRepository } from '../db/serving-repository.js';
import { createStatsRepository } from '../db/stats-repository.js';
import { collectDataStats, type DataStats } from '../stats/data-stats.js';
import type { PutItemsResult, ReaderRequest, ReaderResponse } from './database-thread.js';
import { rankPopularity, type PopularityOptions, type Ranking } from './popularity.js';

/**
 * A database thread of the API: a worker thread with its own connection for reads whose cost
 * grows with the data (the popularity aggregate, a full catalogue reload) and for batch catalogue
 * writes (a 1,000-item PUT held the loop ~5 ms in SQLite), so they never hold the event loop that
 * answers requests.
 */
const { databasePath, busyTimeoutMs, checkpointEveryMs } = workerData as { databasePath: string; busyTimeoutMs: number; checkpointEveryMs: number };
const db = openDb(databasePath, { busyTimeoutMs });
// The API's connection does not checkpoint the WAL on commit (handOffCheckpoints); one thread does.
const checkpoints =
  checkpointEveryMs > 0
    ? setInterval(() => {
        try {
          checkpoint(db);
        } catch {
          // A busy database: the next tick tries again.
        }
      }, checkpointEveryMs)
    : undefined;
const serving = createServingRepository(db);
const catalogue = createCatalogueRepository(db);
const stats = createStatsRepository(db);
const DAY_MS = 86_400_000;

/** Popularity (positive feedback, clock at the newest interaction) and the newest items, in one pass. */
function popularityAndLatest(options: PopularityOptions, now: number): Ranking {
  const reference = serving.newestInteraction() || now;
  const since = options.windowDays > 0 ? reference - options.windowDays * DAY_MS : 0;
  const ranking = rankPopularity(serving.dailyCounts(since, options.dislikeThreshold), reference, options, now);
  const latest = serving.latestItems(options.maxItems);
  return { ...ranking, latest: { items: latest.map((l) => l.item), createdAt: latest.map((l) => l.createdAt) } };
}

function answer(req: ReaderRequest): Ranking | CatalogueRows | PutItemsResult | DataStats | number | null {
  if (req.op === 'catalogue') return catalogue.rows();
  if (req.op === 'stats') return collectDataStats(stats, req.now);
  if (req.op === 'putItems') return catalogue.putItems(req.items, req.now);
  if (req.op === 'hideItem') return catalogue.hideItem(req.itemId, req.now);
  return popularityAndLatest(req.options, req.now);
}

parentPort!.on('message', (req: ReaderRequest | { op: 'close' }) => {
  if (req.op === 'close') {
    clearInterval(checkpoints);
    checkpoint(db);
    db.close();
    parentPort!.close();
    return;
  }
  let res: ReaderResponse;
  try {
    res = { id: req.id, ok: true, value: answer(req) };
  } catch (err) {
    const { message, code } = err as Error & { code?: unknown };
    res = { id: req.id, ok: false, message, ...(typeof code === 'string' ? { code } : {}) };
  }
  parentPort!.postMessage(res);
});
