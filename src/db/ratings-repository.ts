import type { RatingRecord, WriteCounts } from './ingest-types.js';

export interface RatingsRepository {
  /**
   * Stores ratings all-or-nothing in one transaction. A pair keeps one current rating: a
   * rating with an equal or later timestamp replaces it, an older one is ignored.
   */
  upsert(ratings: readonly RatingRecord[]): Promise<WriteCounts>;
  count(): Promise<number>;
}

