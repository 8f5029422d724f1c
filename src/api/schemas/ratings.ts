import { z } from 'zod';
import type { SlicedBatch } from '../sliced-validation.js';
import { externalId, recommendationId, timestamp } from './common.js';

export interface RatingLimits {
  ratingMin: number;
  ratingMax: number;
  maxBatchSize: number;
}

/** One rating of `POST /ratings`; the range comes from config. */
function ratingSchema(limits: RatingLimits) {
  return z.strictObject({
    userId: externalId,
    itemId: externalId,
    rating: z
      .number()
      .min(limits.ratingMin, `must be between ${limits.ratingMin} and ${limits.ratingMax}`)
      .max(limits.ratingMax, `must be between ${limits.ratingMin} and ${limits.ratingMax}`),
    timestamp: timestamp.optional(),
    recommendationId: recommendationId.optional(),
  });
}

/** The batch form's elements, for validation in time slices. */
export const ratingsBatch = (limits: RatingLimits): SlicedBatch => ({ key: 'ratings', element: ratingSchema(limits), max: limits.maxBatchSize, noun: 'ratings' });

/** `POST /ratings` body: one rating, or `{ ratings: [...] }`; the rating range comes from config. */
export function ratingsBodySchema(limits: RatingLimits) {
  const rating = ratingSchema(limits);
  const batch = z.strictObject({
    ratings: z
      .array(rating)
      .min(1, 'must contain at least one rating')
      .max(limits.maxBatchSize, `must contain at most ${limits.maxBatchSize} ratings`),
  });
  return z.union([batch, rating]);
}

export type RatingsBody = z.output<ReturnType<typeof ratingsBodySchema>>;
