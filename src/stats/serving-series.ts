import type { Counter, Histogram } from 'prom-client';

/** Routes whose answers the overview's serving chart counts (recommendations and lists). */
export const SERVING_ROUTES = ['/users/:id/recommendations', '/items/:id/similar', '/recommendations', '/users/:id/similar', '/popular', '/latest'];
/** How an answer was made: a trained vector, a user folded in since the snapshot, or popularity. */
export const ANSWER_METHODS = ['trained', 'fold-in', 'popularity'] as const;
export type AnswerMethod = (typeof ANSWER_METHODS)[number];

export interface ServingSample {
  /** End of the interval, epoch ms. */
  t: number;
  /** Answers per second over the interval, by how they were made. */
  answers: Record<AnswerMethod, number>;
  /** Successful serving requests per second. */
  requests: number;
  /** Latency quantiles of those requests (ms), estimated from histogram buckets as Prometheus' histogram_quantile does; null without requests. */
  p50Ms: number | null;
  p99Ms: number | null;
}

/** What one process served in one sampling interval: the raw counts, so several processes' can be added up. */
export interface ServingInterval {
  /** End of the interval, epoch ms. */
  t: number;
  seconds: number;
  /** Answers in the interval, by how they were made. */
  answers: Record<AnswerMethod, number>;
  /** Successful serving requests per latency bucket upper bound (seconds), ascending, +Inf last: cumulative within the interval. */
  buckets: [number, number][];
}

/**
 * One sample from the intervals several processes served at about the same time: rates add up,
 * and the latency quantiles come from the summed histogram buckets (exact, unlike averaging quantiles).
 */
export function mergeIntervals(t: number, intervals: readonly ServingInterval[]): ServingSample {
  const answers = Object.fromEntries(ANSWER_METHODS.map((m) => [m, intervals.reduce((n, i) => n + i.answers[m] / i.seconds, 0)])) as Record<AnswerMethod, number>;
  const byBound = new Map<number, number>();
  for (const i of intervals) for (const [bound, n] of i.buckets) byBound.set(bound, (byBound.get(bound) ?? 0) + n);
  const buckets = [...byBound.entries()].sort((a, b) => a[0] - b[0]);
  const requests = intervals.reduce((n, i) => n + (i.buckets.length ? i.buckets[i.buckets.length - 1][1] : 0) / i.seconds, 0);
  const ms = (q: number): number | null => {
    const sec = bucketQuantile(q, buckets);
    return sec === null ? null : Math.round(sec * 1e4) / 10;
  };
  return { t, answers, requests, p50Ms: ms(0.5), p99Ms: ms(0.99) };
}

interface Totals {
  at: number;
  answers: Record<AnswerMethod, number>;
  /** Cumulative count per bucket upper bound (seconds), ascending, +Inf last. */
  buckets: [number, number][];
}

/** Linear interpolation inside the bucket where the q-th observation falls. */
export function bucketQuantile(q: number, buckets: readonly [number, number][]): number | null {
  const total = buckets.length ? buckets[buckets.length - 1][1] : 0;
  if (total === 0) return null;
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (const [bound, count] of buckets) {
    if (count >= rank) {
      if (!Number.isFinite(bound)) return prevBound;
      return prevBound + ((bound - prevBound) * (rank - prevCount)) / Math.max(count - prevCount, 1);
    }
    prevBound = bound;
    prevCount = count;
  }
  return prevBound;
}

/**
 * Serving throughput and latency over the last minutes, sampled from the Prometheus counters every
 * `sampleMs` into a ring of `keep` samples (10 minutes at the defaults): a request reads the ring,
 * the cost of a sample grows only with the label sets, never with the data.
 */
export class ServingSeries {
  private readonly samples: ServingSample[] = [];
  private last: Totals | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly answers: Counter<'route' | 'source' | 'model' | 'method'>,
    private readonly durations: Histogram<'method' | 'route' | 'status_code'>,
    private readonly sampleMs: number,
    private readonly keep = 120,
    /** Called after every sample (the deployment-wide chart publishes it); its failures are its own. */
    private readonly onInterval?: (interval: ServingInterval) => Promise<void>,
  ) {}

  start(): void {
    void this.sample().catch(() => undefined);
    this.timer = setInterval(() => void this.sample().catch(() => undefined), this.sampleMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  get series(): readonly ServingSample[] {
    return this.samples;
  }

  private async totals(): Promise<Totals> {
    const answers = Object.fromEntries(ANSWER_METHODS.map((m) => [m, 0])) as Record<AnswerMethod, number>;
    for (const v of (await this.answers.get()).values) {
      const method = v.labels.method as AnswerMethod;
      if (method in answers) answers[method] += v.value;
    }
    const byBound = new Map<number, number>();
    for (const v of (await this.durations.get()).values) {
      const { le, route, status_code: status } = v.labels as Record<string, string | number | undefined>;
      if (v.metricName?.endsWith('_bucket') !== true || !SERVING_ROUTES.includes(String(route)) || !String(status).startsWith('2')) continue;
      const bound = le === '+Inf' ? Infinity : Number(le);
      byBound.set(bound, (byBound.get(bound) ?? 0) + v.value);
    }
    return { at: Date.now(), answers, buckets: [...byBound.entries()].sort((a, b) => a[0] - b[0]) };
  }

  /** Appends the rates since the previous sample, and hands the interval's counts to `onInterval`. */
  async sample(): Promise<void> {
    const now = await this.totals();
    const prev = this.last;
    this.last = now;
    if (!prev) return;
    const before = new Map(prev.buckets);
    const interval: ServingInterval = {
      t: now.at,
      seconds: Math.max((now.at - prev.at) / 1000, 1e-3),
      answers: Object.fromEntries(ANSWER_METHODS.map((m) => [m, now.answers[m] - prev.answers[m]])) as Record<AnswerMethod, number>,
      buckets: now.buckets.map(([bound, n]): [number, number] => [bound, n - (before.get(bound) ?? 0)]),
    };
    this.samples.push(mergeIntervals(interval.t, [interval]));
    if (this.samples.length > this.keep) this.samples.shift();
    await this.onInterval?.(interval);
  }
}
