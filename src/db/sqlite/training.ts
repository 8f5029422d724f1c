import { type DataWatermark, type TrainingRow, type TrainingDataRepository } from '../training-data-repository.js';
import type { Db } from './connection.js';
import { promised } from './promised.js';

export function createTrainingDataRepository(db: Db): TrainingDataRepository {
  const latest = db.prepare<[], { r: number | null; e: number | null }>('SELECT (SELECT MAX(id) FROM ratings) AS r, (SELECT MAX(id) FROM events) AS e');
  return promised<TrainingDataRepository>({
    read: (eventWeights) => readTrainingData(db, eventWeights),
    watermark: () => currentWatermark(db),
    latestIds: () => {
      const { r, e } = latest.get() ?? { r: null, e: null };
      return { lastRatingId: r ?? 0, lastEventId: e ?? 0 };
    },
  });
}

function readTrainingData(db: Db, eventWeights: Readonly<Record<string, number>>): { rows: TrainingRow[]; watermark: DataWatermark } {
  const read = db.transaction(() => {
    const watermark = currentWatermark(db);
    const rows: TrainingRow[] = [];
    const ratings = db.prepare<[number], { user: string; item: string; value: number; ts: number }>(
      `SELECT u.external_id AS user, i.external_id AS item, r.value, r.ts
         FROM ratings r JOIN users u ON u.id = r.user_id JOIN items i ON i.id = r.item_id
        WHERE r.id <= ? ORDER BY r.id`,
    );
    for (const r of ratings.iterate(watermark.lastRatingId)) rows.push({ user: r.user, item: r.item, rating: r.value, ts: r.ts });
    const events = db.prepare<[number], { user: string; item: string; type: string; value: number; ts: number }>(
      `SELECT u.external_id AS user, i.external_id AS item, e.type, e.value, e.ts
         FROM events e JOIN users u ON u.id = e.user_id JOIN items i ON i.id = e.item_id
        WHERE e.id <= ? ORDER BY e.id`,
    );
    for (const e of events.iterate(watermark.lastEventId)) {
      const w = (eventWeights[e.type] ?? 0) * e.value;
      // Negative weights (dislikes) are kept so the job can drop the pair from the positives.
      if (w !== 0) rows.push({ user: e.user, item: e.item, weight: w, ts: e.ts });
    }
    return { rows, watermark };
  });
  return read.deferred();
}

function currentWatermark(db: Db): DataWatermark {
  const one = <T>(sql: string): T => db.prepare(sql).get() as T;
  const r = one<{ n: number; last: number | null; at: number | null }>('SELECT COUNT(*) AS n, MAX(id) AS last, MAX(updated_at) AS at FROM ratings');
  const e = one<{ n: number; last: number | null; at: number | null }>('SELECT COUNT(*) AS n, MAX(id) AS last, MAX(created_at) AS at FROM events');
  const users = one<{ n: number }>('SELECT COUNT(*) AS n FROM users').n;
  const items = one<{ n: number }>('SELECT COUNT(*) AS n FROM items').n;
  return {
    ratings: r.n,
    events: e.n,
    users,
    items,
    lastRatingId: r.last ?? 0,
    lastEventId: e.last ?? 0,
    lastIngestAt: Math.max(r.at ?? 0, e.at ?? 0),
  };
}
