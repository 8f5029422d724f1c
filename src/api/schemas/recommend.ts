import { z } from 'zod';
import { MODEL_NAMES } from '../../models/model.js';
import { SOURCE_NAME } from '../../config/pipeline.js';
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

/** The viewer of a non-personal list: feedback by this user on its items is attributed to it. */
const viewer = {
  user_id: pathId.optional().describe('The user this list is shown to, so their later feedback on its items is attributed to it (online metrics).'),
};

const recommendationIdField = z.string().describe('This answer\'s id: send it back with feedback on its items (recommendationId on POST /events or /ratings) for exact attribution, and with POST /impressions to say what was rendered.');

const filters = {
  category: categories.optional(),
  exclude: excluded.optional(),
  /** Admins only (bearer token): also return hidden items. */
  include_hidden: booleanParam.default(false),
};

const sourceParam = z.string().regex(SOURCE_NAME, 'must be a source name (see GET /admin/config)').describe('One configured source alone, in its own order (no ranker, rules or floor): what it contributes.');

export const recommendParams = z.strictObject({ id: pathId });
export const recommendQuery = z.strictObject({
  limit,
  offset: z.coerce.number().int('must be an integer').min(0, 'must be at least 0').max(10_000, 'must be at most 10000').default(0).describe('Items of the ranked list to skip (at most the pipeline\'s paging.maxDepth deep).'),
  cursor: z.string().min(1).max(200, 'is not a cursor this API issued').optional().describe('The nextCursor of an earlier answer: the next page of the same ranked list (stable for the pipeline\'s paging.ttlSeconds); 410 once it expired.'),
  source: sourceParam.optional(),
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
  source: sourceParam.optional().describe('An item-to-item source by name (e.g. one by co-occurrence) instead of the model\'s own nearest items.'),
  ...viewer,
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

const pipelineItems = z.array(
  z.object({
    itemId: z.string(),
    score: z.number().describe("The ranker's relevance after rules: what ordered the list (higher first)."),
    source: z.string().describe('The source credited with the item: a blended source, a fallback source, or pin.'),
    because: z.array(z.object({ itemId: z.string(), weight: z.number() })).optional().describe("With explain=true: the user's own items behind this one, strongest first (model weight or cosine)."),
    sources: z.record(z.string(), z.number()).optional().describe('With explain=true: every source that proposed the item and its normalised score there.'),
  }),
);

const pipelineFields = {
  model: z.string().describe('The model whose vectors produced the items, or popularity.'),
  modelVersion: z.string().nullable(),
  source: z.enum(['model', 'fallback']).describe('model when the answer is personal (an item came from the model, item-to-item or user-to-user), fallback when only leaderboards, the latest list or pins answered.'),
  method: z.enum(['trained', 'fold-in', 'popularity']).describe("How the model scored the user: their trained vector, a fold-in of their current interactions, or not at all."),
  ranker: z.enum(['learned', 'priority', 'weighted']).describe('What ordered the blended candidates.'),
  items: pipelineItems,
  notes: z.array(z.object({ source: z.string(), note: z.string() })).describe('Sources that contributed nothing and why (below their confidence floor, no model yet, …).'),
  nextCursor: z.string().nullable().describe('Pass as cursor for the next page of the same list; null at its end.'),
  intraListSimilarity: z.number().nullable().describe("Mean pairwise cosine of the page's items in the serving model (higher: more alike); null when it cannot say."),
  recommendationId: recommendationIdField,
};

export const recommendResponse = z.object({
  userId: z.string(),
  ...pipelineFields,
  experiment: z.object({ id: z.string(), variant: z.string() }).nullable().describe('The running experiment this answer was part of and the variant that served it (interleaved: two variants mixed); null outside any.'),
});

export const similarResponse = z.object({
  itemId: z.string(),
  model: z.string(),
  modelVersion: z.string().nullable(),
  source: z.enum(['model', 'fallback']),
  items: z.array(z.object({ itemId: z.string(), score: z.number(), source: z.string() })),
  recommendationId: recommendationIdField,
});

export const similarUsersQuery = z.strictObject({ limit, model: z.enum(MODEL_NAMES).optional() });
export const similarUsersResponse = z.object({
  userId: z.string(),
  model: z.string(),
  modelVersion: z.string(),
  users: z.array(z.object({ userId: z.string(), score: z.number().describe('cosine between user vectors') })),
});

/** Non-personalised lists: the same filters as recommendations. */
export const listQuery = z.strictObject({ limit, ...viewer, ...filters });
export const leaderboardParams = z.strictObject({ name: z.string().regex(SOURCE_NAME, 'must be a leaderboard name') });
export const popularResponse = z.object({
  name: z.string().describe('The leaderboard (pipeline.popular for GET /popular).'),
  /** When the leaderboards were computed. */
  computedAt: z.string().nullable(),
  items: scoredItems,
  recommendationId: recommendationIdField,
});
export const latestResponse = z.object({
  items: z.array(z.object({ itemId: z.string(), createdAt: z.string() })),
  recommendationId: recommendationIdField,
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
export const sessionQuery = z.strictObject({
  limit,
  offset: z.coerce.number().int('must be an integer').min(0).max(10_000).default(0),
  source: sourceParam.optional(),
  model: z.enum(MODEL_NAMES).optional(),
  explain: booleanParam.default(false),
  ...filters,
});
export const sessionResponse = z.object(pipelineFields);
