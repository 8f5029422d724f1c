import { csrHas, csrRowLength, type Csr } from './interactions.js';
import type { Rng } from './rng.js';
import type { HeldOut } from './split.js';

/**
 * An item user u never interacted with, by rejection sampling (fast while rows are sparse);
 * -1 when the user has seen every item.
 */
export function sampleUnseen(seen: Csr, u: number, rng: Rng): number {
  const nItems = seen.cols;
  if (csrRowLength(seen, u) >= nItems) return -1;
  for (;;) {
    const j = rng.int(nItems);
    if (!csrHas(seen, u, j)) return j;
  }
}

/**
 * Evaluation candidates (EVALUATION.md §2): per held-out case a row [held-out item, negatives…]
 * of `negatives` distinct items the user never interacted with in any split. A user who has seen
 * nearly everything gets repeated negatives rather than fewer, so every row has the same width.
 */
export function sampleEvalCandidates(cases: HeldOut, everSeen: Csr, negatives: number, rng: Rng): Int32Array {
  const width = negatives + 1;
  const out = new Int32Array(cases.user.length * width);
  for (let c = 0; c < cases.user.length; c++) {
    const u = cases.user[c];
    out[c * width] = cases.item[c];
    const unseen = everSeen.cols - csrRowLength(everSeen, u);
    const distinct = unseen >= negatives;
    const taken = new Set<number>();
    for (let j = 1; j < width; j++) {
      let item = sampleUnseen(everSeen, u, rng);
      while (distinct && taken.has(item)) item = sampleUnseen(everSeen, u, rng);
      taken.add(item);
      out[c * width + j] = item < 0 ? cases.item[c] : item;
    }
  }
  return out;
}

export interface PointwiseInstances {
  user: Int32Array;
  item: Int32Array;
  /** 1 for observed pairs, 0 for sampled negatives. */
  label: Float32Array;
  /** The positive's explicit target, 0 for negatives. */
  explicit: Float32Array;
}

/**
 * How an epoch's instances are ordered: `instances` shuffles every instance (NCF's Keras fit);
 * `groups` shuffles positives but keeps each positive's negatives next to it, so a mini-batch
 * holds (1 + negatives)× fewer distinct users. Models whose per-user work is expensive (DMF's
 * user tower over a whole row of Y) run that much faster; each batch's gradient is still an
 * unbiased estimate over the same instances.
 */
export type EpochOrder = 'instances' | 'groups';

/**
 * One epoch of NCF-style instances: every positive plus `negatives` fresh unobserved items for
 * its user, in a random order.
 */
export function pointwiseEpoch(
  positives: { user: Int32Array; item: Int32Array; explicit: Float32Array },
  seen: Csr,
  negatives: number,
  rng: Rng,
  ordering: EpochOrder = 'instances',
): PointwiseInstances {
  const nPos = positives.user.length;
  const group = 1 + negatives;
  const n = nPos * group;
  const order = new Int32Array(n);
  if (ordering === 'instances') {
    for (let k = 0; k < n; k++) order[k] = k;
    rng.shuffle(order);
  } else {
    const groups = rng.shuffle(Int32Array.from({ length: nPos }, (_, p) => p));
    for (let p = 0; p < nPos; p++) for (let j = 0; j < group; j++) order[p * group + j] = groups[p] * group + j;
  }
  const user = new Int32Array(n);
  const item = new Int32Array(n);
  const label = new Float32Array(n);
  const explicit = new Float32Array(n);
  let k = 0;
  for (let p = 0; p < nPos; p++) {
    const u = positives.user[p];
    const slot = order[k++];
    user[slot] = u;
    item[slot] = positives.item[p];
    label[slot] = 1;
    explicit[slot] = positives.explicit[p];
    for (let j = 0; j < negatives; j++) {
      const s = order[k++];
      const neg = sampleUnseen(seen, u, rng);
      user[s] = u;
      item[s] = neg < 0 ? positives.item[p] : neg;
      label[s] = neg < 0 ? 1 : 0;
      explicit[s] = neg < 0 ? positives.explicit[p] : 0;
    }
  }
  return { user, item, label, explicit };
}
