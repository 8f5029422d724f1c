import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { EventsRepository } from '../../db/events-repository.js';
import type { EventRecord, RatingRecord } from '../../db/ingest-types.js';
import type { RatingsRepository } from '../../db/ratings-repository.js';
import type { WrittenFeedback } from '../../online/online.js';
import { bodyErrors, writeCountsResponse } from '../schemas/common.js';
import { eventsBatch, eventsBodySchema, type EventsBody } from '../schemas/events.js';
import { ratingsBatch, ratingsBodySchema, type RatingsBody, type RatingLimits } from '../schemas/ratings.js';

export interface IngestRoutesOptions extends RatingLimits {
  ratings: RatingsRepository;
  events: EventsRepository;
  /** Called after a write commits, e.g. to invalidate caches or count towards a retrain. */
  onIngest?: (kind: 'ratings' | 'events', userIds: readonly string[], inserted: number) => void;
  /** Called with what was written, for attribution to the answers that showed the items. */
  onFeedback?: (feedback: readonly WrittenFeedback[]) => void;
  /** Event types declared in configuration (EVENT_TYPES). */
  eventTypes: readonly string[];
}

const ratingsOf = (body: RatingsBody) => ('ratings' in body ? body.ratings : [body]);
const eventsOf = (body: EventsBody) => ('events' in body ? body.events : [body]);

export function toRatingRecords(body: RatingsBody, now: number): RatingRecord[] {
  return ratingsOf(body).map((r) => ({ userId: r.userId, itemId: r.itemId, rating: r.rating, timestamp: r.timestamp ?? now }));
}

export function toEventRecords(body: EventsBody, now: number): EventRecord[] {
  return eventsOf(body).map((e) => ({
    userId: e.userId,
    itemId: e.itemId,
    type: e.type,
    value: e.value ?? 1,
    timestamp: e.timestamp ?? now,
    eventId: e.eventId,
    ...(e.timestamp === undefined ? { stamped: true } : {}),
  }));
}

export const ingestRoutes: FastifyPluginAsync<IngestRoutesOptions> = async (fastify, opts) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();

  app.post('/ratings', {
    config: { scope: 'write', batch: ratingsBatch(opts) },
    schema: { body: ratingsBodySchema(opts), response: { 200: writeCountsResponse, ...bodyErrors } },
    handler: async (request) => {
      const records = toRatingRecords(request.body, Date.now());
      const counts = await opts.ratings.upsert(records);
      opts.onIngest?.('ratings', records.map((r) => r.userId), counts.inserted + counts.updated);
      const list = ratingsOf(request.body);
      opts.onFeedback?.(records.map((r, k) => ({ userId: r.userId, itemId: r.itemId, type: 'rating', rating: r.rating, at: r.timestamp, recommendationId: list[k].recommendationId })));
      return counts;
    },
  });

  app.post('/events', {
    config: { scope: 'write', batch: eventsBatch(opts.maxBatchSize, opts.eventTypes) },
    schema: { body: eventsBodySchema(opts.maxBatchSize, opts.eventTypes), response: { 200: writeCountsResponse, ...bodyErrors } },
    handler: async (request) => {
      const records = toEventRecords(request.body, Date.now());
      const counts = await opts.events.insert(records);
      opts.onIngest?.('events', records.map((e) => e.userId), counts.inserted);
      const list = eventsOf(request.body);
      opts.onFeedback?.(records.map((e, k) => ({ userId: e.userId, itemId: e.itemId, type: e.type, rating: null, at: e.timestamp, recommendationId: list[k].recommendationId })));
      return counts;
    },
  });
};
