import { z } from 'zod';
import { MODEL_NAMES } from '../../models/model.js';
import { externalId, pathId } from './common.js';

const booleanParam = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const limit = z.coerce.number().int('must be an integer').min(1, 'must be between 1 and 100').max(100, 'must be between 1 and 100').default(10);

export const MAX_EXCLUDED_IDS = 500;

/** `category=a&category=b` (any of); each non-empty. */
const categories = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : [v]))
  .pipe(z.array(z.string().min(1, 'must not be empty').max(64, 'must be at most 64 characters')).max(50, 'at most 50 categories'));

/** `exclude=id1,id2`: up to 500 item ids. */
const excluded = z
  .string()
  .max(MAX_EXCLUDED_IDS * 257, 'is too long')
  .transform((v) => v.split(',').filter((id) => id !== ''))
  .pipe(z.array(z.string().max(256, 'ids must be at most 256 characters')).max(MAX_EXCLUDED_IDS, `must list at most ${MAX_EXCLUDED_IDS} ids`));

const filters = {
  category: categories.optional(),
  exclude: excluded.optional(),
  /** Admins only (bearer token): also return hidden items. */
  include_hidden: booleanParam.default(false),
};

export const recommendParams = z.strictObject({ id: pathId });
export const recommendQuery = z.strictObject({
  limit,
  exclude_seen: booleanParam.default(true),
  /** Per item, the user's own interactions that contributed most ("because you liked X"). */
  explain: booleanParam.default(false),
  model: z.enum(MODEL_NAMES).optional(),
  ...filters,
});

export const similarParams = z.strictObject({ id: pathId });
export const similarQuery = z.strictObject({
  limit,
  model: z.enum(MODEL_NAMES).optional(),
  ...filters,
});

const scoredItems = z.array(
  z.object({
    itemId: z.string(),
    score: z.number(),
    /** With `explain=true`: items of the user's own history behind this one, strongest first (model weight or cosine); empty where the model cannot say. */
    because: z.array(z.object({ itemId: z.string(), weight: z.number() })).optional(),
  }),
);

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

export const similarUsersQuery = z.strictObject({ limit, model: z.enum(MODEL_NAMES).optional() });
export const similarUsersResponse = z.object({
  userId: z.string(),
  model: z.string(),
  modelVersion: z.string(),
  users: z.array(z.object({ userId: z.string(), score: z.number().describe('cosine between user vectors') })),
});

/** Non-personalised lists: the same filters as recommendations. */
export const listQuery = z.strictObject({ limit, ...filters });
export const popularResponse = z.object({
  /** When the ranking was computed (positive feedback, recency-weighted; see README). */
  computedAt: z.string().nullable(),
  items: scoredItems,
});
export const latestResponse = z.object({
  items: z.array(z.object({ itemId: z.string(), createdAt: z.string() })),
});

/**
 * An anonymous session: the items someone interacted with (optionally with ratings, same order),
 * folded into the serving model without storing anything.
 */
export const sessionBody = z
  .strictObject({
    items: z.array(externalId).min(1, 'must name at least one item').max(500, 'at most 500 items'),
    ratings: z.array(z.number().finite()).max(500).optional(),
  })
  .refine((b) => b.ratings === undefined || b.ratings.length === b.items.length, { message: 'must have one rating per item', path: ['ratings'] });
export const sessionQuery = z.strictObject({ limit, model: z.enum(MODEL_NAMES).optional(), explain: booleanParam.default(false), ...filters });
export const sessionResponse = recommendResponse.omit({ userId: true });
