import { nItems, nPairs, nUsers, type Csr, type Interactions } from '../data/interactions.js';
import { throwIfAborted, type RecModel } from '../models/model.js';
import type { SnapshotArtifacts } from '../serving/artifacts.js';
import { ServingIndex } from '../serving/index.js';
import { MANIFEST_FORMAT, type LoadedSnapshot } from '../serving/snapshots.js';
import { userScoring } from '../serving/user-scoring.js';

/** Recent positives kept per user: what user-to-user reads of a neighbour. */
export const RECENT_PER_USER = 50;
/** Co-occurrence: neighbours kept per item, and each user's most recent items counted (bounds the O(Σ n_u²) pass). */
export const COOCCURRENCE = { neighbours: 50, perUser: 100, shrink: 10 } as const;
/** Users sampled for the score reference. */
const REFERENCE_USERS = 64;

/** Each user's pairs, most recent first (ties: the larger item id, as the leave-one-out split orders them). */
function pairsByRecency(data: Interactions): Int32Array[] {
  const lists: number[][] = Array.from({ length: nUsers(data) }, () => []);
  for (let k = 0; k < nPairs(data); k++) lists[data.user[k]].push(k);
  return lists.map((l) => Int32Array.from(l.sort((a, b) => data.ts[b] - data.ts[a] || data.item[b] - data.item[a])));
}

/** Row u: user u's `perUser` most recent items (the training data holds positives only), most recent first. */
export function recentPositives(data: Interactions, perUser = RECENT_PER_USER): Csr {
  const byUser = pairsByRecency(data);
  const indptr = new Int32Array(byUser.length + 1);
  byUser.forEach((l, u) => (indptr[u + 1] = indptr[u] + Math.min(perUser, l.length)));
  const indices = new Int32Array(indptr[byUser.length]);
  byUser.forEach((l, u) => {
    for (let k = 0; k < indptr[u + 1] - indptr[u]; k++) indices[indptr[u] + k] = data.item[l[k]];
  });
  return { rows: byUser.length, cols: nItems(data), indptr, indices, values: new Float32Array(indices.length).fill(1) };
}

/**
 * Row i: the items sharing the most users with item i, cosine over binary user sets with a
 * shrinkage term (co / (√(nᵢnⱼ) + shrink)), columns in ascending order. Each user counts with
 * their `perUser` most recent items only, so a user with 10,000 ratings costs 100², not 10,000².
 */
export async function cooccurrenceLists(data: Interactions, signal?: AbortSignal): Promise<Csr> {
  const recent = recentPositives(data, COOCCURRENCE.perUser);
  const n = nItems(data);
  const usersOf: number[][] = Array.from({ length: n }, () => []);
  for (let u = 0; u < recent.rows; u++) for (let p = recent.indptr[u]; p < recent.indptr[u + 1]; p++) usersOf[recent.indices[p]].push(u);
  const co = new Float32Array(n);
  const touched: number[] = [];
  const indptr = new Int32Array(n + 1);
  const indices: number[] = [];
  const values: number[] = [];
  let lastCheck = performance.now();
  for (let i = 0; i < n; i++) {
    for (const u of usersOf[i]) {
      for (let q = recent.indptr[u]; q < recent.indptr[u + 1]; q++) {
        const j = recent.indices[q];
        if (j === i) continue;
        if (co[j] === 0) touched.push(j);
        co[j]++;
      }
    }
    const scored = touched.map((j) => ({ j, s: co[j] / (Math.sqrt(usersOf[i].length * usersOf[j].length) + COOCCURRENCE.shrink) }));
    for (const j of touched) co[j] = 0;
    touched.length = 0;
    const top = scored.sort((a, b) => b.s - a.s || a.j - b.j).slice(0, COOCCURRENCE.neighbours).sort((a, b) => a.j - b.j);
    for (const { j, s } of top) {
      indices.push(j);
      values.push(s);
    }
    indptr[i + 1] = indices.length;
    if (performance.now() - lastCheck > 100) {
      await new Promise((r) => setImmediate(r));
      throwIfAborted(signal);
      lastCheck = performance.now();
    }
  }
  return { rows: n, cols: n, indptr, indices: Int32Array.from(indices), values: Float32Array.from(values) };
}

/**
 * A serving index over a model held in memory (the job's evaluated or refit model), as serving
 * would load it; `data` is what the model was fit on (its popularity counts come from it, so an
 * evaluated model's index knows nothing of the held-out interactions).
 */
export async function indexForModel(model: RecModel, data: Interactions, artifacts: SnapshotArtifacts, annMinItems: number): Promise<ServingIndex> {
  const emb = model.embeddings();
  const popularity = new Float32Array(nItems(data));
  for (const i of data.item) popularity[i]++;
  const snapshot: LoadedSnapshot = {
    manifest: {
      format: MANIFEST_FORMAT,
      model: model.name,
      version: 'in-memory',
      createdAt: new Date().toISOString(),
      hyperparameters: {},
      backend: {},
      watermark: {},
      training: {},
      metrics: { valid: {}, test: {} },
      embeddings: { kind: emb.kind, exact: emb.exact, users: nUsers(data), items: nItems(data), factors: emb.item.cols },
      jobId: null,
      files: {},
    },
    dir: '',
    model,
    userIds: [...data.userIds],
    itemIds: [...data.itemIds],
    embeddings: emb,
    popularity,
    artifacts,
  };
  return ServingIndex.build(snapshot, { annMinItems });
}

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

/**
 * The typical best score of a trained user, in the serving space (what serving divides the model
 * source's scores by): the median over an evenly spaced sample of users of their top item's score;
 * `dot` the same for the dot-product part, where the model reranks its candidates.
 */
export function scoreReference(index: ServingIndex): SnapshotArtifacts['reference'] {
  const users = index.userIds.length;
  const step = Math.max(1, Math.floor(users / REFERENCE_USERS));
  const tops: number[] = [];
  const dots: number[] = [];
  for (let u = 0; u < users && tops.length < REFERENCE_USERS; u += step) {
    const scoring = userScoring(index, { userId: index.userIds[u], trusted: true, positives: [], ratingMax: 5 });
    const top = scoring?.top(1, () => false)[0];
    if (top) tops.push(top.score);
    const v = index.userVector(u);
    if (v && !index.exact) {
      const dot = index.topForVector(v, 1, () => false)[0];
      if (dot) dots.push(dot.score);
    }
  }
  const model = median(tops);
  return model === null ? null : { model, dot: median(dots) };
}
