import type { Interactions } from '../data/interactions.js';
import type { BackendInfo } from '../models/backend.js';
import { ModelInputError, TrainingAborted, type ModelName, type RecModel } from '../models/model.js';
import type { RankingMetrics } from './evaluate.js';
import { evaluationSplit, refitModel, trainModel, type TrainHooks, type TrainResult } from './trainer.js';

/** One configuration `auto` tries. */
export interface AutoCandidate {
  model: ModelName;
  hyper: Record<string, unknown>;
}

/**
 * What `auto` tries, cheapest and strongest first, so a short budget still covers the models that
 * usually win (Rendle et al. 2020, Dacrema et al. 2019, Steck 2019): EASE and iALS, each over a
 * small grid, then ItemKNN, the dot-product baselines and the neural models.
 */
export const AUTO_CANDIDATES: readonly AutoCandidate[] = [
  // Grids centred on what validated best on MovieLens-100K-shaped data (docs/benchmarks.md).
  { model: 'ease', hyper: { lambda: 250 } },
  { model: 'ease', hyper: { lambda: 600 } },
  { model: 'ease', hyper: { lambda: 1500 } },
  { model: 'ials', hyper: { factors: 64, reg: 0.02, alpha0: 0.3 } },
  { model: 'ials', hyper: { factors: 64, reg: 0.015, alpha0: 0.3 } },
  // reg 0.02 validates best on the synthetic data, 0.015 and 0.01 on real MovieLens-100K.
  { model: 'ials', hyper: { factors: 64, reg: 0.01, alpha0: 0.3 } },
  { model: 'itemknn', hyper: { neighbours: 100, shrink: 10 } },
  { model: 'itemknn', hyper: { neighbours: 400, shrink: 50 } },
  { model: 'bpr', hyper: { factors: 64 } },
  // GMF's defaults (64 factors, lr 0.001): valid HR@10 0.701 / 0.676 on synthetic / real data,
  // against 0.670 / 0.671 for 32 factors at lr 0.005 (seeds 1–3).
  { model: 'gmf', hyper: {} },
  { model: 'einmf', hyper: {} },
  // Content features (catalogue labels) joined with ids: tried only where the data has some.
  { model: 'hybrid', hyper: {} },
  // η = 1: ratings only as input, no explicit loss. On real MovieLens-100K a little ahead of the
  // default (valid / test 0.710 / 0.621 against 0.708 / 0.610, nine runs), level with it on the
  // synthetic data; validation decides per data set.
  { model: 'einmf', hyper: { eta: 1 } },
];

/** Default search budget: enough for the grid above on MovieLens-100K-sized data on 2 cores. */
export const DEFAULT_AUTO_BUDGET_MINUTES = 15;

export interface LeaderboardEntry extends AutoCandidate {
  /** `done`; `stopped` (the budget ended it early, best epoch kept); `skipped` (no budget left); `unsuitable` (the model refused the data). */
  status: 'done' | 'stopped' | 'skipped' | 'unsuitable';
  valid: RankingMetrics | null;
  /** Reported, never used for choosing. */
  test: RankingMetrics | null;
  seconds: number;
  bestEpoch: number | null;
  note?: string;
}

export interface AutoResult {
  leaderboard: LeaderboardEntry[];
  /** Index of the winner in the leaderboard. */
  winner: number;
  /** The winner, refit on all data when asked. */
  model: RecModel;
  result: TrainResult;
}

/**
 * The winner: highest validation HR@10; among equal HR@10, the higher validation NDCG@10 (HR@10
 * moves in steps of one user, so exact ties are common: on the synthetic data iALS and EINMF
 * tied at 0.7063 while NDCG@10 was 0.487 against 0.496, and their tests 0.671 against 0.693),
 * then the faster. Only validation metrics are read — the test split stays a report.
 */
export function pickWinner(entries: readonly Pick<LeaderboardEntry, 'valid' | 'seconds'>[]): number {
  let best = -1;
  for (let k = 0; k < entries.length; k++) {
    if (entries[k].valid && (best < 0 || ranksAbove(entries[k], entries[best]))) best = k;
  }
  return best;
}

/** Whether `a` beats `b` by {@link pickWinner}'s rule (both validated). */
function ranksAbove(a: Pick<LeaderboardEntry, 'valid' | 'seconds'>, b: Pick<LeaderboardEntry, 'valid' | 'seconds'>): boolean {
  const [va, vb] = [a.valid!, b.valid!];
  if (va['HR@10'] !== vb['HR@10']) return va['HR@10'] > vb['HR@10'];
  if (va['NDCG@10'] !== vb['NDCG@10']) return va['NDCG@10'] > vb['NDCG@10'];
  return a.seconds < b.seconds;
}

export interface AutoOptions {
  budgetMinutes: number;
  refit: boolean;
  candidates?: readonly AutoCandidate[];
  patience?: number;
  /** Training threads of every candidate and of the refit (TrainRequest.threads). */
  threads?: number;
  /** Every candidate's TrainRequest.seed: the same evaluation negatives for all, and their initial weights. */
  seed?: number;
}

/**
 * `model: "auto"`: trains every candidate on the same leave-one-out split (same seed) within the
 * time budget (checked at epoch ends), keeps the one with the best validation HR@10 and refits it
 * on all data. Memory holds the current best model and the one training.
 */
export async function searchModels(data: Interactions, options: AutoOptions, backend: BackendInfo, hooks: TrainHooks = {}): Promise<AutoResult> {
  const deadline = Date.now() + options.budgetMinutes * 60_000;
  const leaderboard: LeaderboardEntry[] = [];
  let best: { index: number; model: RecModel; result: TrainResult } | null = null;
  for (const candidate of options.candidates ?? AUTO_CANDIDATES) {
    // The first candidate that can be trained always is, whatever the budget: auto must answer.
    if (Date.now() >= deadline && best) {
      leaderboard.push({ ...candidate, status: 'skipped', valid: null, test: null, seconds: 0, bestEpoch: null, note: 'budget spent' });
      continue;
    }
    if (candidate.model === 'hybrid' && !(data.itemFeatures?.vocabulary.length || data.userFeatures?.vocabulary.length)) {
      leaderboard.push({ ...candidate, status: 'unsuitable', valid: null, test: null, seconds: 0, bestEpoch: null, note: 'no content features (no item categories or declared labels)' });
      continue;
    }
    const stage = `${candidate.model} ${JSON.stringify(candidate.hyper)}`;
    const started = performance.now();
    try {
      const trained = await trainModel(
        data,
        { model: candidate.model, hyper: candidate.hyper, split: 'loo', patience: options.patience ?? 3, threads: options.threads ?? 1, seed: options.seed },
        backend,
        { signal: hooks.signal, stopAt: deadline, onEpochProgress: hooks.onEpochProgress, onProgress: (p) => hooks.onProgress?.({ ...p, stage: `candidate ${leaderboard.length + 1}: ${stage}` }) },
      );
      const stopped = Date.now() >= deadline && trained.result.fit.epochs < (trained.result.history.at(-1)?.epochs ?? 0);
      leaderboard.push({ ...candidate, status: stopped ? 'stopped' : 'done', valid: trained.result.valid, test: trained.result.test, seconds: trained.result.seconds, bestEpoch: trained.result.fit.bestEpoch });
      if (pickWinner(leaderboard) === leaderboard.length - 1) best = { index: leaderboard.length - 1, ...trained };
    } catch (err) {
      if (err instanceof TrainingAborted) throw err;
      if (!(err instanceof ModelInputError)) throw err;
      leaderboard.push({ ...candidate, status: 'unsuitable', valid: null, test: null, seconds: (performance.now() - started) / 1000, bestEpoch: null, note: err.message });
    }
  }
  if (!best) throw new ModelInputError('auto: no candidate could be trained within the budget');
  if (hooks.onEvaluated) {
    const seed = best.result.data.seed;
    await hooks.onEvaluated({ model: best.model, ...evaluationSplit(data, 'loo', seed), test: best.result.test, seed });
  }
  if (!options.refit) return { leaderboard, winner: best.index, model: best.model, result: best.result };
  const refit = await refitModel(data, best.model, best.result.fit, hooks, options.threads ?? 1);
  return { leaderboard, winner: best.index, model: refit.model, result: { ...best.result, refit: refit.summary } };
}
