import Cursor from 'pg-cursor';
import type { DataWatermark, TrainingDataRepository, TrainingRow } from '../training-data-repository.js';
import { countOf, row, transaction, type Client, type Pool, type Queryable } from './pool.js';

/** Rows fetched per round trip while streaming the training data. */
const BATCH = 10_000;

async function watermark(db: Queryable): Promise<DataWatermark> {
  const r = (await row<{ n: number; last: number | null; at: number | null }>(db, 'SELECT COUNT(*) AS n, MAX(id) AS last, MAX(updated_at) AS at FROM ratings'))!;
  const e = (await row<{ n: number; last: number | null; at: number | null }>(db, 'SELECT COUNT(*) AS n, MAX(id) AS last, MAX(created_at) AS at FROM events'))!;
  const users = await countOf(db, 'users');
  const items = await countOf(db, 'items');
  return { ratings: r.n, events: e.n, users, items, lastRatingId: r.last ?? 0, lastEventId: e.last ?? 0, lastIngestAt: Math.max(r.at ?? 0, e.at ?? 0) };
}

/** Streams a query through a server-side cursor: memory holds one batch, not the whole result. */
async function stream<T>(client: Client, sql: string, params: unknown[], each: (r: T) => void): Promise<void> {
  const cursor = client.query(new Cursor<T>(sql, params));
  try {
    for (let batch = await cursor.read(BATCH); batch.length > 0; batch = await cursor.read(BATCH)) for (const r of batch) each(r);
  } finally {
    await cursor.close();
  }
}

export function postgresTraining(pool: Pool): TrainingDataRepository {
  return {
    // One REPEATABLE READ snapshot: the watermark and the rows agree whatever is ingested meanwhile.
    read: (eventWeights) =>
      transaction(
        pool,
        async (client) => {
          const mark = await watermark(client);
          const out: TrainingRow[] = [];
          await stream<{ user: string; item: string; value: number; ts: number }>(
            client,
            'SELECT u.external_id AS user, i.external_id AS item, r.value, r.ts FROM ratings r JOIN users u ON u.id = r.user_id JOIN items i ON i.id = r.item_id ORDER BY r.id',
            [],
            (r) => out.push({ user: r.user, item: r.item, rating: r.value, ts: r.ts }),
          );
          await stream<{ user: string; item: string; type: string; value: number; ts: number }>(
            client,
            'SELECT u.external_id AS user, i.external_id AS item, e.type, e.value, e.ts FROM events e JOIN users u ON u.id = e.user_id JOIN items i ON i.id = e.item_id ORDER BY e.id',
            [],
            (e) => {
              const w = (eventWeights[e.type] ?? 0) * e.value;
              if (w !== 0) out.push({ user: e.user, item: e.item, weight: w, ts: e.ts });
            },
          );
          return { rows: out, watermark: mark };
        },
        'REPEATABLE READ',
        true,
      ),
    watermark: () => watermark(pool),
    latestIds: async () => {
      const r = (await row<{ r: number | null; e: number | null }>(pool, 'SELECT (SELECT MAX(id) FROM ratings) AS r, (SELECT MAX(id) FROM events) AS e'))!;
      return { lastRatingId: r.r ?? 0, lastEventId: r.e ?? 0 };
    },
  };
}
