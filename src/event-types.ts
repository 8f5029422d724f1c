import { z } from 'zod';

/**
 * What an event type means: `positive` (evidence the user likes the item, counted by its weight in
 * training and popularity), `negative` (a dislike: the pair leaves the training positives and the
 * user's recommendations) or `read` (stored, shown in history, not used as a signal).
 */
export type Polarity = 'positive' | 'negative' | 'read';

export interface EventTypeSpec {
  polarity: Polarity;
  /** Positive types only: how much one event counts (a rating counts its value). */
  weight: number;
}

export const DEFAULT_EVENT_TYPES: Readonly<Record<string, EventTypeSpec>> = {
  click: { polarity: 'positive', weight: 1 },
  view: { polarity: 'positive', weight: 0.5 },
  like: { polarity: 'positive', weight: 2 },
  add_to_cart: { polarity: 'positive', weight: 3 },
  purchase: { polarity: 'positive', weight: 4 },
  dislike: { polarity: 'negative', weight: 0 },
};

export const EVENT_TYPE_NAME = /^[a-z][a-z0-9_]{0,31}$/;

/**
 * The weight each type gives an event where one number is needed: positive types their weight,
 * negative −1 (readers drop the pair), read 0 (ignored).
 */
export function eventWeights(types: Readonly<Record<string, EventTypeSpec>>): Record<string, number> {
  return Object.fromEntries(Object.entries(types).map(([name, t]) => [name, t.polarity === 'positive' ? t.weight : t.polarity === 'negative' ? -1 : 0]));
}

const fail = (ctx: z.RefinementCtx, message: string): typeof z.NEVER => {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER;
};

/** `EVENT_TYPES`: the full list, e.g. `click=1,purchase=4,share=2,dislike=negative,opened=read`. */
export const eventTypesFromEnv = z.string().transform((raw, ctx) => {
  const types: Record<string, EventTypeSpec> = {};
  for (const pair of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name, value = ''] = pair.split('=').map((s) => s.trim());
    if (!EVENT_TYPE_NAME.test(name)) return fail(ctx, `"${name}" is not a type name (lowercase letters, digits and _, starting with a letter, at most 32)`);
    if (value === 'negative' || value === 'read') types[name] = { polarity: value, weight: 0 };
    else if (Number.isFinite(Number(value)) && Number(value) > 0) types[name] = { polarity: 'positive', weight: Number(value) };
    else return fail(ctx, `"${name}=${value}": give a positive weight, "negative" or "read"`);
  }
  if (Object.keys(types).length === 0) return fail(ctx, 'declares no event type');
  return types;
});

/** `EVENT_WEIGHTS`: new weights for declared positive types, e.g. `click=1,view=0.5`. */
export function withWeights(types: Readonly<Record<string, EventTypeSpec>>, raw: string): Record<string, EventTypeSpec> | string {
  const out = { ...types };
  for (const pair of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name, value] = pair.split('=').map((s) => s.trim());
    const weight = Number(value);
    if (!out[name]) return `unknown event type "${name}" (expected one of ${Object.keys(out).join(', ')})`;
    if (out[name].polarity !== 'positive') return `"${name}" has no weight: it is ${out[name].polarity}`;
    if (!Number.isFinite(weight) || weight <= 0) return `weight for "${name}" must be a positive number`;
    out[name] = { polarity: 'positive', weight };
  }
  return out;
}
