import { z } from 'zod';
import type { SlicedBatch } from '../sliced-validation.js';
import { externalId, recommendationId, timestamp } from './common.js';

/** One event of `POST /events`, of a declared type. */
function eventSchema(types: readonly string[]) {
  return z.strictObject({
    userId: externalId,
    itemId: externalId,
    type: z.enum(types as [string, ...string[]], { message: `must be one of ${types.join(', ')}` }),
    value: z.number().min(0, 'must not be negative').max(1e9, 'must be at most 1e9').optional(),
    timestamp: timestamp.optional(),
    eventId: z
      .string()
      .min(1, 'must not be empty')
      .max(128, 'must be at most 128 characters')
      .optional(),
    recommendationId: recommendationId.optional(),
  });
}

/** The batch form's elements, for validation in time slices. */
export const eventsBatch = (maxBatchSize: number, types: readonly string[]): SlicedBatch => ({ key: 'events', element: eventSchema(types), max: maxBatchSize, noun: 'events' });

/** `POST /events` body: one event, or `{ events: [...] }`. */
export function eventsBodySchema(maxBatchSize: number, types: readonly string[]) {
  const event = eventSchema(types);
  const batch = z.strictObject({
    events: z
      .array(event)
      .min(1, 'must contain at least one event')
      .max(maxBatchSize, `must contain at most ${maxBatchSize} events`),
  });
  return z.union([batch, event]);
}

export type EventsBody = z.output<ReturnType<typeof eventsBodySchema>>;
