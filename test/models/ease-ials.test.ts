import { describe, expect, it } from 'vitest';
import { buildInteractions, toCsr } from '../../src/data/interactions.js';
import { syntheticInteractions } from '../../src/data/synthetic.js';
import { EASE_MAX_ITEMS, EaseModel } from '../../src/models/ease.js';
import { IalsModel } from '../../src/models/ials.js';
import { gramOf, invertSpdInPlace } from '../../src/models/linalg.js';
import { ModelInputError } from '../../src/models/model.js';

describe('EASE', () => {
  // X (users × items) = [[1,1,0],[0,1,1],[1,1,1]], λ = 1: XᵀX + I = [[3,2,1],[2,4,2],[1,2,3]],
  // whose inverse is [[8,−4,0],[−4,8,−4],[0,−4,8]]/16, so B[i][j] = −P[i][j]/P[j][j] is
  // [[0,.5,0],[.5,0,.5],[0,.5,0]] (zero diagonal).
  const rows = [
    ['u0', 'i0'],
    ['u0', 'i1'],
    ['u1', 'i1'],
    ['u1', 'i2'],
    ['u2', 'i0'],
    ['u2', 'i1'],
    ['u2', 'i2'],
  ].map(([user, item], k) => ({ user, item, weight: 1, ts: k }));
  const data = buildInteractions(rows, 5);
  const id = (ids: readonly string[], name: string) => ids.indexOf(name);

  it('matches the closed form on a hand-computed case', async () => {
    const m = new EaseModel(3, 3, { lambda: 1 });
    await m.fit(data, { epochs: 1 });
    const B = [
      [0, 0.5, 0],
      [0.5, 0, 0.5],
      [0, 0.5, 0],
    ];
    const u = (name: string) => id(data.userIds, name);
    const i = (name: string) => id(data.itemIds, name);
    for (const [user, items] of [['u0', ['i0', 'i1']], ['u1', ['i1', 'i2']]] as const) {
      for (const target of ['i0', 'i1', 'i2']) {
        const expected = items.reduce((s, from) => s + B[Number(from[1])][Number(target[1])], 0);
        expect(m.scorePairs(Int32Array.of(u(user)), Int32Array.of(i(target)))[0]).toBeCloseTo(expected, 6);
      }
    }
    // Fold-in is the same computation from the item list: exact for a user it never saw.
    const folded = m.scoresFor([i('i0'), i('i1')]);
    expect(Array.from(folded)).toEqual(Array.from(m.scorePairs(Int32Array.of(u('u0'), u('u0'), u('u0')), Int32Array.of(0, 1, 2))));
  });

  it('inverts SPD matrices exactly enough', async () => {
    const n = 40;
    const A = new Float64Array(n * n);
    for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) A[a * n + b] = (a === b ? n : 0) + Math.cos(a * b);
    for (let a = 0; a < n; a++) for (let b = 0; b < a; b++) A[a * n + b] = A[b * n + a];
    const inv = A.slice();
    await invertSpdInPlace(inv, n);
    for (let a = 0; a < n; a++) {
      for (let b = 0; b < n; b++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += A[a * n + k] * inv[k * n + b];
        expect(s).toBeCloseTo(a === b ? 1 : 0, 10);
      }
    }
  });

  it(`refuses catalogues above ${EASE_MAX_ITEMS.toLocaleString('en')} items, saying why`, () => {
    expect(() => new EaseModel(10, EASE_MAX_ITEMS + 1)).toThrow(ModelInputError);
    expect(() => new EaseModel(10, EASE_MAX_ITEMS + 1)).toThrow(/dense .* matrices .*GiB.*ials/);
  });
});

describe('iALS', () => {
  const data = syntheticInteractions({ users: 120, items: 150, density: 0.08, seed: 4 });
  const hyper = { factors: 8, reg: 0.01, alpha0: 0.2, nu: 1, initStd: 0.1, seed: 3 };

  /** The full objective the alternating solves minimise. */
  function objective(m: IalsModel): number {
    const d = hyper.factors;
    const byUser = toCsr(data, 'byUser');
    const byItem = toCsr(data, 'byItem');
    const dot = (u: number, i: number) => {
      let s = 0;
      for (let f = 0; f < d; f++) s += m.W.data[u * d + f] * m.H.data[i * d + f];
      return s;
    };
    let j = 0;
    for (let u = 0; u < m.nUsers; u++) for (let i = 0; i < m.nItems; i++) j += hyper.alpha0 * dot(u, i) ** 2;
    for (let u = 0; u < m.nUsers; u++) for (let p = byUser.indptr[u]; p < byUser.indptr[u + 1]; p++) j += (dot(u, byUser.indices[p]) - 1) ** 2;
    const norm = (P: Float32Array, r: number) => P.subarray(r * d, (r + 1) * d).reduce((s, x) => s + x * x, 0);
    for (let u = 0; u < m.nUsers; u++) j += hyper.reg * (byUser.indptr[u + 1] - byUser.indptr[u] + hyper.alpha0 * m.nItems) * norm(m.W.data, u);
    for (let i = 0; i < m.nItems; i++) j += hyper.reg * (byItem.indptr[i + 1] - byItem.indptr[i] + hyper.alpha0 * m.nUsers) * norm(m.H.data, i);
    return j;
  }

  it('decreases its objective every epoch', async () => {
    const m = new IalsModel(data.userIds.length, data.itemIds.length, hyper);
    const values = [objective(m)];
    await m.fit(data, { epochs: 6, onEpoch: () => void values.push(objective(m)) });
    expect(values).toHaveLength(7);
    for (let k = 1; k < values.length; k++) expect(values[k]).toBeLessThan(values[k - 1]);
  });

  it('solves a user exactly: the Gram trick equals the normal equations written out over every item', async () => {
    const m = new IalsModel(data.userIds.length, data.itemIds.length, hyper);
    await m.fit(data, { epochs: 2 });
    const d = hyper.factors;
    const items = [3, 17, 42, 99];
    const fast = m.userVectorFor(items, gramOf(m.H.data, m.nItems, d));
    // Naive: Σ_i c_i h_i h_iᵀ with c_i = α₀ + 1 for the user's items and α₀ elsewhere, λ scaled.
    const A = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    const b = new Array<number>(d).fill(0);
    for (let i = 0; i < m.nItems; i++) {
      const c = hyper.alpha0 + (items.includes(i) ? 1 : 0);
      for (let x = 0; x < d; x++) {
        if (items.includes(i)) b[x] += m.H.data[i * d + x];
        for (let y = 0; y < d; y++) A[x][y] += c * m.H.data[i * d + x] * m.H.data[i * d + y];
      }
    }
    for (let x = 0; x < d; x++) A[x][x] += hyper.reg * (items.length + hyper.alpha0 * m.nItems);
    // Gaussian elimination on the dense system.
    for (let col = 0; col < d; col++) {
      for (let r = col + 1; r < d; r++) {
        const f = A[r][col] / A[col][col];
        for (let c = col; c < d; c++) A[r][c] -= f * A[col][c];
        b[r] -= f * b[col];
      }
    }
    const x = new Array<number>(d).fill(0);
    for (let r = d - 1; r >= 0; r--) {
      let s = b[r];
      for (let c = r + 1; c < d; c++) s -= A[r][c] * x[c];
      x[r] = s / A[r][r];
    }
    for (let f = 0; f < d; f++) expect(fast[f]).toBeCloseTo(x[f], 5);
  });
});
