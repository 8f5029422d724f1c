import { z } from 'zod';
import { externalId, recommendationId, timestamp } from './common.js';

export interface RatingLimits {
  ratingMin: number;
  ratingMax: number;
  maxBatchSize: number;
}

/** `POST /ratings` body: one rating, or `{ ratings: [...] }`; the rating range comes from config. */
export function ratingsBodySchema(limits: RatingLimits) {
  const rating = z.strictObject({
    userId: externalId,
    itemId: externalId,
    rating: z
      .number()
      .min(limits.ratingMin, `must be between ${limits.ratingMin} and ${limits.ratingMax}`)
      .max(limits.ratingMax, `must be between ${limits.ratingMin} and ${limits.ratingMax}`),
    timestamp: timestamp.optional(),
    recommendationId: recommendationId.optional(),
  });
  const batch = z.strictObject({
    ratings: z
      .array(rating)
      .min(1, 'must contain at least one rating')
      .max(limits.maxBatchSize, `must contain at most ${limits.maxBatchSize} ratings`),
  });
  return z.union([batch, rating]);
}

export type RatingsBody = z.output<ReturnType<typeof ratingsBodySchema>>;
