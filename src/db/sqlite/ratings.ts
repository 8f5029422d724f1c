import { type RatingsRepository } from '../ratings-repository.js';
import type { Db } from './connection.js';
import { promised } from './promised.js';
import { createEntitiesRepository } from './entities.js';
import type { RatingRecord, WriteCounts } from '../ingest-types.js';

interface ExistingRating {
  id: number;
  ts: number;
}

export function createRatingsRepository(db: Db): RatingsRepository {
  const entities = createEntitiesRepository(db);
  const findPair = db.prepare('SELECT id, ts FROM ratings WHERE user_id = ? AND item_id = ?');
  const insert = db.prepare('INSERT INTO ratings (user_id, item_id, value, ts, updated_at) VALUES (?, ?, ?, ?, ?)');
  const update = db.prepare('UPDATE ratings SET value = ?, ts = ?, updated_at = ? WHERE id = ?');
  const count = db.prepare('SELECT COUNT(*) FROM ratings').pluck();

  const upsertAll = db.transaction((ratings: readonly RatingRecord[]): WriteCounts => {
    const counts: WriteCounts = { inserted: 0, updated: 0, ignored: 0 };
    const now = Date.now();
    for (const r of ratings) {
      const userId = entities.resolve('users', r.userId, now);
      const itemId = entities.resolve('items', r.itemId, now);
      const existing = findPair.get(userId, itemId) as ExistingRating | undefined;
      if (!existing) {
        insert.run(userId, itemId, r.rating, r.timestamp, now);
        counts.inserted++;
      } else if (r.timestamp >= existing.ts) {
        update.run(r.rating, r.timestamp, now, existing.id);
        counts.updated++;
      } else {
        counts.ignored++;
      }
    }
    return counts;
  });

  return promised<RatingsRepository>({
    upsert: (ratings) => upsertAll.immediate(ratings),
    count: () => count.get() as number,
  });
}
