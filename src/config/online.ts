import { z } from 'zod';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const onOff = () => z.enum(['on', 'off', 'true', 'false', '1', '0']).transform((v) => v === 'on' || v === 'true' || v === '1');

/** The environment variables (and recflow.yaml's `online` keys) of online evaluation. */
export const onlineEnv = {
  IMPRESSIONS: onOff().default(true),
  ATTRIBUTION_WINDOW_MS: int(1000, 30 * 86_400_000).default(86_400_000),
  IMPRESSION_RETENTION_DAYS: int(1, 3650).default(90),
  IMPRESSION_BUFFER_BYTES: int(64 * 1024, 1024 ** 3).default(8 * 1024 * 1024),
  IMPRESSION_FLUSH_MS: int(10, 60_000).default(500),
  EXPLORATION_SHARE: z.coerce.number().min(0, 'must be in [0, 0.5]').max(0.5, 'must be in [0, 0.5]').default(0),
  EXPLORATION_POOL: int(1, 500).default(50),
  ONLINE_CTR_K: int(1, 100).default(10),
};

type OnlineEnv = { [K in keyof typeof onlineEnv]: z.output<(typeof onlineEnv)[K]> };

export interface OnlineConfig {
  /** Record what every recommendation answer showed (off: answers still carry a recommendationId). */
  impressions: boolean;
  /** Feedback this long after an impression, by the same user on a shown item, is attributed to it. */
  attributionWindowMs: number;
  /** Impressions older than this many days are deleted (with their attributed feedback). */
  retentionDays: number;
  /** Bytes of impressions and feedback waiting for the database at most; beyond it new ones are dropped and counted. */
  bufferBytes: number;
  /** How often buffered impressions are written, in one transaction. */
  flushMs: number;
  /** Share of a personal list's slots filled at random from deeper in it (0: none): the logged propensities off-policy estimates need. */
  explorationShare: number;
  /** How many items below the page a random slot is drawn from. */
  explorationPool: number;
  /** The k of CTR@k in the online metrics. */
  ctrK: number;
}

export function onlineFrom(e: OnlineEnv): OnlineConfig {
  return {
    impressions: e.IMPRESSIONS,
    attributionWindowMs: e.ATTRIBUTION_WINDOW_MS,
    retentionDays: e.IMPRESSION_RETENTION_DAYS,
    bufferBytes: e.IMPRESSION_BUFFER_BYTES,
    flushMs: e.IMPRESSION_FLUSH_MS,
    explorationShare: e.EXPLORATION_SHARE,
    explorationPool: e.EXPLORATION_POOL,
    ctrK: e.ONLINE_CTR_K,
  };
}
