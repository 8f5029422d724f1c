import { z } from 'zod';

/** What a label is to the content features: one categorical value, a number, text, or nothing. */
export const LABEL_KINDS = ['categorical', 'numeric', 'text', 'ignore'] as const;
export type LabelKind = (typeof LABEL_KINDS)[number];

const labelKind = z.union([
  z.enum(LABEL_KINDS),
  z.strictObject({
    kind: z.literal('numeric'),
    /** The value's range: it is scaled to [0, 1] over it (values outside are clamped). */
    min: z.number(),
    max: z.number(),
  }),
]);
export type LabelSpec = z.infer<typeof labelKind>;

const side = z.strictObject({
  /** Label keys and what they are; undeclared keys follow `otherLabels`. */
  labels: z.record(z.string().min(1).max(64), labelKind).default({}),
  otherLabels: z.enum(['categorical', 'ignore']).default('ignore'),
});

export const featuresSchema = z
  .strictObject({
    items: side.extend({ /** Item categories as features. */ categories: z.boolean().default(true) }).default({ labels: {}, otherLabels: 'ignore', categories: true }),
    users: side.default({ labels: {}, otherLabels: 'ignore' }),
    /** Features one item or user may have at most: a PUT with more is refused with 400. */
    maxPerEntity: z.number().int().min(1).max(10_000).default(200),
    /** Distinct features a model keeps at most (the most frequent); rarer ones are dropped. */
    vocabulary: z.number().int().min(10).max(5_000_000).default(100_000),
    /** Hash buckets for text n-grams (words, word pairs, character trigrams), per label. */
    textBuckets: z.number().int().min(16).max(1_048_576).default(4096),
  })
  .superRefine((f, ctx) => {
    for (const s of ['items', 'users'] as const) {
      for (const [key, spec] of Object.entries(f[s].labels)) {
        if (typeof spec === 'object' && !(spec.max > spec.min)) ctx.addIssue({ code: 'custom', path: [s, 'labels', key, 'max'], message: 'must be above min' });
      }
    }
  });

export type FeaturesConfig = z.output<typeof featuresSchema>;
export const DEFAULT_FEATURES: FeaturesConfig = featuresSchema.parse({});
