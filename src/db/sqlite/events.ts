import { type EventsRepository } from '../events-repository.js';
import type { Db } from './connection.js';
import { promised } from './promised.js';
import { createEntitiesRepository } from './entities.js';
import { storedEventId, type EventRecord, type WriteCounts } from '../ingest-types.js';

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
      const result = insert.run(userId, itemId, e.type, e.value, e.timestamp, storedEventId(e), now);
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
