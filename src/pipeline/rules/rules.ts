import type { PipelineConfig, RuleConfig } from '../../config/pipeline.js';
import type { RankedItem } from '../ranker/rankers.js';

type BoostRule = Extract<RuleConfig, { type: 'boost' }>;
type PinRule = Extract<RuleConfig, { type: 'pin' }>;

/** What the rules read about an item: its categories and labels (the catalogue), and when it was created (the latest list). */
export interface ItemFacts {
  categoriesOf(itemId: string): readonly string[];
  labelsOf(itemId: string): Readonly<Record<string, string>>;
  /** Creation time of items among the newest 20,000; undefined for older ones. */
  createdAt(itemId: string): number | undefined;
}

const DAY_MS = 86_400_000;

function matches(rule: BoostRule, itemId: string, facts: ItemFacts, ids: ReadonlySet<string> | null): boolean {
  if (ids) return ids.has(itemId);
  if (rule.category !== undefined) return facts.categoriesOf(itemId).includes(rule.category);
  const label = rule.label!;
  return facts.labelsOf(itemId)[label.key] === label.value;
}

/**
 * Boosts and buries multiply an item's relevance by their factor (0 removes it), the freshness
 * boost by 1 + boost·2^(−age/half-life); the list is then re-sorted (stable for equal relevance).
 */
export function applyBoosts(list: readonly RankedItem[], pipeline: PipelineConfig, facts: ItemFacts, now: number): RankedItem[] {
  const boosts = pipeline.rules.filter((r): r is BoostRule => r.type === 'boost');
  const fresh = pipeline.freshness;
  if (boosts.length === 0 && !fresh) return [...list];
  const idSets = boosts.map((r) => (r.items ? new Set(r.items) : null));
  const out = list.map((item, position) => {
    let factor = 1;
    boosts.forEach((r, k) => {
      if (matches(r, item.itemId, facts, idSets[k])) factor *= r.factor;
    });
    const created = fresh ? facts.createdAt(item.itemId) : undefined;
    if (fresh && created !== undefined) factor *= 1 + fresh.boost * 2 ** (-Math.max(0, now - created) / (fresh.halfLifeDays * DAY_MS));
    return { item: factor === 1 ? item : { ...item, relevance: item.relevance * factor }, position, factor };
  });
  return out
    .filter((x) => x.factor > 0)
    .sort((a, b) => b.item.relevance - a.item.relevance || a.position - b.position)
    .map((x) => x.item);
}

/** Pins active at `now` and drawn for this request (`share` of requests). */
function activePins(pipeline: PipelineConfig, now: number, draw: () => number): PinRule[] {
  return pipeline.rules.filter((r): r is PinRule => r.type === 'pin' && (r.from === undefined || now >= r.from) && (r.until === undefined || now < r.until) && (r.share >= 1 || draw() < r.share));
}

/**
 * Places each active pin's items from its slot on (in rule order; a later pin shifts earlier
 * ones down), skipping items the request may not show; a pinned item already in the list moves
 * to its slot. Pinned items are credited to `pin:<name>` (or `pin`).
 */
export function applyPins(list: readonly RankedItem[], pipeline: PipelineConfig, allowed: (itemId: string) => boolean, denseOf: (itemId: string) => number, now: number, draw: () => number): RankedItem[] {
  let out = [...list];
  for (const pin of activePins(pipeline, now, draw)) {
    const items = pin.items.filter(allowed);
    const source = pin.name ? `pin:${pin.name}` : 'pin';
    out = out.filter((x) => !items.includes(x.itemId));
    const at = Math.min(pin.slot - 1, out.length);
    const relevance = out[at - 1]?.relevance ?? out[0]?.relevance ?? 1;
    out.splice(at, 0, ...items.map((itemId) => ({ itemId, dense: denseOf(itemId), source, relevance, proposed: {} })));
  }
  return out;
}
