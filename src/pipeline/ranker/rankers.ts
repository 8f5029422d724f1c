import type { PipelineConfig } from '../../config/pipeline.js';
import type { CandidateItem } from '../context.js';
import type { Proposal } from '../sources/source.js';
import { scoreRow, type FeatureRow, type FmState } from './fm.js';
import type { RankerLayout } from './features.js';

/** A candidate after merging: which blended sources proposed it, their scores, and its place in the first of them. */
export interface MergedCandidate extends CandidateItem {
  /** Blend position of the highest-priority source that proposed it. */
  first: number;
  /** Its rank in that source's answer. */
  rank: number;
  /** Normalised score by proposing source name. */
  proposed: Record<string, number>;
  because?: readonly string[];
}

/** An item in the ranked list: the source credited with it and its relevance (higher first, ≥ 0). */
export interface RankedItem extends CandidateItem {
  source: string;
  relevance: number;
  proposed: Record<string, number>;
  because?: readonly string[];
}

/** The learned ranker as the snapshot keeps it. */
export interface LearnedRanker {
  kind: 'learned';
  layout: RankerLayout;
  fm: FmState;
}

export function isLearnedRanker(state: Record<string, unknown> | null): state is Record<string, unknown> & LearnedRanker {
  return state !== null && state.kind === 'learned' && typeof state.layout === 'object' && typeof state.fm === 'object';
}

/** Merges the blended sources' answers (in blend order): one entry per item, remembering every source that proposed it. */
export function mergeAnswers(answers: readonly { source: string; items: readonly Proposal[] }[], denseOf: (itemId: string) => number): MergedCandidate[] {
  const byItem = new Map<string, MergedCandidate>();
  answers.forEach(({ source, items }, first) =>
    items.forEach((p, rank) => {
      const seen = byItem.get(p.itemId);
      if (seen) seen.proposed[source] = p.score;
      else byItem.set(p.itemId, { itemId: p.itemId, dense: denseOf(p.itemId), first, rank, proposed: { [source]: p.score }, ...(p.because ? { because: p.because } : {}) });
    }),
  );
  return [...byItem.values()];
}

const credited = (c: MergedCandidate, blend: readonly string[], relevance: number): RankedItem => ({
  itemId: c.itemId,
  dense: c.dense,
  source: blend[c.first],
  relevance,
  proposed: c.proposed,
  ...(c.because ? { because: c.because } : {}),
});

/** By blend order, then each source's own order; relevance falls linearly with the position (1 → 0). */
export function rankByPriority(merged: readonly MergedCandidate[], blend: readonly string[]): RankedItem[] {
  const sorted = [...merged].sort((a, b) => a.first - b.first || a.rank - b.rank);
  return sorted.map((c, k) => credited(c, blend, 1 - k / Math.max(1, sorted.length)));
}

/** Σ weight × normalised score over the sources that proposed the item, divided by Σ weight. */
export function rankByWeights(merged: readonly MergedCandidate[], blend: readonly string[], weights: PipelineConfig['ranker']['weights']): RankedItem[] {
  const w = (name: string): number => weights?.[name] ?? 1;
  const total = blend.reduce((s, name) => s + w(name), 0) || 1;
  const scored = merged.map((c) => credited(c, blend, Math.max(0, Object.entries(c.proposed).reduce((s, [name, score]) => s + w(name) * score, 0) / total)));
  return scored.sort((a, b) => b.relevance - a.relevance || a.itemId.localeCompare(b.itemId));
}

/** The factorization machine's probability over every candidate's features; ties by the priority order. */
export function rankLearned(merged: readonly MergedCandidate[], blend: readonly string[], ranker: LearnedRanker, rows: readonly FeatureRow[]): RankedItem[] {
  const scored = merged.map((c, k) => ({ c, p: scoreRow(ranker.fm, rows[k]) }));
  scored.sort((a, b) => b.p - a.p || a.c.first - b.c.first || a.c.rank - b.c.rank);
  return scored.map(({ c, p }) => credited(c, blend, p));
}
