
export interface DataCounts {
  users: number;
  items: number;
  ratings: number;
  events: number;
  hiddenItems: number;
}

/** Rows written in one time bucket: ratings by when they were last written, events by arrival. */
export interface IngestBucket {
  /** Bucket start, epoch ms. */
  t: number;
  ratings: number;
  events: number;
}

export interface CategoryCount {
  category: string;
  items: number;
}

/** Aggregates for the dashboard; every one grows with the data, so only a database thread calls them. */
export interface StatsRepository {
  counts(): Promise<DataCounts>;
  /** Rows per bucket of `bucketMs` from `sinceMs` (a bucket start) up to the bucket holding `untilMs`, oldest first, empty buckets left out. */
  ingest(sinceMs: number, untilMs: number, bucketMs: number): Promise<IngestBucket[]>;
  /** The `limit` largest categories, largest first. */
  categories(limit: number): Promise<CategoryCount[]>;
}
