import { parentPort, workerData } from 'node:worker_threads';
import { createCatalogueRepository, type CatalogueRows } from '../db/catalogue-repository.js';
import { checkpoint, openDb } from '../db/connection.js';
import { createServingRepository } from '../db/serving-repository.js';
import type { ReaderRequest, ReaderResponse } from './database-thread.js';
import { rankPopularity, type Ranking } from './popularity.js';

/**
 * The API's background reader: a worker thread with its own database connection for reads whose
 * cost grows with the data (the popularity aggregate, a full catalogue reload), so they never
 * hold the event loop that answers requests.
 */
const { databasePath, busyTimeoutMs } = workerData as { databasePath: string; busyTimeoutMs: number };
const db = openDb(databasePath, { busyTimeoutMs });
// The API's connection does not checkpoint the WAL on commit (handOffCheckpoints); this thread does.
const CHECKPOINT_MS = 1000;
const checkpoints = setInterval(() => {
  try {
    checkpoint(db);
  } catch {
    // A busy database: the next tick tries again.
  }
}, CHECKPOINT_MS);
const serving = createServingRepository(db);
const catalogue = createCatalogueRepository(db);
const DAY_MS = 86_400_000;

function answer(req: ReaderRequest): Ranking | CatalogueRows {
  if (req.op === 'catalogue') return catalogue.rows();
  const since = req.now - req.options.windowDays * DAY_MS;
  return rankPopularity(serving.dailyCounts(since), req.now, req.options);
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
    res = { id: req.id, ok: false, message: (err as Error).message };
  }
  parentPort!.postMessage(res);
});
