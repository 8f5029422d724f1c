import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { featuresSchema } from '../../src/config/features.js';
import { InteractionsBuilder, type Interactions, type RawInteraction } from '../../src/data/interactions.js';
import { Rng } from '../../src/data/rng.js';
import { withContentFeatures } from '../../src/features/attach.js';
import { featuresOf } from '../../src/features/encode.js';
import { initBackend } from '../../src/models/backend.js';
import { HybridModel } from '../../src/models/hybrid.js';
import { loadModel, saveModel } from '../../src/models/persist.js';
import { coldStartEvaluation } from '../../src/train/cold-start.js';
import { api, startApp, tempDir, testConfig } from '../helpers/app.js';
import { AUTH, until, waitForJob } from '../helpers/training.js';

/** Two genres of items, two kinds of users: users like items of their own genre. */
function genres(users: number, items: number, perUser: number, seed: number): RawInteraction[] {
  const rng = new Rng(seed);
  const rows: RawInteraction[] = [];
  for (let u = 0; u < users; u++) {
    const picked = new Set<number>();
    while (picked.size < perUser) {
      const i = Math.floor(items * rng.next() ** 1.5);
      if (i % 2 === u % 2 || rng.next() < 0.1) picked.add(i);
    }
    [...picked].forEach((i, k) => rows.push({ user: `u${u}`, item: `i${i}`, rating: 5, ts: Date.UTC(2025, 0, 1) + k * 60_000 }));
  }
  return rows;
}
const genre = (itemId: string): string => (Number(itemId.slice(1)) % 2 ? 'scifi' : 'drama');
const facts = { categoriesOf: (id: string) => [genre(id)], labelsOf: (id: string) => ({ title: `Film ${id} of ${genre(id)}` }), userLabelsOf: (id: string) => ({ taste: Number(id.slice(1)) % 2 ? 'scifi' : 'drama' }) };
const schema = featuresSchema.parse({ items: { labels: { title: 'text' } }, users: { labels: { taste: 'categorical' } } });

function build(rows: RawInteraction[]): Interactions {
  const b = new InteractionsBuilder();
  for (const r of rows) b.add(r);
  return withContentFeatures(b.build(5), schema, facts);
}

describe('the feature schema', () => {
  it('refuses an unknown label kind and a bad numeric range, naming the field', () => {
    const { dir, cleanup } = tempDir();
    try {
      for (const [text, at] of [
        ['features:\n  items:\n    labels: { title: words }\n', 'features.items.labels.title'],
        ['features:\n  items:\n    labels: { price: { kind: numeric, min: 5, max: 1 } }\n', 'features.items.labels.price.max'],
        ['features:\n  maxPerEntity: 0\n', 'features.maxPerEntity'],
      ]) {
        const file = path.join(dir, 'f.yaml');
        fs.writeFileSync(file, text);
        expect(() => loadConfig({}, { file })).toThrow(ConfigError);
        expect(() => loadConfig({}, { file })).toThrow(at);
      }
    } finally {
      cleanup();
    }
  });

  it('encodes categories, categorical and numeric labels and hashed text n-grams', () => {
    const config = featuresSchema.parse({ items: { labels: { brand: 'categorical', price: { kind: 'numeric', min: 0, max: 100 }, title: 'text' } } });
    const f = featuresOf(config, 'items', ['scifi'], { brand: 'acme', price: '25', title: 'Star Wars', sku: 'x1' });
    expect(f.find((x) => x.name === 'cat:scifi')).toBeDefined();
    expect(f.find((x) => x.name === 'brand=acme')).toBeDefined();
    expect(f.find((x) => x.name === 'price#')?.weight).toBeCloseTo(0.25, 6);
    expect(f.filter((x) => x.name.startsWith('title~')).length).toBeGreaterThan(4);
    expect(f.some((x) => x.name.startsWith('sku'))).toBe(false);
    expect(() => featuresOf(config, 'items', [], { price: 'cheap' })).toThrow(/price/);
  });
});

describe('the hybrid model', () => {
  const data = build(genres(200, 60, 12, 1));
  let model: HybridModel;
  beforeAll(async () => {
    model = new HybridModel(data.userIds.length, data.itemIds.length, { factors: 16, lr: 0.01 });
    await model.fit(data, { epochs: 3 });
  }, 600_000);

  it("gives a new item the normalised sum of its features' vectors, and a new user their labels'", () => {
    const features = featuresOf(schema, 'items', ['scifi'], { title: 'Film x of scifi' });
    const { vector } = model.itemVectorFor(features);
    const vocab = data.itemFeatures!.vocabulary;
    const known = features.filter((f) => vocab.includes(f.name));
    const norm = Math.sqrt(known.reduce((s, f) => s + f.weight ** 2, 0));
    const expected = new Float32Array(16);
    for (const f of known) {
      const c = vocab.indexOf(f.name);
      for (let k = 0; k < 16; k++) expected[k] += (f.weight / norm) * model.FI.data[c * 16 + k];
    }
    expect(Array.from(vector)).toEqual(Array.from(expected).map((x) => expect.closeTo(x, 6)));
    expect(model.userVectorFor([{ name: 'taste=scifi', weight: 1 }]).some((x) => x !== 0)).toBe(true);
    expect(model.userVectorFor([{ name: 'unknown=1', weight: 1 }]).every((x) => x === 0)).toBe(true);
  });

  it('saves and loads its vocabulary: the same scores and the same new-item vectors', async () => {
    const { dir, cleanup } = tempDir();
    try {
      await saveModel(model, dir);
      const loaded = (await loadModel(dir)) as HybridModel;
      const users = Int32Array.from({ length: 100 }, (_, k) => k);
      const items = Int32Array.from({ length: 100 }, (_, k) => (k * 7) % 60);
      expect(loaded.scorePairs(users, items)).toEqual(model.scorePairs(users, items));
      const features = featuresOf(schema, 'items', ['drama'], { title: 'A new drama' });
      expect(loaded.itemVectorFor(features)).toEqual(model.itemVectorFor(features));
    } finally {
      cleanup();
    }
  });
});

describe('the cold-start protocol', () => {
  it('never lets a held-out item or its interactions into training, and ranks cold items above chance', async () => {
    const rows = genres(300, 200, 15, 2);
    const b = new InteractionsBuilder();
    for (const r of rows) b.add(r);
    const data = b.build(5);
    let warmItems: readonly string[] = [];
    let vocabulary: readonly string[] = [];
    const report = await coldStartEvaluation(data, { model: 'hybrid', hyper: { factors: 16, lr: 0.01 }, epochs: 4 }, await initBackend('cpu'), {
      share: 0.25,
      seed: 3,
      features: schema,
      facts,
      onWarmData: (warm) => {
        warmItems = warm.itemIds;
        vocabulary = warm.itemFeatures!.vocabulary;
      },
    });
    const cold = new Set(data.itemIds.filter((id) => !warmItems.includes(id)));
    expect(cold.size).toBe(report.coldItems);
    expect(report.coldItems).toBe(Math.round(0.25 * data.itemIds.length));
    // The vocabulary comes from warm items only: a cold item's own title words are not in it.
    const coldOnly = [...cold].flatMap((id) => featuresOf(schema, 'items', [], { title: facts.labelsOf(id).title })).map((f) => f.name);
    const warmNames = new Set(warmItems.flatMap((id) => featuresOf(schema, 'items', facts.categoriesOf(id), facts.labelsOf(id)).map((f) => f.name)));
    expect(vocabulary.every((name) => warmNames.has(name))).toBe(true);
    expect(coldOnly.some((name) => !warmNames.has(name))).toBe(true);
    // Genre is the whole planted signal: it halves the candidates, so twice chance is the ceiling.
    expect(report.model!['HR@10']).toBeGreaterThan(1.5 * report.random['HR@10']);
    expect(report.warm.data.items).toBe(warmItems.length);
  }, 600_000);
});

describe('in the service', () => {
  let app: FastifyInstance;
  let cleanup: () => void;
  beforeAll(async () => {
    let dir: string;
    ({ dir, cleanup } = tempDir());
    const file = path.join(dir, 'recflow.yaml');
    fs.writeFileSync(file, 'features:\n  maxPerEntity: 60\n  items:\n    labels: { title: text }\n  users:\n    labels: { taste: categorical }\n');
    app = await startApp(testConfig(dir, { RECFLOW_CONFIG: file, MODEL_POLL_MS: '100', POPULARITY_REFRESH_MS: '100' }));
    const rows = genres(200, 60, 12, 4);
    await api(app).post('/ratings').send({ ratings: rows.map((r) => ({ userId: r.user, itemId: r.item, rating: 5, timestamp: r.ts })) }).expect(200);
    await api(app).put('/items').send({ items: Array.from({ length: 60 }, (_, i) => ({ itemId: `i${i}`, categories: [genre(`i${i}`)], labels: facts.labelsOf(`i${i}`) })) }).expect(200);
    for (let u = 0; u < 200; u += 1) await api(app).put(`/users/u${u}`).send({ labels: facts.userLabelsOf(`u${u}`) }).expect(200);
    const job = await waitForJob(app, (await api(app).post('/admin/retrain').set(AUTH).send({ model: 'hybrid', epochs: 8, hyper: { factors: 16, lr: 0.01 } })).body.jobId);
    expect(job.state, job.error ?? '').toBe('completed');
    await until(async () => (await api(app).get('/users/u1/recommendations')).body.model === 'hybrid', 15_000, 'hybrid serving');
  }, 600_000);
  afterAll(async () => {
    await app.close();
    cleanup();
  });

  it('a new item PUT with labels has similar items and can be recommended at once, with no retrain', async () => {
    const res = await api(app).put('/items/brand-new').send({ categories: ['scifi'], labels: { title: 'Film brand-new of scifi' } });
    expect(res.status).toBe(200);
    const similar = await api(app).get('/items/brand-new/similar?limit=10');
    expect(similar.status).toBe(200);
    expect(similar.body.items.length).toBe(10);
    expect(similar.body.items.filter((x: { itemId: string }) => genre(x.itemId) === 'scifi').length).toBeGreaterThanOrEqual(8);
    const alone = await api(app).get('/users/u1/recommendations?source=model&limit=60');
    expect(alone.body.items.map((x: { itemId: string }) => x.itemId)).toContain('brand-new');
    // A drama fan is offered the new science-fiction film below what a science-fiction fan is.
    const rankFor = async (user: string) => (await api(app).get(`/users/${user}/recommendations?source=model&limit=60`)).body.items.findIndex((x: { itemId: string }) => x.itemId === 'brand-new');
    expect(await rankFor('u1')).toBeLessThan(await rankFor('u2'));
  });

  it('a new user with labels and no history is folded in from the labels', async () => {
    await api(app).put('/users/newcomer').send({ labels: { taste: 'scifi' } }).expect(200);
    const res = (await api(app).get('/users/newcomer/recommendations?source=model&limit=10')).body;
    expect(res).toMatchObject({ method: 'fold-in' });
    expect(res.items.filter((x: { itemId: string }) => genre(x.itemId) === 'scifi').length).toBeGreaterThanOrEqual(7);
  });

  it('refuses labels the schema cannot take, naming the field, and stores nothing', async () => {
    // ~40 words: with their pairs and trigrams, more than the 60 features this service allows.
    const long = Array.from({ length: 60 }, (_, k) => `w${k}xy`).join(' ').slice(0, 256);
    const res = await api(app).put('/items/too-long').send({ labels: { title: long } });
    expect(res.status).toBe(400);
    expect(res.body.details[0].path).toBe('body.labels');
    const batch = await api(app).put('/items').send({ items: [{ itemId: 'ok' }, { itemId: 'bad', labels: { title: long } }] });
    expect(batch.status).toBe(400);
    expect(batch.body.details[0].path).toBe('body.items.1.labels');
    expect((await api(app).get('/items/too-long')).status).toBe(404);
    expect((await api(app).get('/items/ok')).status).toBe(404);
  });
});
