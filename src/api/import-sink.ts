import { z } from 'zod';
import type { CatalogueRepository, ItemMeta } from '../db/catalogue-repository.js';
import type { BulkKind } from '../db/bulk-repository.js';
import type { EventsRepository } from '../db/events-repository.js';
import type { RatingsRepository } from '../db/ratings-repository.js';
import { AppError } from '../errors.js';
import type { CatalogueChange } from '../serving/catalogue.js';
import type { CatalogueWrites } from '../db/thread/database-thread.js';
import type { ImportSink } from './routes/bulk.js';
import { toEventRecords, toRatingRecords } from './routes/ingest.js';
import { putItemsBody, putUserBody } from './schemas/catalogue.js';
import { externalId } from './schemas/common.js';
import { eventsBodySchema } from './schemas/events.js';
import { ratingsBodySchema, type RatingLimits } from './schemas/ratings.js';

export interface ImportSinkOptions {
  limits: RatingLimits;
  eventTypes: readonly string[];
  ratings: RatingsRepository;
  events: EventsRepository;
  catalogue: CatalogueRepository;
  writes: CatalogueWrites;
  onIngest: (kind: 'ratings' | 'events', userIds: readonly string[], written: number) => void;
  onCatalogueChange: (changes: CatalogueChange[], version: number) => void;
}

/** Validates a batch with the schema of its route (as `{ <kind>: [...] }`), naming the failing field as the route would. */
function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  throw new AppError(400, 'validation_failed', 'Invalid request', parsed.error.issues.map((i) => ({ path: ['body', ...i.path].join('.'), message: i.message })));
}

/** Bulk import through the same validation and repositories as the single routes: one transaction per batch. */
export function createImportSink(o: ImportSinkOptions): ImportSink {
  const schemas = {
    ratings: ratingsBodySchema(o.limits),
    events: eventsBodySchema(o.limits.maxBatchSize, o.eventTypes),
    items: putItemsBody(o.limits.maxBatchSize),
    users: z.strictObject({ users: z.array(putUserBody.extend({ userId: externalId })).max(o.limits.maxBatchSize) }),
  };
  const writers: Record<BulkKind, (records: unknown[]) => Promise<number>> = {
    ratings: async (records) => {
      const rows = toRatingRecords(parse(schemas.ratings, { ratings: records }), Date.now());
      const counts = await o.ratings.upsert(rows);
      o.onIngest('ratings', rows.map((r) => r.userId), counts.inserted + counts.updated);
      return rows.length;
    },
    events: async (records) => {
      const rows = toEventRecords(parse(schemas.events, { events: records }), Date.now());
      const counts = await o.events.insert(rows);
      o.onIngest('events', rows.map((e) => e.userId), counts.inserted);
      return rows.length;
    },
    items: async (records) => {
      const { items } = parse(schemas.items, { items: records }) as { items: ItemMeta[] };
      const { version } = await o.writes.putItems(items, Date.now());
      o.onCatalogueChange(items.map(({ itemId, categories, labels, hidden, availableFrom, availableUntil }) => ({ itemId, categories, labels, hidden, availableFrom, availableUntil })), version);
      return items.length;
    },
    users: async (records) => {
      const { users: rows } = parse(schemas.users, { users: records });
      await o.catalogue.putUsers(rows, Date.now());
      return rows.length;
    },
  };
  return { write: (kind, records) => writers[kind](records) };
}
