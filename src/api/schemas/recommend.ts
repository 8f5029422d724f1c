import { z } from 'zod';
import { MODEL_NAMES } from '../../models/model.js';
import { pathId } from './common.js';

const booleanParam = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const limit = z.coerce.number().int('must be an integer').min(1, 'must be between 1 and 100').max(100, 'must be between 1 and 100').default(10);

export const recommendParams = z.strictObject({ id: pathId });
export const recommendQuery = z.strictObject({
  limit,
  exclude_seen: booleanParam.default(true),
  model: z.enum(MODEL_NAMES).optional(),
});

export const similarParams = z.strictObject({ id: pathId });
export const similarQuery = z.strictObject({
  limit,
  model: z.enum(MODEL_NAMES).optional(),
});

const scoredItems = z.array(z.object({ itemId: z.string(), score: z.number() }));

export const recommendResponse = z.object({
  userId: z.string(),
  model: z.string(),
  modelVersion: z.string().nullable(),
  source: z.enum(['model', 'fallback']),
  method: z.enum(['trained', 'fold-in', 'popularity']),
  items: scoredItems,
});

export const similarResponse = z.object({
  itemId: z.string(),
  model: z.string(),
  modelVersion: z.string().nullable(),
  source: z.enum(['model', 'fallback']),
  items: scoredItems,
});
