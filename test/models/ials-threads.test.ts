import { describe, expect, it } from 'vitest';
import { syntheticInteractions } from '../../src/data/synthetic.js';
import { balancedRowRanges } from '../../src/models/als.js';
import { IalsModel } from '../../src/models/ials.js';
import { TrainingAborted } from '../../src/models/model.js';
import { liveWorkerThreads } from '../../src/threads/channel.js';

// Real worker threads: each start costs ~1 s under tsx.
const data = syntheticInteractions({ users: 300, items: 250, density: 0.06, seed: 8 });
const hyper = { factors: 12, reg: 0.01, alpha0: 0.3, seed: 5 };
const fresh = () => new IalsModel(data.userIds.length, data.itemIds.length, hyper);

describe('iALS on several threads', () => {
  it('splits rows into consecutive ranges of about equal work', () => {
    // Row 0 has 150 columns, the 9 others 10 each: with d = 3 (2 per row for the solve), 152 of 260.
    const indptr = Int32Array.from([0, 150, 160, 170, 180, 190, 200, 210, 220, 230, 240]);
    expect(balancedRowRanges(indptr, 2, 3)).toEqual([
      [0, 1],
      [1, 10],
    ]);
    const three = balancedRowRanges(Int32Array.from({ length: 31 }, (_, r) => r * 5), 3, 6);
    expect(three).toEqual([
      [0, 10],
      [10, 20],
      [20, 30],
    ]);
    // More parts than rows: the extra ones are empty.
    expect(balancedRowRanges(Int32Array.from([0, 4]), 3, 8)).toEqual([
      [0, 1],
      [1, 1],
      [1, 1],
    ]);
  });

  it('gives exactly the factors of one thread, says it used two, and leaves no thread behind', async () => {
    const one = fresh();
    const two = fresh();
    const a = await one.fit(data, { epochs: 4 });
    const b = await two.fit(data, { epochs: 4, threads: 2 });
    expect(a.threads).toBeUndefined();
    expect(b.threads).toBe(2);
    expect(Array.from(two.W.data)).toEqual(Array.from(one.W.data));
    expect(Array.from(two.H.data)).toEqual(Array.from(one.H.data));
    expect(liveWorkerThreads()).toBe(0);
  });

  it('stops its threads when the fit is aborted', async () => {
    const controller = new AbortController();
    const fit = fresh().fit(data, { epochs: 50, threads: 2, signal: controller.signal, onEpoch: () => controller.abort(new TrainingAborted('cancelled')) });
    await expect(fit).rejects.toBeInstanceOf(TrainingAborted);
    expect(liveWorkerThreads()).toBe(0);
  });
});
