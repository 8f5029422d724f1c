import type { EventRecord, WriteCounts } from './ingest-types.js';

export interface EventsRepository {
  /** Stores events all-or-nothing; an event whose id (its `eventId`, else one derived from its content: {@link storedEventId}) is already stored, or repeated in the batch, is ignored. */
  insert(events: readonly EventRecord[]): Promise<WriteCounts>;
  count(): Promise<number>;
}
