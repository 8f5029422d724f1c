import { describe, expect, it } from 'vitest';
import { syntheticInteractions } from '../../src/data/synthetic.js';
import { initBackend } from '../../src/models/backend.js';
import { pickWinner, searchModels } from '../../src/train/auto.js';

const metrics = (hr: number, ndcg = 0) => ({ 'HR@5': 0, 'NDCG@5': 0, 'HR@10': hr, 'NDCG@10': ndcg, 'HR@20': 0, 'NDCG@20': 0 });

describe('auto', () => {
  it('chooses by validation HR@10, ties to the higher validation NDCG@10, then to the faster', () => {
    expect(pickWinner([{ valid: metrics(0.5, 0.9), seconds: 1 }, { valid: metrics(0.6, 0.1), seconds: 9 }, { valid: null, seconds: 0 }])).toBe(1);
    expect(pickWinner([{ valid: metrics(0.6, 0.3), seconds: 2 }, { valid: metrics(0.6, 0.4), seconds: 9 }, { valid: metrics(0.6, 0.35), seconds: 1 }])).toBe(1);
    expect(pickWinner([{ valid: metrics(0.6), seconds: 5 }, { valid: metrics(0.6), seconds: 2 }])).toBe(1);
    expect(pickWinner([{ valid: null, seconds: 0 }])).toBe(-1);
  });

  it('never chooses by test metrics: with validation and test disagreeing, the validation winner is kept', async () => {
    const data = syntheticInteractions({ users: 300, items: 400, density: 0.06, seed: 1 });
    const backend = await initBackend('cpu');
    const run = await searchModels(data, { budgetMinutes: 5, refit: false, candidates: [{ model: 'ease', hyper: { lambda: 100 } }, { model: 'itemknn', hyper: { neighbours: 100, shrink: 10 } }] }, backend);
    const [ease, knn] = run.leaderboard;
    // The precondition that makes this test able to fail: the two splits rank the candidates differently.
    expect(Math.sign(ease.valid!['HR@10'] - knn.valid!['HR@10'])).not.toBe(Math.sign(ease.test!['HR@10'] - knn.test!['HR@10']));
    const byValid = ease.valid!['HR@10'] > knn.valid!['HR@10'] ? 0 : 1;
    expect(run.winner).toBe(byValid);
    expect(run.model.name).toBe(run.leaderboard[byValid].model);
    expect(run.result.valid['HR@10']).toBe(run.leaderboard[byValid].valid!['HR@10']);
  }, 600_000);

  it('stays within its budget: the first candidate trains, those after the deadline are skipped', async () => {
    const data = syntheticInteractions({ users: 60, items: 80, density: 0.1, seed: 2 });
    const backend = await initBackend('cpu');
    const run = await searchModels(data, { budgetMinutes: 1e-6, refit: true, candidates: [{ model: 'ease', hyper: {} }, { model: 'ials', hyper: { factors: 8 } }, { model: 'einmf', hyper: {} }] }, backend);
    expect(run.leaderboard[0].status).toBe('done');
    expect(run.leaderboard.slice(1).every((e) => e.status === 'skipped' && e.valid === null)).toBe(true);
    expect(run.result.refit).toBeDefined();
  }, 600_000);
});
