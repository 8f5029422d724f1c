import { describe, expect, it } from 'vitest';
import { nItems, nPairs, type Interactions } from '../../src/data/interactions.js';
import { leaveOneOutSplit } from '../../src/data/split.js';
import { syntheticInteractions } from '../../src/data/synthetic.js';
import { initBackend } from '../../src/models/backend.js';
import type { RecModel } from '../../src/models/model.js';
import { trainModel, type TrainRequest } from '../../src/train/trainer.js';

/** Mean share of items that outscore each user's held-out latest item (0 = always first). */
function heldOutRank(model: RecModel, data: Interactions): number {
  const { test } = leaveOneOutSplit(data);
  const n = nItems(data);
  const items = Int32Array.from({ length: n }, (_, i) => i);
  let total = 0;
  for (let k = 0; k < test.user.length; k++) {
    const scores = model.scorePairs(new Int32Array(n).fill(test.user[k]), items);
    const target = scores[test.item[k]];
    let above = 0;
    for (const s of scores) if (s > target) above++;
    total += above / n;
  }
  return total / test.user.length;
}

describe('refit on all data', () => {
  const data = syntheticInteractions({ users: 200, items: 300, density: 0.06, seed: 5 });
  const request: TrainRequest = { model: 'gmf', hyper: { factors: 16, lr: 0.01 }, epochs: 8 };

  it('returns a model that learned the held-out interactions, reporting the evaluated metrics', async () => {
    const backend = await initBackend('auto');
    const evaluated = await trainModel(data, request, backend);
    const phases: string[] = [];
    const refit = await trainModel(data, { ...request, refit: true }, backend, { onProgress: (p) => void phases.push(p.phase) });

    expect(evaluated.result.refit).toBeUndefined();
    expect(refit.result.test).toEqual(evaluated.result.test);
    expect(refit.result.refit).toEqual({ epochs: evaluated.result.fit.bestEpoch, pairs: nPairs(data), seconds: expect.any(Number) });
    expect(phases.filter((p) => p === 'refit')).toHaveLength(evaluated.result.fit.bestEpoch);
    expect(phases.indexOf('refit')).toBeGreaterThan(phases.indexOf('evaluating'));

    const before = heldOutRank(evaluated.model, data);
    const after = heldOutRank(refit.model, data);
    expect(after).toBeLessThan(before * 0.5);
  }, 600_000);

  it('repeats every phase of NeuMF for the evaluated run\'s kept epochs, pretraining included', async () => {
    const backend = await initBackend('auto');
    const small = syntheticInteractions({ users: 80, items: 120, density: 0.08, seed: 6 });
    const phases: string[] = [];
    const { result } = await trainModel(
      small,
      { model: 'neumf', hyper: { factors: 8, lr: 0.01, pretrainEpochs: 4 }, epochs: 3, patience: 1, refit: true },
      backend,
      { onProgress: (p) => void phases.push(p.phase) },
    );
    const kept = result.fit.phaseBestEpochs!;
    expect(Object.keys(kept).sort()).toEqual(['pretrain-gmf', 'pretrain-mlp']);
    expect(result.refit).toMatchObject({ epochs: result.fit.bestEpoch, phaseEpochs: kept, pairs: nPairs(small) });
    const count = (phase: string) => phases.filter((p) => p === phase).length;
    expect(count('refit-pretrain-gmf')).toBe(kept['pretrain-gmf']);
    expect(count('refit-pretrain-mlp')).toBe(kept['pretrain-mlp']);
    expect(count('refit')).toBe(result.fit.bestEpoch);
  }, 600_000);
});
