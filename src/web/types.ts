/** The shapes of the JSON routes the dashboard reads (openapi.yaml documents them). */
export type Metrics = Record<string, number>;

export interface Stats {
  computedAt: string | null;
  counts: { users: number; items: number; ratings: number; events: number; hiddenItems: number };
  jobs: Record<string, number>;
  categories: { category: string; items: number }[];
}
export interface IngestSeries {
  bucket: 'hour' | 'day';
  series: { t: string; ratings: number; events: number }[];
}
export interface ServingSeries {
  sampleSeconds: number;
  series: { t: string; answers: Record<'trained' | 'fold-in' | 'popularity', number>; requests: number; p50Ms: number | null; p99Ms: number | null }[];
  /** deployment: every replica sharing Redis, added up; process: the replica that answered. */
  scope: 'deployment' | 'process';
  processes: number;
}
export interface Serving {
  mode: 'auto' | 'pinned';
  model: string | null;
  version: string | null;
  validHr10: number | null;
  setBy: string;
  loadedVersion: string | null;
}
export interface ModelVersion {
  model: string;
  version: string;
  createdAt: string;
  active: boolean;
  serving: boolean;
  validHr10: number;
  metrics: { valid?: Metrics; test?: Metrics; [k: string]: unknown };
  hyperparameters: Record<string, unknown>;
  jobId: string | null;
}
export interface EpochPoint {
  phase?: string;
  stage?: string;
  epoch?: number;
  epochs?: number;
  loss?: number;
  valid?: number;
  samplesPerSec?: number;
}
export interface LeaderboardEntry {
  model: string;
  hyper: Record<string, unknown>;
  status: string;
  valid: Metrics | null;
  test: Metrics | null;
  seconds: number;
  note?: string;
}
export interface Job {
  id: string;
  model: string;
  state: 'queued' | 'active' | 'completed' | 'failed' | 'cancelled';
  progress: Record<string, unknown> | null;
  history: EpochPoint[];
  result: { model?: string; version?: string; serving?: boolean; servingReason?: string; metrics?: { valid: Metrics; test: Metrics }; leaderboard?: LeaderboardEntry[] } | null;
  error: string | null;
  attempts: number;
  request: Record<string, unknown>;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}
export interface ScoredItem {
  itemId: string;
  score: number;
  /** The pipeline source credited with the item (recommendations and similar items). */
  source?: string;
  because?: { itemId: string; weight: number }[];
}
export interface Recommendation {
  model: string;
  modelVersion: string | null;
  source: 'model' | 'fallback';
  method?: string;
  ranker?: string;
  notes?: { source: string; note: string }[];
  items: ScoredItem[];
}
export interface EffectiveConfig {
  file: string | null;
  settings: Record<string, Record<string, { value: unknown; env: string; origin: 'default' | 'file' | 'env' }>>;
  pipeline: { sources: Record<string, unknown>; blend: string[]; fallback: string[]; popular: string; ranker: unknown; rules: unknown[]; freshness: unknown; diversity: unknown; paging: unknown };
}
export interface PipelineSlots {
  scope: 'process';
  total: number;
  sources: { route: string; source: string; items: number; share: number }[];
}
export interface HistoryEntry {
  kind: 'rating' | 'event';
  itemId: string;
  timestamp: string;
  rating?: number;
  type?: string;
  value?: number;
}
export interface Item {
  itemId: string;
  categories: string[];
  hidden: boolean;
  availableFrom: number | null;
  availableUntil: number | null;
  labels: Record<string, string>;
  createdAt: string;
}
export interface UserRecord {
  userId: string;
  labels: Record<string, unknown>;
  createdAt?: string;
  updatedAt?: string | null;
}
