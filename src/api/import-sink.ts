import { z } from 'zod';
import type { CatalogueRepository, ItemMeta } from '../db/catalogue-repository.js';
import type { BulkKind } from '../db/bulk-repository.js';
import type { EventsRepository } from '../db/events-repository.js';
import type { RatingsRepository } from '../db/ratings-repository.js';
import { AppError } from '../errors.js';
import type { FeaturesConfig } from '../config/features.js';
import { checkFeatures } from './feature-check.js';
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
  /** The content-feature schema every imported item's and user's labels must fit. */
  features: FeaturesConfig;
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
    // The batch forms alone: a union's failure names no field, so the bad line could not be found.
    ratings: ratingsBodySchema(o.limits).options[0],
    events: eventsBodySchema(o.limits.maxBatchSize, o.eventTypes).options[0],
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
      items.forEach((it, k) => checkFeatures(o.features, 'items', it.categories, it.labels, `body.items.${k}`));
      const { version } = await o.writes.putItems(items, Date.now());
      o.onCatalogueChange(items.map(({ itemId, categories, labels, hidden, availableFrom, availableUntil }) => ({ itemId, categories, labels, hidden, availableFrom, availableUntil })), version);
      return items.length;
    },
    users: async (records) => {
      const { users: rows } = parse(schemas.users, { users: records });
      rows.forEach((u, k) => checkFeatures(o.features, 'users', [], u.labels, `body.users.${k}`));
      await o.catalogue.putUsers(rows, Date.now());
      return rows.length;
    },
  };
  return { write: (kind, records) => writers[kind](records) };
}
