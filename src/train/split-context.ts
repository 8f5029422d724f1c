import type { LeaderboardConfig, PipelineConfig } from '../config/pipeline.js';
import { leaderboards } from '../config/pipeline.js';
import { nPairs, type Interactions } from '../data/interactions.js';
import { rankLeaderboard } from '../db/leaderboards.js';
import type { DailyCount, UserItem } from '../db/serving-repository.js';
import type { RequestContext } from '../pipeline/context.js';
import { LEADERBOARD_MAX_ITEMS, LeaderboardBook, specOf } from '../pipeline/sources/leaderboards.js';
import type { ServingIndex } from '../serving/index.js';
import { userScoring } from '../serving/user-scoring.js';

const DAY_MS = 86_400_000;
/** The daily-count type the training split's summed event weights stand for (their weights already applied). */
const IMPLICIT = '__implicit';

/**
 * The leaderboards and latest list as they stood for the training split: each board over the
 * split's pairs, its clock at the split's newest interaction. A pair's events are already summed
 * into one weight, so boards with their own `feedback` count events at the default weights here.
 */
export function splitLeaderboards(train: Interactions, pipeline: PipelineConfig): LeaderboardBook {
  const counts: DailyCount[] = [];
  let newest = 0;
  const firstSeen = new Map<number, number>();
  for (let k = 0; k < nPairs(train); k++) {
    const ts = train.ts[k];
    newest = Math.max(newest, ts);
    const item = train.itemIds[train.item[k]];
    const day = Math.floor(ts / DAY_MS);
    if (!Number.isNaN(train.rating[k])) counts.push({ item, day, count: 1, type: null });
    else if (train.implicit[k] > 0) counts.push({ item, day, count: train.implicit[k], type: IMPLICIT });
    firstSeen.set(train.item[k], Math.min(firstSeen.get(train.item[k]) ?? Infinity, ts));
  }
  const boards = leaderboards(pipeline).map(([name, c]: [string, LeaderboardConfig]) => {
    const spec = specOf(name, { ...c, feedback: { rating: c.feedback?.rating ?? 1, [IMPLICIT]: 1 } }, {});
    return rankLeaderboard(counts, spec, newest, null, newest);
  });
  const latest = [...firstSeen]
    .sort((a, b) => b[1] - a[1] || b[0] - a[0])
    .slice(0, LEADERBOARD_MAX_ITEMS)
    .map(([i, createdAt]) => ({ item: train.itemIds[i], createdAt }));
  return LeaderboardBook.fixed(pipeline, { boards, latest, at: newest });
}

/** Each user's training pairs, most recent first (what a request would read as their history). */
export function historiesOf(train: Interactions): Int32Array[] {
  const lists: number[][] = Array.from({ length: train.userIds.length }, () => []);
  for (let k = 0; k < nPairs(train); k++) lists[train.user[k]].push(k);
  return lists.map((l) => Int32Array.from(l.sort((a, b) => train.ts[b] - train.ts[a] || train.item[b] - train.item[a])));
}

/**
 * User u's request context over the training split: their training pairs as the history, their
 * trained vector (the evaluated model was fit on exactly these pairs), their labels. Nothing of the
 * held-out interactions is in it.
 */
export function splitContext(index: ServingIndex, train: Interactions, history: Int32Array, u: number, userLabels: Readonly<Record<string, string>>, ratingMax: number, now: number): RequestContext {
  const positives: UserItem[] = Array.from(history, (k) => ({ item: train.itemIds[train.item[k]], rating: Number.isNaN(train.rating[k]) ? null : train.rating[k], weight: train.implicit[k], disliked: false }));
  const userId = train.userIds[u];
  return {
    userId,
    index,
    scoring: userScoring(index, { userId, trusted: true, positives, ratingMax }),
    positives,
    positivesDense: Array.from(history, (k) => train.item[k]),
    userLabels,
    skip: () => false,
    skipDense: () => false,
    seenDense: () => false,
    filter: {},
    now,
    hide: () => undefined,
  };
}
