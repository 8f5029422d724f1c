import { z } from 'zod';
import { SOURCE_NAME } from '../../config/pipeline.js';
import { MODEL_NAMES } from '../../models/model.js';
import { GROUP_DIMENSIONS } from '../../online/metrics-report.js';
import { externalId, recommendationId } from './common.js';

const seenReport = z.strictObject({
  recommendationId: recommendationId.describe('The answer this report is about.'),
  items: z.array(externalId).max(100, 'must list at most 100 items').describe('The items of that answer the client really rendered; the others count as not seen.'),
});
export const impressionsBody = z.union([z.strictObject({ reports: z.array(seenReport).min(1, 'must contain at least one report').max(1000, 'must contain at most 1000 reports') }), seenReport]);
export const impressionsResponse = z.object({
  accepted: z.number().int().describe('Reports queued for the next impression batch.'),
  dropped: z.number().int().describe('Reports refused because the impression buffer is full (IMPRESSION_BUFFER_BYTES); send them again later.'),
});

const variantName = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1-32 letters, digits, _ or -');
const variant = z.strictObject({
  name: variantName.describe('The variant\'s name in reports.'),
  share: z.number().gt(0, 'must be above 0').max(1, 'must be at most 1').optional().describe('Share of users (A/B); the shares must sum to 1. Without any share, users split evenly.'),
  model: z.enum(MODEL_NAMES).optional().describe("A model type: the variant serves that model's active version (default: the serving model)."),
  version: z.string().min(1).max(64).optional().describe('With model: the version the variant is meant to compare; it must be that model\'s active version when the experiment starts (impressions record the version that really served).'),
  source: z.string().regex(SOURCE_NAME, 'must be a source name').optional().describe('One configured pipeline source alone instead of the whole pipeline.'),
});
export const experimentBody = z
  .strictObject({
    name: z.string().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
    mode: z.enum(['ab', 'interleave']).default('ab').describe('ab: users split between variants by a hash of their id; interleave: two variants mixed into each list by team draft.'),
    variants: z.array(variant).min(2, 'must name at least two variants').max(8, 'must name at most 8 variants').describe('The first variant is the control every other is compared with.'),
    metric: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'must be positive, rating or an event type').default('positive').describe('What counts as a success on a shown item: positive (any positive feedback), rating, or one event type.'),
    alpha: z.number().gt(0, 'must be in (0, 0.2]').max(0.2, 'must be in (0, 0.2]').default(0.05).describe('The false-positive rate of the sequential test, whenever the report is looked at.'),
    minimumEffect: z.number().gt(0, 'must be above 0').max(1, 'must be at most 1').optional().describe("The effect the test is tuned to: a difference of per-user CTR (A/B, default 0.005) or of mean preference (interleave, default 0.05)."),
    minUsers: z.number().int().min(2, 'must be at least 2').max(10_000_000).default(100).describe('No verdict before each variant (interleave: the experiment) has this many users.'),
  })
  .superRefine((body, ctx) => {
    const names = new Set(body.variants.map((v) => v.name));
    if (names.size !== body.variants.length) ctx.addIssue({ code: 'custom', path: ['variants'], message: 'variant names must differ' });
    if (body.mode === 'interleave' && body.variants.length !== 2) ctx.addIssue({ code: 'custom', path: ['variants'], message: 'interleaving mixes exactly two variants' });
    const shares = body.variants.map((v) => v.share);
    if (shares.some((s) => s !== undefined)) {
      if (shares.some((s) => s === undefined)) ctx.addIssue({ code: 'custom', path: ['variants'], message: 'give every variant a share, or none' });
      else if (Math.abs(shares.reduce((a: number, s) => a + (s ?? 0), 0) - 1) > 1e-6) ctx.addIssue({ code: 'custom', path: ['variants'], message: 'shares must sum to 1' });
    }
    body.variants.forEach((v, k) => {
      if (v.version && !v.model) ctx.addIssue({ code: 'custom', path: ['variants', k, 'version'], message: 'needs model' });
    });
  });

export const experimentParams = z.strictObject({ id: z.string().uuid('is not an experiment id') });
export const concludeBody = z.strictObject({ winner: variantName.optional().describe('The winner to record; default: the sequential test\'s, else "no difference".') });
export const promoteBody = z.strictObject({ variant: variantName.optional().describe('The variant to promote; default: the recorded winner.') });

/** [low, high]; null while there are fewer than two users to estimate a variance from. */
const interval = z.tuple([z.number(), z.number()]).nullable();
const test = z.object({
  effect: z.number(),
  interval95: interval.describe('Fixed-horizon 95% interval: valid only for a sample size fixed in advance.'),
  alwaysValid: interval.describe('Always-valid (1 - alpha) interval: valid at every look.'),
  likelihoodRatio: z.number(),
  pValue: z.number().describe('min(1, 1/likelihood ratio) at this look.'),
  significant: z.boolean(),
});
const report = z.object({
  computedAt: z.string(),
  metric: z.string(),
  variants: z.array(
    z.object({ name: z.string(), users: z.number(), impressions: z.number(), slots: z.number(), positives: z.number(), ctr: z.number().nullable(), perUserCtr: z.number(), interval95: interval }),
  ),
  comparisons: z.array(z.object({ variant: z.string(), against: z.string(), test })),
  interleaving: z
    .object({ users: z.number(), impressions: z.number(), wins: z.object({ first: z.number(), second: z.number(), ties: z.number() }), preference: z.number(), test })
    .nullable(),
  decision: z.object({ state: z.enum(['collecting', 'running', 'decided']), winner: z.string().nullable(), reason: z.string() }),
  stoppingRule: z.string(),
});
export const experimentView = z.object({
  id: z.string(),
  name: z.string(),
  mode: z.enum(['ab', 'interleave']),
  status: z.enum(['running', 'stopped', 'concluded']),
  variants: z.array(z.object({ name: z.string(), share: z.number(), model: z.string().optional(), version: z.string().optional(), source: z.string().optional() })),
  metric: z.string(),
  alpha: z.number(),
  minimumEffect: z.number(),
  minUsers: z.number(),
  winner: z.string().nullable(),
  verdict: z.object({ decidedAt: z.string(), winner: z.string().nullable(), pValue: z.number(), effect: z.number() }).nullable(),
  createdAt: z.string(),
  stoppedAt: z.string().nullable(),
  concludedAt: z.string().nullable(),
  report: report.nullable().describe('The latest look (recomputed every STATS_REFRESH_MS while impressions arrive); null before the first.'),
});
export const experimentList = z.object({ experiments: z.array(experimentView) });

export const onlineQuery = z.strictObject({
  days: z.coerce.number().int('must be an integer').min(1, 'must be between 1 and 3650').max(3650, 'must be between 1 and 3650').default(30).describe('The window: the last N days (UTC), today included.'),
  by: z
    .string()
    .default('model,variant')
    .transform((v) => v.split(',').filter((d) => d !== ''))
    .pipe(z.array(z.enum(GROUP_DIMENSIONS, { message: `must list dimensions among ${GROUP_DIMENSIONS.join(', ')}` })).max(GROUP_DIMENSIONS.length))
    .describe(`Comma-separated dimensions to group by, among ${GROUP_DIMENSIONS.join(', ')} (empty: one group).`),
});
const figures = {
  route: z.string().nullable().optional(),
  model: z.string().nullable().optional(),
  version: z.string().nullable().optional(),
  experiment: z.string().nullable().optional(),
  variant: z.string().nullable().optional(),
  lists: z.number(),
  slots: z.number().describe('Seen slots among the first k positions.'),
  positiveSlots: z.number(),
  ctr: z.number().nullable().describe('CTR@k: positiveSlots / slots.'),
  positiveRate: z.number().nullable().describe('Lists with any positive feedback / lists.'),
  conversions: z.record(z.string(), z.object({ count: z.number(), rate: z.number() })).describe('Attributed feedback by type, and per seen slot among the first k.'),
  coverage: z.number().nullable().describe('Distinct items shown in a day / visible catalogue items, averaged over the days.'),
  novelty: z.number().nullable().describe("Mean -log2 of a shown item's share of users (higher: less popular items)."),
};
export const onlineResponse = z.object({
  k: z.number(),
  computedAt: z.string().nullable(),
  catalogueItems: z.number(),
  groupBy: z.array(z.string()),
  totals: z.array(z.object(figures)),
  days: z.array(z.object({ day: z.string(), groups: z.array(z.object(figures)) })),
  sources: z.array(z.object({ source: z.string(), slots: z.number(), positiveSlots: z.number(), ctr: z.number().nullable() })),
  impressions: z.object({ recorded: z.number(), dropped: z.number(), written: z.number(), bufferedBytes: z.number() }).describe('This process\'s impression log since it started.'),
});

export const offPolicyQuery = z.strictObject({
  model: z.enum(MODEL_NAMES).describe("The policy to estimate: this model's active version, ranking each logged user's list."),
  limit: z.coerce.number().int().min(1, 'must be between 1 and 5000').max(5000, 'must be between 1 and 5000').default(1000).describe('The most recent explored impressions to use.'),
  days: z.coerce.number().int().min(1, 'must be between 1 and 3650').max(3650, 'must be between 1 and 3650').default(30),
});
export const offPolicyResponse = z.object({
  model: z.string(),
  modelVersion: z.string(),
  impressions: z.number(),
  slots: z.number(),
  matchedSlots: z.number(),
  ctr: z.number().nullable().describe('The self-normalised inverse-propensity estimate of the target\'s CTR per slot.'),
  standardError: z.number().nullable(),
  effectiveSlots: z.number(),
  loggedCtr: z.number().nullable().describe('The logging policy\'s CTR per slot on the same impressions.'),
  assumptions: z.array(z.string()),
});
