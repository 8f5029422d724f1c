import { nPairs, subset, type Interactions } from './interactions.js';
import type { Rng } from './rng.js';

/** Held-out (user, item) pairs: the items a model must rank highly for their users. */
export interface HeldOut {
  user: Int32Array;
  item: Int32Array;
}

export interface DataSplit {
  train: Interactions;
  valid: HeldOut;
  test: HeldOut;
}

/** Indices of each user's pairs, ordered from oldest to latest (ties: smaller item id first). */
function pairsByUserChronological(d: Interactions): number[][] {
  const byUser: number[][] = Array.from({ length: d.userIds.length }, () => []);
  for (let k = 0; k < nPairs(d); k++) byUser[d.user[k]].push(k);
  for (const list of byUser) list.sort((a, b) => d.ts[a] - d.ts[b] || d.item[a] - d.item[b]);
  return byUser;
}

function heldOut(d: Interactions, indices: number[]): HeldOut {
  return { user: Int32Array.from(indices, (k) => d.user[k]), item: Int32Array.from(indices, (k) => d.item[k]) };
}

/**
 * Leave-one-out (EVALUATION.md §1): each user's latest pair is the test item (ties: the larger
 * internal item id), the second-latest the validation item; users with fewer than three pairs
 * keep all of them in training and are not evaluated.
 */
export function leaveOneOutSplit(d: Interactions): DataSplit {
  return splitPerUser(d, (list) => ({ test: list.slice(-1), valid: list.slice(-2, -1), train: list.slice(0, -2) }));
}

/**
 * Applies a per-user partition of chronologically ordered pair indices; users with fewer than
 * three pairs keep all of them in training and are not evaluated.
 */
function splitPerUser(d: Interactions, partition: (list: number[]) => { train: number[]; valid: number[]; test: number[] }): DataSplit {
  const train: number[] = [];
  const valid: number[] = [];
  const test: number[] = [];
  for (const list of pairsByUserChronological(d)) {
    if (list.length < 3) {
      train.push(...list);
      continue;
    }
    const p = partition(list);
    train.push(...p.train);
    valid.push(...p.valid);
    test.push(...p.test);
  }
  train.sort((a, b) => a - b);
  return { train: subset(d, train), valid: heldOut(d, valid), test: heldOut(d, test) };
}

/**
 * Random per-user ratio split (EINMF's 80/10/10): each user with at least three pairs gives
 * round(valid·n) and round(test·n) pairs (at least one each) to validation and test.
 */
export function ratioSplit(d: Interactions, rng: Rng, validShare = 0.1, testShare = 0.1): DataSplit {
  if (validShare < 0 || testShare < 0 || validShare + testShare >= 1) throw new RangeError('shares must be ≥ 0 and sum below 1');
  return splitPerUser(d, (list) => {
    rng.shuffle(list);
    const nTest = Math.max(1, Math.round(testShare * list.length));
    const nValid = Math.max(1, Math.round(validShare * list.length));
    return { test: list.slice(0, nTest), valid: list.slice(nTest, nTest + nValid), train: list.slice(nTest + nValid) };
  });
}
