import type { ExplorationLog } from '../db/online-repository.js';

export interface OffPolicyEstimate {
  impressions: number;
  slots: number;
  /** Logged slots whose item is the one the target policy would have put there. */
  matchedSlots: number;
  /** Self-normalised inverse-propensity estimate of the target's CTR per slot; null without a match. */
  ctr: number | null;
  /** Its delta-method standard error. */
  standardError: number | null;
  /** (Σw)² / Σw²: how many logged slots the estimate is worth. */
  effectiveSlots: number;
  /** The logging policy's own CTR per slot over the same impressions. */
  loggedCtr: number | null;
  assumptions: string[];
}

export const OFF_POLICY_ASSUMPTIONS = [
  'A click on a slot depends on the item shown there and its position, not on the rest of the list (the item-position model).',
  'The logged propensities are the logging policy\'s true probabilities: exploration draws each exploring slot uniformly from the items ranked just below the page.',
  'The target policy is deterministic and only puts items the logging policy could have shown in a slot (support): a target item outside the logged page and pool is never matched, and the estimate then speaks for the matched slots only.',
  'The target ranks for each user\'s current history, leaving out the items the user has interacted with except those the logged answer showed (the logging policy had left out what was seen then); tastes did not drift in between.',
];

/**
 * SNIPS (Swaminathan & Joachims, 2015) over slots: each logged slot whose item is the target's item
 * for that slot weighs 1/propensity; the estimate is Σ w·click / Σ w. Unbiased as the logs grow
 * under the assumptions above; self-normalising trades a small bias for far less variance than
 * plain IPS.
 */
export async function offPolicyEstimate(logs: readonly ExplorationLog[], targetFor: (log: ExplorationLog, length: number) => Promise<readonly string[] | null>): Promise<OffPolicyEstimate> {
  let slots = 0;
  let matched = 0;
  let clicks = 0;
  let sw = 0;
  let swr = 0;
  const weighted: { w: number; r: number }[] = [];
  for (const log of logs) {
    const length = log.items.reduce((m, x) => Math.max(m, x.position + 1), 0);
    const target = await targetFor(log, length);
    if (!target) continue;
    for (const x of log.items) {
      slots++;
      if (x.positive) clicks++;
      if (target[x.position] !== x.itemId || !(x.propensity > 0)) continue;
      const w = 1 / x.propensity;
      const r = x.positive ? 1 : 0;
      matched++;
      sw += w;
      swr += w * r;
      weighted.push({ w, r });
    }
  }
  const ctr = sw > 0 ? swr / sw : null;
  const sw2 = weighted.reduce((a, x) => a + x.w * x.w, 0);
  const variance = ctr === null ? null : weighted.reduce((a, x) => a + x.w * x.w * (x.r - ctr) ** 2, 0) / (sw * sw);
  return {
    impressions: logs.length,
    slots,
    matchedSlots: matched,
    ctr,
    standardError: variance === null ? null : Math.sqrt(variance),
    effectiveSlots: sw2 > 0 ? (sw * sw) / sw2 : 0,
    loggedCtr: slots > 0 ? clicks / slots : null,
    assumptions: OFF_POLICY_ASSUMPTIONS,
  };
}
