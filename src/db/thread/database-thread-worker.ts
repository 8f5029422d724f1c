import { parentPort, workerData } from 'node:worker_threads';
import { computeLeaderboards } from '../leaderboards.js';
import type { ImpressionRecord } from '../online-repository.js';
import { collectDataStats } from '../stats-repository.js';
import { openStore, type StoreLocation } from '../store.js';
import type { ReaderAnswer, ReaderRequest, ReaderResponse } from './database-thread.js';

/**
 * A database thread of the API: a worker thread with its own connection for reads whose cost
 * grows with the data (the leaderboards' aggregate, a full catalogue reload, the dashboard's
 * figures) and for batch writes (a 1,000-item PUT held the loop ~5 ms in SQLite, a 10,000-row
 * rating batch up to 0.8 s), so
 * they never hold the event loop that answers requests.
 */
const { location, checkpointEveryMs } = workerData as { location: StoreLocation; checkpointEveryMs: number };
// Requests are answered one at a time, in order: a thread needs one connection.
const store = await openStore(location, { poolSize: 1 });
const { serving, catalogue, stats, online } = store;
// The API's connection does not checkpoint the WAL on commit (handOffCheckpoints); one thread does.
const checkpoints =
  checkpointEveryMs > 0
    ? setInterval(() => {
        // A busy database: the next tick tries again.
        store.maintain().catch(() => undefined);
      }, checkpointEveryMs)
    : undefined;

async function answer(req: ReaderRequest): Promise<ReaderAnswer> {
  switch (req.op) {
    case 'catalogue':
      return catalogue.rows();
    case 'stats':
      return collectDataStats(stats, req.now);
    case 'putItems':
      return catalogue.putItems(req.items, req.now);
    case 'hideItem':
      return catalogue.hideItem(req.itemId, req.now);
    case 'upsertRatings':
      return store.ratings.upsert(req.ratings);
    case 'insertEvents':
      return store.events.insert(req.events);
    case 'onlineRecord':
      return online.record({ ...req.batch, impressions: req.batch.impressions.map((s) => JSON.parse(s) as ImpressionRecord) });
    case 'onlineDays':
      return online.days(req.since, req.k);
    case 'variantSums':
      return online.variantSums(req.experimentId, req.mode, req.metric, req.first);
    case 'explorationLogs':
      return online.explorationLogs(req.since, req.limit);
    case 'onlinePurge':
      return online.purge(req.before);
    case 'leaderboards':
      return { boards: await computeLeaderboards(serving, req.specs, req.dislikeAt, req.now), latest: await serving.latestItems(req.latest), at: req.now };
  }
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
