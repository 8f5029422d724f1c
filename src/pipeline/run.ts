import type { PipelineConfig, RankerType } from '../config/pipeline.js';
import type { ScoringMethod } from '../serving/user-scoring.js';
import { denseOf, type RequestContext } from './context.js';
import { capPerCategory, mmr, type UnitVectorOf } from './diversity/diversity.js';
import { featureRows, itemTokens, userTokens } from './ranker/features.js';
import { isLearnedRanker, mergeAnswers, rankByPriority, rankByWeights, rankLearned, type LearnedRanker, type MergedCandidate, type RankedItem } from './ranker/rankers.js';
import { applyBoosts, applyPins, type ItemFacts } from './rules/rules.js';
import type { CandidateSource, Proposal } from './sources/source.js';

/** What the pipeline needs besides the request: its configuration, its sources, and what it knows of items. */
export interface PipelineRuntime {
  config: PipelineConfig;
  sources: ReadonlyMap<string, CandidateSource>;
  facts: ItemFacts;
  /** Draws for pins' shares (Math.random; seeded in tests). */
  random: () => number;
}

/** A source that gave nothing, and why. */
export interface SourceNote {
  source: string;
  note: string;
}

/** A ranked list as far as it was computed: what pages are cut from. */
export interface RankedList {
  items: RankedItem[];
  ranker: RankerType;
  notes: SourceNote[];
  /** How the model scored the user, when the model source answered. */
  method: ScoringMethod | null;
  /** Positions asked for; fewer items means the sources ran out. */
  depth: number;
}

/** Answers of one request by source: a source both blended and in the fallback chain runs once. */
type Answers = Map<string, Proposal[]>;

/** A source's answer, cut to nothing when its best item falls below the source's floor. */
function answerOf(rt: PipelineRuntime, ctx: RequestContext, name: string, n: number, notes: SourceNote[], answers: Answers, floor = true): Proposal[] {
  const done = answers.get(name);
  if (done) return done;
  const items = propose(rt, ctx, name, n, notes, floor);
  answers.set(name, items);
  return items;
}

function propose(rt: PipelineRuntime, ctx: RequestContext, name: string, n: number, notes: SourceNote[], floor: boolean): Proposal[] {
  const source = rt.sources.get(name)!;
  const answer = source.propose(ctx, Math.min(source.config.candidates, n));
  if (answer.note) notes.push({ source: name, note: answer.note });
  const confidence = answer.confidence === undefined ? answer.items[0]?.score : answer.confidence;
  if (floor && answer.items.length > 0 && confidence !== undefined && confidence !== null && confidence < source.config.floor) {
    notes.push({ source: name, note: `confidence ${confidence.toPrecision(3)} is below the floor ${source.config.floor}: handed to the next source` });
    return [];
  }
  return answer.items;
}

/** The learned ranker of the serving snapshot when it was fit for exactly this blend; else why not. */
function learnedRanker(rt: PipelineRuntime, ctx: RequestContext): LearnedRanker | string {
  const state = ctx.index?.artifacts.ranker ?? null;
  if (!isLearnedRanker(state)) return 'no learned ranker in the serving snapshot (the retrain job keeps one only when it beats the model alone on validation)';
  const blend = rt.config.blend.map((name) => ({ name, type: rt.sources.get(name)!.config.type }));
  if (JSON.stringify(state.layout.sources) !== JSON.stringify(blend)) return 'the learned ranker was fit for another blend: retrain';
  return state;
}

function rank(rt: PipelineRuntime, ctx: RequestContext, merged: MergedCandidate[], notes: SourceNote[]): { items: RankedItem[]; ranker: RankerType } {
  const { blend, ranker } = rt.config;
  if (ranker.type === 'weighted') return { items: rankByWeights(merged, blend, ranker.weights), ranker: 'weighted' };
  if (ranker.type === 'learned' && merged.length > 0) {
    const learned = learnedRanker(rt, ctx);
    if (typeof learned !== 'string') {
      const scores = learned.layout.sources.map(({ name }) => rt.sources.get(name)!.scoreItems(ctx, merged));
      const user = userTokens(learned.layout, ctx.userLabels);
      const rows = featureRows(learned.layout, scores, (k) => itemTokens(learned.layout, rt.facts.categoriesOf(merged[k].itemId), rt.facts.labelsOf(merged[k].itemId)), user, merged.length);
      return { items: rankLearned(merged, blend, learned, rows), ranker: 'learned' };
    }
    notes.push({ source: 'ranker', note: `${learned}; ranked by priority` });
  }
  return { items: rankByPriority(merged, blend), ranker: 'priority' };
}

/** Appends the fallback sources' items, in order, below everything ranked, until `depth` items. */
function fillFromFallback(rt: PipelineRuntime, ctx: RequestContext, list: RankedItem[], depth: number, notes: SourceNote[], answers: Answers): void {
  const present = new Set(list.map((x) => x.itemId));
  let relevance = list.length ? Math.min(...list.map((x) => x.relevance)) : 1;
  for (const name of rt.config.fallback) {
    if (list.length >= depth) return;
    for (const p of answerOf(rt, ctx, name, depth, notes, answers)) {
      if (list.length >= depth) return;
      if (present.has(p.itemId)) continue;
      present.add(p.itemId);
      relevance *= 0.999;
      list.push({ itemId: p.itemId, dense: denseOf(ctx, p.itemId), source: name, relevance, proposed: { [name]: p.score }, ...(p.because ? { because: p.because } : {}) });
    }
  }
}

/** One source alone, in its own order (`?source=`): what it contributes, before any ranker, rule or floor. */
function sourceAlone(rt: PipelineRuntime, ctx: RequestContext, name: string, depth: number): RankedList {
  const notes: SourceNote[] = [];
  const items = answerOf(rt, ctx, name, depth, notes, new Map(), false).map((p) => ({ itemId: p.itemId, dense: denseOf(ctx, p.itemId), source: name, relevance: p.score, proposed: { [name]: p.score }, ...(p.because ? { because: p.because } : {}) }));
  return { items, ranker: 'priority', notes, method: rt.sources.get(name)!.config.type === 'model' && items.length ? (ctx.scoring?.method ?? null) : null, depth };
}

/**
 * The list for one request down to `depth`: the blended sources' candidates merged and ranked,
 * the fallback chain below them, boosts, buries and freshness, diversity, then pins. Each step
 * is bounded by `depth` and the sources' `candidates`, whatever the user or catalogue holds.
 */
export function rankList(rt: PipelineRuntime, ctx: RequestContext, depth: number, vectorOf: UnitVectorOf, only?: string): RankedList {
  if (only) return sourceAlone(rt, ctx, only, depth);
  const notes: SourceNote[] = [];
  const answers: Answers = new Map();
  const blended = rt.config.blend.map((source) => ({ source, items: answerOf(rt, ctx, source, depth, notes, answers) }));
  const ranked = rank(rt, ctx, mergeAnswers(blended, (id) => denseOf(ctx, id)), notes);
  const list = ranked.items;
  fillFromFallback(rt, ctx, list, depth, notes, answers);
  let items = applyBoosts(list, rt.config, rt.facts, ctx.now);
  const { mmrLambda, maxPerCategory, window } = rt.config.diversity;
  if (mmrLambda !== null) items = mmr(items, mmrLambda, depth, vectorOf);
  if (maxPerCategory !== null) items = capPerCategory(items, maxPerCategory, window, rt.facts.categoriesOf);
  items = applyPins(items, rt.config, (id) => !ctx.skip(id), (id) => denseOf(ctx, id), ctx.now, rt.random).slice(0, depth);
  const modelAnswered = items.some((x) => rt.sources.get(x.source)?.config.type === 'model');
  return { items, ranker: ranked.ranker, notes, method: modelAnswered ? (ctx.scoring?.method ?? null) : null, depth };
}
