import type { EventsRepository } from '../events-repository.js';
import { storedEventId, type RatingRecord, type WriteCounts } from '../ingest-types.js';
import type { RatingsRepository } from '../ratings-repository.js';
import { resolveIds } from './entities.js';
import { countOf, rows, transaction, type Client, type Pool } from './pool.js';

interface PairState {
  userId: number;
  itemId: number;
  value: number;
  ts: number;
  /** The batch changed it: it is written. */
  dirty: boolean;
}

/** Current ratings of the batch's pairs, locked until commit so a concurrent batch waits for this one. */
async function lockExisting(client: Client, users: number[], items: number[]): Promise<Map<string, PairState>> {
  const existing = await rows<{ user_id: number; item_id: number; value: number; ts: number }>(
    client,
    `SELECT r.user_id, r.item_id, r.value, r.ts FROM ratings r
       JOIN unnest($1::bigint[], $2::bigint[]) AS p(u, i) ON r.user_id = p.u AND r.item_id = p.i
      ORDER BY r.id FOR UPDATE OF r`,
    [users, items],
  );
  return new Map(existing.map((r) => [`${r.user_id}:${r.item_id}`, { userId: r.user_id, itemId: r.item_id, value: r.value, ts: r.ts, dirty: false }]));
}

/**
 * The batch applied row by row in memory, as SQLite applies it: a pair's equal-or-later rating
 * replaces it, an older one is ignored. Only the pairs it changed are written, in one statement.
 */
async function upsertRatings(pool: Pool, ratings: readonly RatingRecord[]): Promise<WriteCounts> {
  return transaction(pool, async (client) => {
    const now = Date.now();
    const counts: WriteCounts = { inserted: 0, updated: 0, ignored: 0 };
    const users = await resolveIds(client, 'users', ratings.map((r) => r.userId), now);
    const items = await resolveIds(client, 'items', ratings.map((r) => r.itemId), now);
    const ids = ratings.map((r) => ({ u: users.get(r.userId)!, i: items.get(r.itemId)! }));
    const pairs = await lockExisting(client, ids.map((p) => p.u), ids.map((p) => p.i));
    ratings.forEach((r, k) => {
      const key = `${ids[k].u}:${ids[k].i}`;
      const current = pairs.get(key);
      if (!current) {
        pairs.set(key, { userId: ids[k].u, itemId: ids[k].i, value: r.rating, ts: r.timestamp, dirty: true });
        counts.inserted++;
      } else if (r.timestamp >= current.ts) {
        Object.assign(current, { value: r.rating, ts: r.timestamp, dirty: true });
        counts.updated++;
      } else counts.ignored++;
    });
    // In key order, so two batches writing the same new pairs take their locks in the same order.
    const changed = [...pairs.values()].filter((p) => p.dirty).sort((a, b) => a.userId - b.userId || a.itemId - b.itemId);
    if (changed.length > 0) {
      // The ts condition keeps "later timestamp wins" even against a batch that inserted the pair meanwhile.
      await client.query(
        `INSERT INTO ratings (user_id, item_id, value, ts, updated_at)
         SELECT u, i, v, t, $5 FROM unnest($1::bigint[], $2::bigint[], $3::float8[], $4::bigint[]) AS x(u, i, v, t)
         ON CONFLICT (user_id, item_id) DO UPDATE SET value = excluded.value, ts = excluded.ts, updated_at = excluded.updated_at
          WHERE ratings.ts <= excluded.ts`,
        [changed.map((p) => p.userId), changed.map((p) => p.itemId), changed.map((p) => p.value), changed.map((p) => p.ts), now],
      );
    }
    return counts;
  });
}

export function postgresRatings(pool: Pool): RatingsRepository {
  return { upsert: (ratings) => upsertRatings(pool, ratings), count: () => countOf(pool, 'ratings') };
}

export function postgresEvents(pool: Pool): EventsRepository {
  return {
    insert: (events) =>
      transaction(pool, async (client) => {
        const now = Date.now();
        const users = await resolveIds(client, 'users', events.map((e) => e.userId), now);
        const items = await resolveIds(client, 'items', events.map((e) => e.itemId), now);
        // An event id already stored, or repeated in the batch, is skipped by the unique index.
        const result = await client.query(
          `INSERT INTO events (user_id, item_id, type, value, ts, event_id, created_at)
           SELECT u, i, t, v, ts, e, $7
             FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::float8[], $5::bigint[], $6::text[]) WITH ORDINALITY AS x(u, i, t, v, ts, e, n)
            ORDER BY n
           ON CONFLICT (event_id) DO NOTHING`,
          [
            events.map((e) => users.get(e.userId)),
            events.map((e) => items.get(e.itemId)),
            events.map((e) => e.type),
            events.map((e) => e.value),
            events.map((e) => e.timestamp),
            events.map(storedEventId),
            now,
          ],
        );
        const inserted = result.rowCount ?? 0;
        return { inserted, updated: 0, ignored: events.length - inserted };
      }),
    count: () => countOf(pool, 'events'),
  };
}
