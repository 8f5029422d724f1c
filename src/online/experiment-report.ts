import type { VariantSums } from '../db/online-repository.js';
import type { Experiment, Verdict } from './experiments.js';
import { estimate, meanInterval, oneSampleTest, twoSampleTest, type SequentialTest } from './stats.js';

export interface VariantReport {
  name: string;
  users: number;
  impressions: number;
  /** Seen slots and those with the metric's feedback. */
  slots: number;
  positives: number;
  /** positives / slots over all the variant's traffic. */
  ctr: number | null;
  /** The mean over users of each user's CTR (the test's unit), with a normal 95% interval. */
  perUserCtr: number;
  interval95: [number, number] | null;
}

export interface ComparisonReport {
  variant: string;
  against: string;
  test: SequentialTest;
}

export interface InterleavingReport {
  users: number;
  impressions: number;
  /** Impressions whose credited feedback favoured the first variant, the second, or neither. */
  wins: { first: number; second: number; ties: number };
  /** The mean over users of (first's wins − second's) per impression: > 0 favours the first. */
  preference: number;
  test: SequentialTest;
}

export interface ExperimentReport {
  experimentId: string;
  mode: Experiment['mode'];
  status: Experiment['status'];
  metric: string;
  computedAt: number;
  variants: VariantReport[];
  comparisons: ComparisonReport[];
  interleaving: InterleavingReport | null;
  decision: { state: 'collecting' | 'running' | 'decided'; winner: string | null; reason: string };
  stoppingRule: string;
  /** A verdict reached at this look that the experiment has not recorded yet. */
  reached: Verdict | null;
}

const estimateOf = (s: VariantSums | undefined) => estimate({ n: s?.users ?? 0, sum: s?.sum ?? 0, sumSquares: s?.sumSquares ?? 0 });

function variantReport(name: string, s: VariantSums | undefined): VariantReport {
  const e = estimateOf(s);
  return {
    name,
    users: s?.users ?? 0,
    impressions: s?.impressions ?? 0,
    slots: s?.slots ?? 0,
    positives: s?.positives ?? 0,
    ctr: s && s.slots > 0 ? s.positives / s.slots : null,
    perUserCtr: e.mean,
    interval95: meanInterval(e),
  };
}

const ruleOf = (e: Experiment, comparisons: number): string =>
  `mSPRT (mixture sequential probability ratio test) at alpha ${e.spec.alpha}${comparisons > 1 ? ` split over ${comparisons} comparisons with the first variant (Bonferroni)` : ''}, ` +
  `mixing scale tau = ${e.spec.minimumEffect}; units are users (${e.mode === 'ab' ? "each user's CTR" : "each user's mean interleaving preference"}). ` +
  `The decision is fixed the first time the always-valid p-value falls below alpha with at least ${e.spec.minUsers} users${e.mode === 'ab' ? ' per variant' : ''}; looking at the report any number of times does not raise the false-positive rate.`;

function abReport(e: Experiment, sums: readonly VariantSums[]): Pick<ExperimentReport, 'variants' | 'comparisons' | 'decision'> & { best: ComparisonReport | null; controlWins: boolean } {
  const variants = e.spec.variants.map((v) => variantReport(v.name, sums.find((s) => s.variant === v.name)));
  const [control, ...others] = variants;
  const alpha = e.spec.alpha / Math.max(1, others.length);
  const of = (r: VariantReport) => estimateOf(sums.find((s) => s.variant === r.name));
  const comparisons = others.map((t) => ({ variant: t.name, against: control.name, test: twoSampleTest(of(control), of(t), e.spec.minimumEffect, alpha) }));
  const enough = variants.every((v) => v.users >= e.spec.minUsers);
  const better = comparisons.filter((c) => c.test.significant && c.test.effect > 0).sort((a, b) => b.test.effect - a.test.effect);
  const controlWins = comparisons.length > 0 && comparisons.every((c) => c.test.significant && c.test.effect < 0);
  const best = enough ? (better[0] ?? null) : null;
  const decision = { state: enough ? ('running' as const) : ('collecting' as const), winner: null, reason: enough ? 'no significant difference yet' : `waiting for ${e.spec.minUsers} users per variant` };
  return { variants, comparisons, decision, best, controlWins: enough && controlWins };
}

function interleavingReport(e: Experiment, sums: readonly VariantSums[]): InterleavingReport {
  const s = sums[0];
  const est = estimateOf(s);
  const wins = { first: s?.wins?.first ?? 0, second: s?.wins?.second ?? 0, ties: 0 };
  wins.ties = (s?.impressions ?? 0) - wins.first - wins.second;
  return { users: est.n, impressions: s?.impressions ?? 0, wins, preference: est.mean, test: oneSampleTest(est, e.spec.minimumEffect, e.spec.alpha) };
}

/** An experiment's report at one look: per-variant figures, the tests, and the decision. */
export function experimentReport(e: Experiment, sums: readonly VariantSums[], now: number): ExperimentReport {
  const base = { experimentId: e.id, mode: e.mode, status: e.status, metric: e.spec.metric, computedAt: now };
  const recorded = e.verdict ? { state: 'decided' as const, winner: e.verdict.winner, reason: e.verdict.winner ? `the sequential test found ${e.verdict.winner} better` : 'no difference' } : null;
  if (e.mode === 'ab') {
    const ab = abReport(e, sums);
    const winner = ab.best?.variant ?? (ab.controlWins ? e.spec.variants[0].name : null);
    const deciding = ab.best ?? (ab.controlWins ? ab.comparisons.reduce((a, b) => (a.test.pValue > b.test.pValue ? a : b)) : null);
    const reached = !e.verdict && winner && deciding ? { decidedAt: now, winner, pValue: deciding.test.pValue, effect: deciding.test.effect } : null;
    const decision = recorded ?? (reached ? { state: 'decided' as const, winner, reason: `the sequential test found ${winner} better` } : ab.decision);
    return { ...base, variants: ab.variants, comparisons: ab.comparisons, interleaving: null, decision, stoppingRule: ruleOf(e, ab.comparisons.length), reached };
  }
  const inter = interleavingReport(e, sums);
  const [first, second] = e.spec.variants.map((v) => v.name);
  const enough = inter.users >= e.spec.minUsers;
  const winner = enough && inter.test.significant ? (inter.test.effect > 0 ? first : second) : null;
  const reached = !e.verdict && winner ? { decidedAt: now, winner, pValue: inter.test.pValue, effect: inter.test.effect } : null;
  const pending = { state: enough ? ('running' as const) : ('collecting' as const), winner: null, reason: enough ? 'no significant preference yet' : `waiting for ${e.spec.minUsers} users` };
  const decision = recorded ?? (reached ? { state: 'decided' as const, winner, reason: `the sequential test found ${winner} better` } : pending);
  return { ...base, variants: [], comparisons: [], interleaving: inter, decision, stoppingRule: ruleOf(e, 1), reached };
}
