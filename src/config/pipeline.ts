import { z } from 'zod';

/** A source's name: what `?source=`, `blend`, `fallback` and the responses call it. */
export const SOURCE_NAME = /^[a-z][a-z0-9-]{0,39}$/;
const sourceName = z.string().regex(SOURCE_NAME, 'must be lowercase letters, digits and -, starting with a letter (at most 40)');

const common = {
  /** Candidates the source proposes at most per request (a shallow page asks for fewer). */
  candidates: z.number().int().min(1).max(1000).default(100),
  /**
   * The source's normalised best score below which its answer is noise: it contributes nothing and
   * the next source fills in. Scores are normalised per source (see docs): 0 turns the floor off.
   */
  floor: z.number().min(0).max(10).default(0),
};

const modelSource = z.strictObject({ type: z.literal('model'), ...common, floor: common.floor.default(0.05) });

const itemToItemSource = z.strictObject({
  type: z.literal('item-to-item'),
  /** embedding: cosine over the serving model's item vectors; cooccurrence: users in common (computed by the retrain job); content: TF-IDF over the items' categories and labels (works for items nobody touched yet). */
  method: z.enum(['embedding', 'cooccurrence', 'content']).default('embedding'),
  /** The user's most recent positive items whose neighbours are proposed. */
  recentItems: z.number().int().min(1).max(50).default(10),
  ...common,
  floor: common.floor.default(0.01),
});

const userToUserSource = z.strictObject({
  type: z.literal('user-to-user'),
  /** Most similar users (cosine between the serving model's user vectors) asked. */
  neighbours: z.number().int().min(1).max(200).default(20),
  /** Each neighbour's most recent positive items considered (kept in the snapshot by the retrain job). */
  recentItems: z.number().int().min(1).max(100).default(20),
  ...common,
});

const latestSource = z.strictObject({ type: z.literal('latest'), ...common });

const labelMatch = z.strictObject({ key: z.string().min(1).max(64), value: z.string().max(256) });

const leaderboardSource = z.strictObject({
  type: z.literal('leaderboard'),
  /** Days of positive feedback counted, back from the clock; 0 = all of it. */
  windowDays: z.number().min(0).max(36_500).default(0),
  /** Feedback this many days old counts half; null = no decay (every counted interaction weighs the same). */
  halfLifeDays: z.number().positive().max(36_500).nullable().default(null),
  /** What "now" is for the window and the decay: the wall clock, or the newest interaction stored (imported history). */
  clock: z.enum(['now', 'data']).default('now'),
  /** Only items in this category. */
  category: z.string().min(1).max(64).optional(),
  /** Only items with this label value. */
  label: labelMatch.optional(),
  /**
   * What one interaction counts: `rating` for a rating above the dislike threshold, an event type
   * for its events. Default: ratings 1, events their EVENT_TYPES weight.
   */
  feedback: z.record(z.string(), z.number().min(0).max(1e6)).optional(),
  ...common,
});

export const sourceSchema = z.discriminatedUnion('type', [modelSource, itemToItemSource, userToUserSource, latestSource, leaderboardSource]);
export type SourceConfig = z.infer<typeof sourceSchema>;
export type SourceType = SourceConfig['type'];
export type LeaderboardConfig = z.infer<typeof leaderboardSource>;

const oneMatcher = (r: { category?: unknown; label?: unknown; items?: unknown }): boolean => [r.category, r.label, r.items].filter((m) => m !== undefined).length === 1;

const boostRule = z
  .strictObject({
    type: z.literal('boost'),
    name: z.string().max(64).optional(),
    /** The ranked score is multiplied by this: above 1 boosts, below 1 buries, 0 removes. */
    factor: z.number().min(0).max(1000),
    category: z.string().min(1).max(64).optional(),
    label: labelMatch.optional(),
    items: z.array(z.string().min(1).max(256)).min(1).max(10_000).optional(),
  })
  .refine(oneMatcher, { message: 'name exactly one of category, label or items' });

const isoDate = z.iso.datetime({ offset: true }).transform((v) => Date.parse(v));

const pinRule = z
  .strictObject({
    type: z.literal('pin'),
    name: z.string().max(64).optional(),
    /** Promoted items, placed from `slot` on in this order (those the request may not show are skipped). */
    items: z.array(z.string().min(1).max(256)).min(1).max(20),
    /** 1-based position of the first pinned item. */
    slot: z.number().int().min(1).max(1000),
    /** Share of requests that get the pin (drawn per request). */
    share: z.number().min(0).max(1).default(1),
    from: isoDate.optional(),
    until: isoDate.optional(),
  })
  .refine((r) => r.from === undefined || r.until === undefined || r.from < r.until, { message: 'from must be before until', path: ['until'] });

export const ruleSchema = z.union([boostRule, pinRule]);
export type RuleConfig = z.infer<typeof ruleSchema>;

export const RANKER_TYPES = ['learned', 'priority', 'weighted'] as const;
export type RankerType = (typeof RANKER_TYPES)[number];

const rankerSchema = z.strictObject({
  /**
   * learned: a factorization machine fit by the retrain job over the sources' scores and the items'
   * categories and labels, kept only when it beats the model alone on validation (else priority);
   * priority: by blend order, then each source's own order; weighted: Σ weight × normalised score.
   */
  type: z.enum(RANKER_TYPES).default('learned'),
  /** weighted: a weight per blended source (missing: 1). */
  weights: z.record(z.string(), z.number().min(0).max(1000)).optional(),
  /** learned: latent factors of the pairwise terms (0 = a logistic model). */
  factors: z.number().int().min(0).max(32).default(8),
  epochs: z.number().int().min(1).max(500).default(30),
  /** learned: sampled negatives per held-out positive. */
  negatives: z.number().int().min(1).max(200).default(20),
  /** learned: item categories as features. */
  categories: z.boolean().default(true),
  /**
   * learned: the item and user label keys whose values are features (each key=value one feature,
   * crossed by the factorization). Only low-cardinality labels help: a title or a zip code is an
   * id in disguise, and on a few thousand validation positives it overfits.
   */
  itemLabels: z.array(z.string().min(1).max(64)).max(50).default([]),
  userLabels: z.array(z.string().min(1).max(64)).max(50).default([]),
});

const DEFAULT_SOURCE_INPUTS: Record<string, z.input<typeof sourceSchema>> = {
  model: { type: 'model' },
  'item-to-item': { type: 'item-to-item' },
  'user-to-user': { type: 'user-to-user' },
  latest: { type: 'latest' },
  popular: { type: 'leaderboard' },
  trending: { type: 'leaderboard', windowDays: 7, halfLifeDays: 2 },
};
const DEFAULT_SOURCES: Record<string, SourceConfig> = Object.fromEntries(Object.entries(DEFAULT_SOURCE_INPUTS).map(([name, s]) => [name, sourceSchema.parse(s)]));

export const pipelineSchema = z
  .strictObject({
    /** Sources by name; these merge over the built-in ones (null removes a built-in). */
    sources: z.record(sourceName, sourceSchema.nullable()).default({}),
    /** Sources whose candidates are merged and ranked, highest priority first. */
    blend: z.array(sourceName).min(1).max(20).default(['model', 'item-to-item', 'user-to-user', 'popular']),
    /** Sources that fill the list, in order, when the blend gives fewer items than asked (or all its sources fell below their floors). */
    fallback: z.array(sourceName).max(20).default(['item-to-item', 'popular', 'latest']),
    /** The leaderboard `GET /popular` serves. */
    popular: sourceName.default('popular'),
    ranker: rankerSchema.default({ type: 'learned', factors: 8, epochs: 30, negatives: 20, categories: true, itemLabels: [], userLabels: [] }),
    rules: z.array(ruleSchema).max(100).default([]),
    /** New items' score × (1 + boost · 2^(−age / halfLifeDays)); age from the item's creation. */
    freshness: z.strictObject({ boost: z.number().positive().max(100), halfLifeDays: z.number().positive().max(3650) }).nullable().default(null),
    diversity: z
      .strictObject({
        /** Maximal marginal relevance: λ·relevance − (1−λ)·max cosine to the items above; null = off. */
        mmrLambda: z.number().min(0).max(1).nullable().default(null),
        /** At most this many items of one category in every block of `window` consecutive positions; null = off. */
        maxPerCategory: z.number().int().min(1).max(1000).nullable().default(null),
        window: z.number().int().min(1).max(100).default(10),
      })
      .default({ mmrLambda: null, maxPerCategory: null, window: 10 }),
    paging: z
      .strictObject({
        /** Deepest position a cursor reaches (bounds a list's cost and memory). */
        maxDepth: z.number().int().min(10).max(2000).default(200),
        /** How long a ranked list stays fixed for its cursors. */
        ttlSeconds: z.number().int().min(1).max(86_400).default(600),
      })
      .default({ maxDepth: 200, ttlSeconds: 600 }),
  })
  .transform((p, ctx) => {
    const sources: Record<string, SourceConfig> = {};
    for (const [name, spec] of Object.entries({ ...DEFAULT_SOURCES, ...p.sources })) if (spec !== null) sources[name] = structuredClone(spec);
    const known = (list: readonly string[], field: string): void =>
      list.forEach((name, k) => {
        if (!sources[name]) ctx.addIssue({ code: 'custom', path: [field, k], message: `no source named "${name}" (sources: ${Object.keys(sources).join(', ')})` });
      });
    known(p.blend, 'blend');
    known(p.fallback, 'fallback');
    if (new Set(p.blend).size !== p.blend.length) ctx.addIssue({ code: 'custom', path: ['blend'], message: 'names a source twice' });
    if (sources[p.popular]?.type !== 'leaderboard') ctx.addIssue({ code: 'custom', path: ['popular'], message: `must name a leaderboard source ("${p.popular}" is not one)` });
    known(Object.keys(p.ranker.weights ?? {}), 'ranker.weights');
    return { ...p, sources };
  });

export type PipelineConfig = z.output<typeof pipelineSchema>;

/** The pipeline when no file configures one. */
export const DEFAULT_PIPELINE: PipelineConfig = pipelineSchema.parse({});

/** Names of the leaderboard sources (computed in the background, served by /popular and /leaderboards). */
export function leaderboards(p: PipelineConfig): [string, LeaderboardConfig][] {
  return Object.entries(p.sources).filter((e): e is [string, LeaderboardConfig] => e[1].type === 'leaderboard');
}
