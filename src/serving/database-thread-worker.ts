import { parentPort, workerData } from 'node:worker_threads';
import type { CatalogueRows } from '../db/catalogue-repository.js';
import { openStore, type StoreLocation } from '../db/store.js';
import { collectDataStats, type DataStats } from '../stats/data-stats.js';
import type { PutItemsResult, ReaderRequest, ReaderResponse } from './database-thread.js';
import { rankPopularity, type PopularityOptions, type Ranking } from './popularity.js';

/**
 * A database thread of the API: a worker thread with its own connection for reads whose cost
 * grows with the data (the popularity aggregate, a full catalogue reload) and for batch catalogue
 * writes (a 1,000-item PUT held the loop ~5 ms in SQLite), so they never hold the event loop that
 * answers requests.
 */
const { location, checkpointEveryMs } = workerData as { location: StoreLocation; checkpointEveryMs: number };
// Requests are answered one at a time, in order: a thread needs one connection.
const store = await openStore(location, { poolSize: 1 });
const { serving, catalogue, stats } = store;
// The API's connection does not checkpoint the WAL on commit (handOffCheckpoints); one thread does.
const checkpoints =
  checkpointEveryMs > 0
    ? setInterval(() => {
        // A busy database: the next tick tries again.
        store.maintain().catch(() => undefined);
      }, checkpointEveryMs)
    : undefined;
const DAY_MS = 86_400_000;

/** Popularity (positive feedback, clock at the newest interaction) and the newest items, in one pass. */
async function popularityAndLatest(options: PopularityOptions, now: number): Promise<Ranking> {
  const reference = (await serving.newestInteraction()) || now;
  const since = options.windowDays > 0 ? reference - options.windowDays * DAY_MS : 0;
  const ranking = rankPopularity(await serving.dailyCounts(since, options.dislikeThreshold), reference, options, now);
  const latest = await serving.latestItems(options.maxItems);
  return { ...ranking, latest: { items: latest.map((l) => l.item), createdAt: latest.map((l) => l.createdAt) } };
}

function answer(req: ReaderRequest): Promise<Ranking | CatalogueRows | PutItemsResult | DataStats | number | null> {
  if (req.op === 'catalogue') return catalogue.rows();
  if (req.op === 'stats') return collectDataStats(stats, req.now);
  if (req.op === 'putItems') return catalogue.putItems(req.items, req.now);
  if (req.op === 'hideItem') return catalogue.hideItem(req.itemId, req.now);
  return popularityAndLatest(req.options, req.now);
}

async function respond(req: ReaderRequest): Promise<ReaderResponse> {
  try {
    return { id: req.id, ok: true, value: await answer(req) };
  } catch (err) {
    const { message, code } = err as Error & { code?: unknown };
    return { id: req.id, ok: false, message, ...(typeof code === 'string' ? { code } : {}) };
  }
}

async function close(): Promise<void> {
  clearInterval(checkpoints);
  await store.maintain().catch(() => undefined);
  await store.close();
  parentPort!.close();
}

// One request at a time, in arrival order (a write is answered before a later read runs).
let turn: Promise<void> = Promise.resolve();
parentPort!.on('message', (req: ReaderRequest | { op: 'close' }) => {
  turn = turn.then(async () => {
    if (req.op === 'close') await close();
    else parentPort!.postMessage(await respond(req));
  });
});
