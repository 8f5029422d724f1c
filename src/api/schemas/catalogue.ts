import { z } from 'zod';
import type { SlicedBatch } from '../sliced-validation.js';
import { externalId, pathId } from './common.js';

const category = z.string().min(1, 'must not be empty').max(64, 'must be at most 64 characters');
const labels = z
  .record(z.string().min(1).max(64), z.string().max(256))
  .refine((o) => Object.keys(o).length <= 32, 'at most 32 labels');

/** A point in time for availability windows: ISO 8601 or epoch ms; the future is fine here. */
const instant = z
  .union([z.iso.datetime({ offset: true }), z.number().int('must be an integer (epoch milliseconds)')])
  .transform((v) => (typeof v === 'string' ? Date.parse(v) : v))
  .refine((ms) => ms >= 0 && ms <= Date.UTC(9999, 11, 31), 'must be between 1970 and 9999');

/** Item metadata; what PUT sends replaces what was stored (omitted fields take their defaults). */
export const itemMetaFields = {
  categories: z.array(category).max(50, 'at most 50 categories').default([]),
  hidden: z.boolean().default(false),
  availableFrom: z.union([instant, z.null()]).default(null),
  availableUntil: z.union([instant, z.null()]).default(null),
  labels: labels.default({}),
};

const windowOk = (v: { availableFrom: number | null; availableUntil: number | null }) =>
  v.availableFrom === null || v.availableUntil === null || v.availableFrom < v.availableUntil;
const windowIssue = { message: 'must be after availableFrom', path: ['availableUntil'] };

export const itemParams = z.strictObject({ id: pathId });
export const putItemBody = z.strictObject(itemMetaFields).refine(windowOk, windowIssue);

const itemWithId = () => z.strictObject({ itemId: externalId, ...itemMetaFields }).refine(windowOk, windowIssue);

/** The batch's elements, for validation in time slices. */
export const putItemsBatch = (maxBatchSize: number): SlicedBatch => ({ key: 'items', element: itemWithId(), max: maxBatchSize, noun: 'items' });

export function putItemsBody(maxBatchSize: number) {
  return z.strictObject({
    items: z
      .array(itemWithId())
      .min(1, 'must contain at least one item')
      .max(maxBatchSize, `must contain at most ${maxBatchSize} items`),
  });
}

export const itemResponse = z.object({
  itemId: z.string(),
  categories: z.array(z.string()),
  hidden: z.boolean(),
  availableFrom: z.string().nullable(),
  availableUntil: z.string().nullable(),
  labels: z.record(z.string(), z.string()),
  createdAt: z.string(),
  updatedAt: z.string().nullable(),
});

export const putItemsResponse = z.object({ inserted: z.number().int(), updated: z.number().int(), ignored: z.number().int() });

export const userParams = z.strictObject({ id: pathId });
export const putUserBody = z.strictObject({ labels: labels.default({}) });
export const erasedUserResponse = z.object({
  userId: z.string(),
  /** Rows deleted with the user's record. */
  erased: z.object({ ratings: z.number().int(), events: z.number().int() }),
});
export const userResponse = z.object({
  userId: z.string(),
  labels: z.record(z.string(), z.string()),
  createdAt: z.string(),
  updatedAt: z.string().nullable(),
});
