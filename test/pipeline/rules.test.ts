import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipelineSchema } from '../../src/config/pipeline.js';
import { capPerCategory, intraListSimilarity, mmr } from '../../src/pipeline/diversity/diversity.js';
import type { RankedItem } from '../../src/pipeline/ranker/rankers.js';
import { applyBoosts, applyPins } from '../../src/pipeline/rules/rules.js';
import { api, startApp, tempDir, testConfig } from '../helpers/app.js';
import { AUTH, ingestSynthetic, until, waitForJob } from '../helpers/training.js';

const item = (itemId: string, relevance: number, dense = -1): RankedItem => ({ itemId, dense, source: 'model', relevance, proposed: { model: relevance } });
const ids = (list: readonly { itemId: string }[]): string[] => list.map((x) => x.itemId);
const facts = (cats: Record<string, string[]>, labels: Record<string, Record<string, string>> = {}, created: Record<string, number> = {}) => ({
  categoriesOf: (id: string) => cats[id] ?? [],
  labelsOf: (id: string) => labels[id] ?? {},
  createdAt: (id: string) => created[id],
});

describe('rules (unit)', () => {
  const list = ['a', 'b', 'c', 'd', 'e', 'f'].map((id, k) => item(id, 1 - k / 6));

  it('a boost or bury multiplies exactly the matching items and re-sorts; factor 0 removes', () => {
    const p = pipelineSchema.parse({ rules: [{ type: 'boost', factor: 4, category: 'x' }, { type: 'boost', factor: 0.1, label: { key: 'brand', value: 'acme' } }, { type: 'boost', factor: 0, items: ['f'] }] });
    const out = applyBoosts(list, p, facts({ e: ['x'] }, { b: { brand: 'acme' } }), Date.now());
    expect(ids(out)).toEqual(['e', 'a', 'c', 'd', 'b']);
    expect(out[0].relevance).toBeCloseTo((1 - 4 / 6) * 4, 9);
    expect(out.find((x) => x.itemId === 'b')!.relevance).toBeCloseTo((1 - 1 / 6) * 0.1, 9);
  });

  it('freshness boosts by 1 + boost·2^(−age/half-life)', () => {
    const now = Date.UTC(2026, 5, 1);
    const p = pipelineSchema.parse({ freshness: { boost: 1, halfLifeDays: 1 } });
    const out = applyBoosts(list, p, facts({}, {}, { f: now, e: now - 86_400_000 }), now);
    expect(out.find((x) => x.itemId === 'f')!.relevance).toBeCloseTo((1 / 6) * 2, 9);
    expect(out.find((x) => x.itemId === 'e')!.relevance).toBeCloseTo((2 / 6) * 1.5, 9);
  });

  it('a pin places its items from its slot, only inside its dates and for its share of requests', () => {
    const now = Date.UTC(2026, 5, 1);
    const p = pipelineSchema.parse({ rules: [{ type: 'pin', items: ['z', 'd'], slot: 2, from: '2026-05-01T00:00:00Z', until: '2026-07-01T00:00:00Z', share: 0.5 }] });
    const dense = () => -1;
    expect(ids(applyPins(list, p, () => true, dense, now, () => 0.2))).toEqual(['a', 'z', 'd', 'b', 'c', 'e', 'f']);
    expect(ids(applyPins(list, p, () => true, dense, now, () => 0.7))).toEqual(ids(list));
    expect(ids(applyPins(list, p, () => true, dense, Date.UTC(2026, 7, 1), () => 0))).toEqual(ids(list));
    // An item the request may not show is never pinned.
    expect(ids(applyPins(list, p, (id) => id !== 'z', dense, now, () => 0))).toEqual(['a', 'd', 'b', 'c', 'e', 'f']);
  });
});

describe('diversity (unit)', () => {
  it('the category cap holds in every window, and nothing is dropped', () => {
    const cats: Record<string, string[]> = {};
    const list = Array.from({ length: 40 }, (_, k) => item(`i${k}`, 1 - k / 40));
    list.forEach((x, k) => (cats[x.itemId] = [k < 30 ? 'big' : `own${k}`]));
    const out = capPerCategory(list, 3, 10, (id) => cats[id]);
    expect(new Set(ids(out))).toEqual(new Set(ids(list)));
    for (let w = 0; w + 10 <= 40; w += 10) {
      const block = out.slice(w, w + 10).filter((x) => cats[x.itemId][0] === 'big');
      // The last blocks may hold only 'big' items: nothing else is left to place.
      if (w < 10) expect(block.length).toBeLessThanOrEqual(3);
    }
    expect(ids(out.slice(0, 10)).filter((id) => cats[id][0] === 'big')).toHaveLength(3);
  });

  it('MMR lowers the intra-list similarity of a page of near-duplicates', () => {
    const d = 4;
    const vectors = [
      [1, 0, 0, 0],
      [0.99, 0.14, 0, 0],
      [0.98, 0.2, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 1, 0],
      [0, 0, 0, 1],
    ].map((v) => Float32Array.from(v, (x) => x / Math.hypot(...v)));
    const list = vectors.map((_, k) => item(`i${k}`, 1 - k / 10, k));
    const vectorOf = (i: number) => vectors[i].subarray(0, d);
    const plain = intraListSimilarity(list.slice(0, 3), vectorOf)!;
    const diverse = mmr(list, 0.3, 6, vectorOf);
    expect(intraListSimilarity(diverse.slice(0, 3), vectorOf)!).toBeLessThan(plain);
    expect(diverse[0].itemId).toBe('i0');
    expect(ids(mmr(list, 1, 6, vectorOf))).toEqual(ids(list));
  });
});

describe('rules and diversity in the service', () => {
  let plain: FastifyInstance;
  let ruled: FastifyInstance;
  let cleanup: () => void;
  beforeAll(async () => {
    let dir: string;
    ({ dir, cleanup } = tempDir());
    plain = await startApp(testConfig(dir, { MODEL_POLL_MS: '100', POPULARITY_REFRESH_MS: '100' }));
    await ingestSynthetic(plain, 120, 150, 11);
    await api(plain).put('/items').send({ items: Array.from({ length: 150 }, (_, k) => ({ itemId: `i${k + 1}`, categories: [`c${k % 3}`] })) }).expect(200);
    const job = await waitForJob(plain, (await api(plain).post('/admin/retrain').set(AUTH).send({ model: 'ease' })).body.jobId);
    expect(job.state, job.error ?? '').toBe('completed');
    await until(async () => (await api(plain).get('/users/u1/recommendations')).body.model === 'ease', 15_000, 'ease serving');
    const file = path.join(dir, 'rules.yaml');
    fs.writeFileSync(
      file,
      ['pipeline:', '  rules:', '    - { type: boost, factor: 3, category: c1 }', '    - { type: pin, name: promo, items: [i150, i149], slot: 3 }', '  diversity: { maxPerCategory: 4, window: 10 }'].join('\n'),
    );
    ruled = await startApp(testConfig(dir, { RECFLOW_CONFIG: file, MODEL_POLL_MS: '100', POPULARITY_REFRESH_MS: '100' }));
    await until(async () => (await api(ruled).get('/users/u1/recommendations')).body.model === 'ease', 15_000, 'ease serving (ruled)');
  }, 600_000);
  afterAll(async () => {
    await ruled.close();
    await plain.close();
    cleanup();
  });

  it('the boost moves exactly the boosted category, the pin takes its slots, the cap holds per page', async () => {
    const category = (id: string): string => `c${(Number(id.slice(1)) - 1) % 3}`;
    for (const user of ['u2', 'u3', 'u10']) {
      const base = (await api(plain).get(`/users/${user}/recommendations?limit=50`)).body.items as { itemId: string; score: number }[];
      const got = (await api(ruled).get(`/users/${user}/recommendations?limit=10`)).body.items as { itemId: string; source: string }[];
      const seen = new Set(((await api(plain).get(`/users/${user}/history?limit=500`)).body.items as { itemId: string }[]).map((h) => h.itemId));
      const pinned = ['i150', 'i149'].filter((id) => !seen.has(id));
      expect(got.slice(2, 2 + pinned.length).map((x) => [x.itemId, x.source])).toEqual(pinned.map((id) => [id, 'pin:promo']));
      expect(got.filter((x) => x.source.startsWith('pin')).length).toBe(pinned.length);
      const unpinned = got.filter((x) => !x.source.startsWith('pin'));
      expect(unpinned.filter((x) => category(x.itemId) === 'c1').length).toBeLessThanOrEqual(4);
      // Without the cap and pins, the order is the plain list re-sorted by score × 3 for c1.
      const boosted = base
        .filter((x) => x.itemId !== 'i150' && x.itemId !== 'i149')
        .map((x) => ({ id: x.itemId, s: x.score * (category(x.itemId) === 'c1' ? 3 : 1) }))
        .sort((a, b) => b.s - a.s)
        .map((x) => x.id);
      // The cap only defers items: every unpinned item is one of the boosted list's first ones, in its relative order per category.
      for (const c of ['c0', 'c1', 'c2']) {
        const mine = unpinned.map((x) => x.itemId).filter((id) => category(id) === c);
        expect(mine).toEqual(boosted.filter((id) => category(id) === c).slice(0, mine.length));
      }
    }
  });

  it('GET /admin/config shows the rules in effect', async () => {
    const config = (await api(ruled).get('/admin/config').set(AUTH)).body;
    expect(config.pipeline.rules).toHaveLength(2);
    expect(config.pipeline.diversity.maxPerCategory).toBe(4);
  });
});
