/** A validated rating ready to store; `timestamp` is epoch milliseconds. */
export interface RatingRecord {
  userId: string;
  itemId: string;
  rating: number;
  timestamp: number;
}

/** A validated implicit event ready to store; `timestamp` is epoch milliseconds. */
export interface EventRecord {
  userId: string;
  itemId: string;
  /** A type declared in EVENT_TYPES. */
  type: string;
  value: number;
  timestamp: number;
  eventId?: string;
}

/** What a write did, row by row: reported back to the client. */
export interface WriteCounts {
  inserted: number;
  updated: number;
  ignored: number;
}
