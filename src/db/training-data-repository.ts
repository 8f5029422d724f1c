
/** What a training run saw of the database: enough to tell whether new data arrived since. */
export interface DataWatermark {
  ratings: number;
  events: number;
  users: number;
  items: number;
  lastRatingId: number;
  lastEventId: number;
  /** Latest write time (ms) among the rows read; 0 for an empty database. */
  lastIngestAt: number;
}

export interface TrainingRow {
  user: string;
  item: string;
  /** Present for ratings. */
  rating?: number;
  /** Present for events: the event's value × its type's weight. */
  weight?: number;
  ts: number;
}

export interface TrainingDataRepository {
  /**
   * Every rating and event up to a watermark taken first, in one read transaction, so rows
   * ingested while a long read runs do not make the data set inconsistent with its watermark.
   */
  read(eventWeights: Readonly<Record<string, number>>): Promise<{ rows: TrainingRow[]; watermark: DataWatermark }>;
  /** What the database holds now. */
  watermark(): Promise<DataWatermark>;
  /** The newest rating and event row ids (0 when none): how much arrived since a watermark, in O(1). */
  latestIds(): Promise<{ lastRatingId: number; lastEventId: number }>;
}
