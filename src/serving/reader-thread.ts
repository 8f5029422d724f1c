import { parentPort, workerData } from 'node:worker_threads';
import { createCatalogueRepository, type CatalogueRows } from '../db/catalogue-repository.js';
import { openDb } from '../db/connection.js';
import { createServingRepository } from '../db/serving-repository.js';
import type { ReaderRequest, ReaderResponse } from './background-reader.js';
import { rankPopularity, type Ranking } from './popularity.js';

/**
 * The API's background reader: a worker thread with its own database connection for reads whose
 * cost grows with the data (the popularity aggregate, a full catalogue reload), so they never
 * hold the event loop that answers requests.
 */
const { databasePath, busyTimeoutMs } = workerData as { databasePath: string; busyTimeoutMs: number };
const db = openDb(databasePath, { busyTimeoutMs });
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
