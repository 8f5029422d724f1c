/** The answers an impression can come from. */
export const IMPRESSION_ROUTES = ['recommendations', 'similar', 'session', 'popular', 'leaderboard', 'latest'] as const;
export type ImpressionRoute = (typeof IMPRESSION_ROUTES)[number];

export interface ShownItem {
  itemId: string;
  source: string;
  /** Interleaving: the variant that placed the item. */
  team: string | null;
  /** The logging policy's probability of showing this item in this slot (1 without exploration). */
  propensity: number;
  /** −log2 of the item's share of trained users, when the serving model knows the item. */
  novelty: number | null;
}

/** One answer as it was shown: the items in order and what produced them. */
export interface ImpressionRecord {
  id: string;
  route: ImpressionRoute;
  userId: string | null;
  model: string;
  modelVersion: string | null;
  experimentId: string | null;
  variant: string | null;
  exploration: number;
  poolSize: number;
  createdAt: number;
  items: ShownItem[];
}

/** A rating or event, as attribution needs it. */
export interface FeedbackRecord {
  userId: string;
  itemId: string;
  /** The event type, or `rating`. */
  type: string;
  positive: boolean;
  at: number;
  /** Sent back by the client: attribution to exactly this answer. */
  recommendationId?: string;
}

/** What a client really rendered of an answer: the other items count as not seen. */
export interface SeenReport {
  recommendationId: string;
  itemIds: readonly string[];
}

export interface OnlineBatch {
  impressions: readonly ImpressionRecord[];
  feedback: readonly FeedbackRecord[];
  reports: readonly SeenReport[];
  /** Feedback this long after an impression (ms) is still attributed to it by user and item. */
  windowMs: number;
}

export interface Attribution {
  type: string;
  exact: boolean;
  model: string;
  variant: string | null;
}

export interface OnlineBatchResult {
  impressions: number;
  /** Feedback newly attributed (one per shown slot and type). */
  attributed: Attribution[];
  /** Reports naming an answer this database does not hold (unknown or past retention). */
  unknownReports: number;
}

/** Who saw what, and what came of it, per day and what served it: the online metrics' rows. */
export interface OnlineDayRow {
  day: number;
  route: string;
  model: string;
  modelVersion: string | null;
  experimentId: string | null;
  variant: string | null;
  lists: number;
  /** Seen slots among the first k positions. */
  slots: number;
  /** Of those, slots with positive feedback. */
  positiveSlots: number;
  /** Lists with positive feedback on any seen item. */
  positiveLists: number;
  distinctItems: number;
  noveltySum: number;
  noveltyCount: number;
  /** Attributed feedback by type on seen slots (any position). */
  conversions: Record<string, number>;
}

export interface SourceDayRow {
  day: number;
  source: string;
  slots: number;
  positiveSlots: number;
}

export interface OnlineDays {
  lists: OnlineDayRow[];
  sources: SourceDayRow[];
}

/** Per variant, the sums a test needs over its units (users): n, Σx and Σx² of each user's statistic. */
export interface VariantSums {
  variant: string;
  users: number;
  sum: number;
  sumSquares: number;
  impressions: number;
  slots: number;
  positives: number;
  /** Interleaving: impressions where the first variant's items got more feedback, and where the second's did. */
  wins?: { first: number; second: number };
}

export interface ExplorationLog {
  id: string;
  userId: string;
  createdAt: number;
  items: { position: number; itemId: string; propensity: number; positive: boolean }[];
}

export type ExperimentMode = 'ab' | 'interleave';
export type ExperimentStatus = 'running' | 'stopped' | 'concluded';

export interface ExperimentRow {
  id: string;
  name: string;
  mode: ExperimentMode;
  status: ExperimentStatus;
  /** The experiment's definition (variants, shares, metric, test settings) as the online layer wrote it. */
  spec: string;
  verdict: string | null;
  winner: string | null;
  createdAt: number;
  stoppedAt: number | null;
  concludedAt: number | null;
}

export class ExperimentRunningError extends Error {
  constructor() {
    super('another experiment is running; stop it first');
  }
}

/**
 * Impressions, the feedback attributed to them, and experiments. Writes come in batches from one
 * database thread; the aggregates are read there too (their cost grows with the traffic).
 */
export interface OnlineRepository {
  /** Stores impressions, applies seen reports, attributes feedback: one transaction. */
  record(batch: OnlineBatch): Promise<OnlineBatchResult>;
  /** Daily rows since `sinceMs`, CTR counted over the first `k` positions. */
  days(sinceMs: number, k: number): Promise<OnlineDays>;
  /**
   * Per variant of an experiment: each user's share of seen slots with `metric` feedback (A/B),
   * or each user's mean interleaving outcome, +1 when the first variant's items got more, −1 fewer.
   */
  variantSums(experimentId: string, mode: ExperimentMode, metric: string, firstVariant: string): Promise<VariantSums[]>;
  /** The most recent impressions that drew slots at random, with their users, at most `limit`. */
  explorationLogs(sinceMs: number, limit: number): Promise<ExplorationLog[]>;
  /** Deletes impressions (and their items and feedback) older than `beforeMs`; how many. */
  purge(beforeMs: number): Promise<number>;
  impressionCount(): Promise<number>;
  createExperiment(row: ExperimentRow): Promise<void>;
  experiments(): Promise<ExperimentRow[]>;
  experiment(id: string): Promise<ExperimentRow | null>;
  updateExperiment(id: string, change: Partial<Pick<ExperimentRow, 'status' | 'verdict' | 'winner' | 'stoppedAt' | 'concludedAt'>>): Promise<ExperimentRow | null>;
}

/** The metric `positive` counts any positive feedback; otherwise one feedback type. */
export const POSITIVE_METRIC = 'positive';
