/**
 * The statistics of an experiment: per-unit (user) means with their variance, a fixed-horizon
 * normal interval, and the mixture sequential probability ratio test (mSPRT; Johari, Pekelis &
 * Walsh, "Always Valid Inference", 2017), whose p-value may be looked at after every impression:
 * the chance it ever falls below α when there is no difference is at most α, so a dashboard that
 * refreshes every few seconds cannot peek itself into a false positive.
 */

export interface UnitSums {
  /** Units (users). */
  n: number;
  /** Σ of the units' statistic and Σ of its square. */
  sum: number;
  sumSquares: number;
}

export interface MeanEstimate {
  n: number;
  mean: number;
  /** The sample variance of a unit's statistic. */
  variance: number;
}

export function estimate(s: UnitSums): MeanEstimate {
  const mean = s.n > 0 ? s.sum / s.n : 0;
  const variance = s.n > 1 ? Math.max(0, (s.sumSquares - s.n * mean * mean) / (s.n - 1)) : 0;
  return { n: s.n, mean, variance };
}

export interface SequentialTest {
  /** The estimated effect (treatment − control, or the one-sample mean). */
  effect: number;
  /** Its fixed-horizon 95% interval (valid only when the sample size was fixed in advance). */
  interval95: [number, number] | null;
  /** The always-valid (1 − α) interval: it covers the true effect at every look with probability ≥ 1 − α. */
  alwaysValid: [number, number] | null;
  /** The mixture likelihood ratio Λ; the test rejects "no difference" once Λ ≥ 1/α. */
  likelihoodRatio: number;
  /** min(1, 1/Λ) at this look (the always-valid p-value is the smallest of these over the looks). */
  pValue: number;
  significant: boolean;
}

const Z95 = 1.959964;

/**
 * mSPRT of "effect = 0" for an effect estimated with variance `v`, mixing over effects ~ N(0, τ²).
 * τ is the effect size the test is most sensitive to (the experiment's minimum effect).
 */
export function msprt(effect: number, v: number, tau: number, alpha: number): SequentialTest {
  const tau2 = tau * tau;
  if (!(v > 0)) {
    // No variance yet (fewer than two units a side): no interval can be stated, and JSON has no infinity.
    return { effect, interval95: null, alwaysValid: null, likelihoodRatio: 1, pValue: 1, significant: false };
  }
  const logLambda = 0.5 * Math.log(v / (v + tau2)) + (tau2 * effect * effect) / (2 * v * (v + tau2));
  const likelihoodRatio = Math.exp(Math.min(logLambda, 700));
  // The set of effects θ0 the test would not reject: the confidence sequence at this look.
  const halfWidth = Math.sqrt(((v * (v + tau2)) / tau2) * (Math.log((v + tau2) / v) - 2 * Math.log(alpha)));
  const sd = Math.sqrt(v);
  return {
    effect,
    interval95: [effect - Z95 * sd, effect + Z95 * sd],
    alwaysValid: [effect - halfWidth, effect + halfWidth],
    likelihoodRatio,
    pValue: Math.min(1, 1 / likelihoodRatio),
    significant: logLambda >= -Math.log(alpha),
  };
}

/** Treatment against control: the difference of per-unit means (Welch's variance). */
export function twoSampleTest(control: MeanEstimate, treatment: MeanEstimate, tau: number, alpha: number): SequentialTest {
  const v = control.n > 1 && treatment.n > 1 ? control.variance / control.n + treatment.variance / treatment.n : 0;
  return msprt(treatment.mean - control.mean, v, tau, alpha);
}

/** One sample's mean against zero (interleaving: each user's mean preference). */
export function oneSampleTest(sample: MeanEstimate, tau: number, alpha: number): SequentialTest {
  return msprt(sample.mean, sample.n > 1 ? sample.variance / sample.n : 0, tau, alpha);
}

/** A normal 95% interval of one variant's per-user mean. */
export function meanInterval(e: MeanEstimate): [number, number] | null {
  if (e.n < 2) return null;
  const half = Z95 * Math.sqrt(e.variance / e.n);
  return [e.mean - half, e.mean + half];
}
