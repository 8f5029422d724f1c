import type { Db } from './connection.js';
import { promised } from './promised.js';
import { createEntitiesRepository } from './entities-repository.js';
import type { EventRecord, WriteCounts } from './ingest-types.js';

export interface EventsRepository {
  /** Stores events all-or-nothing; an `eventId` already stored (or repeated in the batch) is ignored. */
  insert(events: readonly EventRecord[]): Promise<WriteCounts>;
  count(): Promise<number>;
}

export function createEventsRepository(db: Db): EventsRepository {
  const entities = createEntitiesRepository(db);
  const insert = db.prepare(
    `INSERT INTO events (user_id, item_id, type, value, ts, event_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (event_id) DO NOTHING`,
  );
  const count = db.prepare('SELECT COUNT(*) FROM events').pluck();

  const insertAll = db.transaction((events: readonly EventRecord[]): WriteCounts => {
    const counts: WriteCounts = { inserted: 0, updated: 0, ignored: 0 };
    const now = Date.now();
    for (const e of events) {
      const userId = entities.resolve('users', e.userId, now);
      const itemId = entities.resolve('items', e.itemId, now);
      const result = insert.run(userId, itemId, e.type, e.value, e.timestamp, e.eventId ?? null, now);
      if (result.changes > 0) counts.inserted++;
      else counts.ignored++;
    }
    return counts;
  });

  return promised<EventsRepository>({
    insert: (events) => insertAll.immediate(events),
    count: () => count.get() as number,
  });
}
