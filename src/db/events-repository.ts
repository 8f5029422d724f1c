import type { EventRecord, WriteCounts } from './ingest-types.js';

export interface EventsRepository {
  /** Stores events all-or-nothing; an `eventId` already stored (or repeated in the batch) is ignored. */
  insert(events: readonly EventRecord[]): Promise<WriteCounts>;
  count(): Promise<number>;
}
