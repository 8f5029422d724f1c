import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { buildInteractions } from '../../src/data/interactions.js';
import { openDb, closeDb } from '../../src/db/sqlite/connection.js';
import { createEventsRepository } from '../../src/db/sqlite/events.js';
import { migrate } from '../../src/db/sqlite/migrate.js';
import { createRatingsRepository } from '../../src/db/sqlite/ratings.js';
import { createTrainingDataRepository } from '../../src/db/sqlite/training.js';
import { syntheticInteractions } from '../../src/data/synthetic.js';
import { initBackend } from '../../src/models/backend.js';
import { withModelSeed } from '../../src/models/registry.js';
import { trainModel, NotEnoughDataError } from '../../src/train/trainer.js';
import { positiveRows } from '../../src/train/job-handler.js';
import { DEFAULT_MIGRATIONS_DIR } from '../../src/config.js';
import { tempDir } from '../helpers/app.js';

const run = promisify(execFile);
const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

describe('training data from the database', () => {
  it('reads ratings and weighted events up to a watermark', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const db = openDb(join(dir, 'r.db'), { busyTimeoutMs: 1000, synchronous: 'NORMAL' });
    try {
      migrate(db, DEFAULT_MIGRATIONS_DIR);
      await createRatingsRepository(db).upsert([
        { userId: 'u1', itemId: 'a', rating: 4, timestamp: 10 },
        { userId: 'u1', itemId: 'b', rating: 2, timestamp: 11 },
      ]);
      await createEventsRepository(db).insert([
        { userId: 'u1', itemId: 'c', type: 'purchase', value: 1, timestamp: 12 },
        { userId: 'u2', itemId: 'a', type: 'view', value: 2, timestamp: 13 },
        { userId: 'u2', itemId: 'a', type: 'click', value: 1, timestamp: 14 },
      ]);
      const { rows, watermark } = await createTrainingDataRepository(db).read({ click: 1, view: 0.5, like: 2, add_to_cart: 3, purchase: 4 });
      expect(watermark).toMatchObject({ ratings: 2, events: 3, users: 2, items: 3 });
      const d = buildInteractions(rows, 5);
      expect(d.user.length).toBe(4);
      const k = d.userIds.indexOf('u2');
      const pair = Array.from(d.user.keys()).find((j) => d.user[j] === k)!;
      expect(d.implicit[pair]).toBe(2); // view 0.5 × value 2 + click 1
    } finally {
      closeDb(db);
    }
  });

  it('keeps disliked pairs (low ratings, dislike events) out of the training positives', () => {
    const rows = [
      { user: 'a', item: 'x', rating: 5, ts: 1 },
      { user: 'a', item: 'y', rating: 2, ts: 1 },
      { user: 'a', item: 'z', weight: 1, ts: 1 },
      { user: 'a', item: 'z', weight: -1, ts: 2 },
      { user: 'b', item: 'z', weight: 1, ts: 1 },
    ];
    expect(positiveRows(rows, 2).map((r) => `${r.user}${r.item}`)).toEqual(['ax', 'bz']);
  });

  it('refuses to train without enough data', async () => {
    const backend = await initBackend('auto');
    const d = buildInteractions([{ user: 'a', item: 'x', rating: 3, ts: 1 }], 5);
    await expect(trainModel(d, { model: 'gmf' }, backend)).rejects.toThrow(NotEnoughDataError);
  });

  it('seed: the same seed repeats a run exactly, another draws other negatives and weights; models without a seed accept it', async () => {
    const backend = await initBackend('cpu');
    const d = syntheticInteractions({ users: 60, items: 90, density: 0.12, seed: 7 });
    const gmf = (seed: number) => trainModel(d, { model: 'gmf', hyper: { factors: 8 }, epochs: 2, seed }, backend);
    const [a, again, other] = [await gmf(5), await gmf(5), await gmf(6)];
    const probe = { users: Int32Array.from([0, 1, 2]), items: Int32Array.from([3, 4, 5]) };
    const scores = (m: typeof a) => Array.from(m.model.scorePairs(probe.users, probe.items));
    expect(a.result.hyper.seed).toBe(5);
    expect(a.result.data.seed).toBe(5);
    expect(scores(again)).toEqual(scores(a));
    expect(again.result.test).toEqual(a.result.test);
    expect(other.result.hyper.seed).toBe(6);
    expect(scores(other)).not.toEqual(scores(a));
    // A seed in hyper wins over the run's; EASE has no initial weights and no seed to take.
    expect(withModelSeed('gmf', { seed: 3 }, 5)).toEqual({ seed: 3 });
    expect(withModelSeed('ease', { lambda: 50 }, 5)).toEqual({ lambda: 50 });
    const ease = await trainModel(d, { model: 'ease', hyper: { lambda: 50 }, seed: 5 }, backend);
    expect(ease.result.data.seed).toBe(5);
  }, 600_000);
});

describe('recflow CLI', () => {
  it('writes a synthetic CSV and trains on it, printing JSON metrics', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const file = join(dir, 'synth.csv');
    const cli = ['--import', 'tsx', 'src/cli.ts'];
    await run('node', [...cli, 'synth', '--users', '80', '--items', '120', '--density', '0.1', '--out', file]);
    expect(readFileSync(file, 'utf8').split('\n')[0]).toBe('user,item,rating,timestamp');
    const { stdout, stderr } = await run('node', [...cli, 'train', '--file', file, '--model', 'itemknn', '--json', '--save', join(dir, 'm')]);
    expect(stderr).toMatch(/backend: (wasm|cpu|tensorflow)/);
    const result = JSON.parse(stdout) as { test: Record<string, number>; data: { users: number } };
    expect(result.data.users).toBe(80);
    expect(result.test['HR@10']).toBeGreaterThan(0);
    expect(readFileSync(join(dir, 'm', 'model.json'), 'utf8')).toContain('itemknn');
    // Text output: the full-ranking metrics appear when asked for, on their own line.
    const text = await run('node', [...cli, 'train', '--file', file, '--model', 'itemknn', '--full-ranking']);
    expect(text.stdout).toMatch(/^test {2}HR@5 [\d.]+ .* HR@10 [\d.]+/m);
    expect(text.stdout).toMatch(/^test, full ranking {2}HR@5 [\d.]+ .* HR@10 [\d.]+/m);
    const imported = await run('node', [...cli, 'import', '--file', file, '--db', join(dir, 'imported.db')]);
    const counts = JSON.parse(imported.stdout) as { ratings: number; badLines: number };
    expect(counts.ratings).toBe(readFileSync(file, 'utf8').trim().split('\n').length - 1);
    expect(counts.badLines).toBe(0);
    // A file with bad lines: the good ones stored, each bad one named on stderr, exit code 1.
    const broken = join(dir, 'broken.csv');
    writeFileSync(broken, 'user,item,rating,timestamp\nu1,i1,4,1000\nu2,,4,1000\nu3,i3,4,1000\nu4,i4,high,1000\n');
    const failed = await run('node', [...cli, 'import', '--file', broken, '--db', join(dir, 'broken.db')]).then(
      () => null,
      (err: { code: number; stdout: string; stderr: string }) => err,
    );
    expect(failed?.code).toBe(1);
    expect(JSON.parse(failed!.stdout)).toMatchObject({ ratings: 2, badLines: 2 });
    expect(failed!.stderr).toMatch(/line 3: /);
    expect(failed!.stderr).toMatch(/line 5: /);

    // auto: a leaderboard, the winner starred, chosen by validation.
    const auto = await run('node', [...cli, 'train', '--file', file, '--model', 'auto', '--budget-minutes', '0.02']);
    const lines = auto.stdout.split('\n');
    expect(lines[0]).toMatch(/model\s+hyperparameters\s+valid HR@10\s+valid NDCG@10\s+test HR@10/);
    expect(lines[1]).toMatch(/^\*\s+(ease|ials|itemknn|bpr|gmf|einmf)\s/);
    expect(auto.stdout).toMatch(/chosen by validation HR@10; test metrics are reported, never used/);
  }, 600_000);

  it('demo: ingests a MovieLens-sized data set, trains, prints answers with the commands for them, and exits (no thread left behind)', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const { stdout } = await run('node', ['--import', 'tsx', 'src/cli.ts', 'demo'], { env: { ...process.env, DATABASE_PATH: join(dir, 'recflow.db'), MODEL_DIR: join(dir, 'models'), LOG_LEVEL: 'warn' }, timeout: 500_000 });
    expect(stdout).toMatch(/^ingested 99,572 ratings \(943 users, 1682 items\) through POST \/ratings$/m);
    expect(stdout).toMatch(/^trained ease \S+ in [\d.]+ s: test HR@10 0\.\d{4}/m);
    expect(stdout).toMatch(/curl -s -H "authorization: Bearer \$\(cat .*api-key\)" 'localhost:8080\/users\/u1\/recommendations\?limit=5'/);
    expect(stdout.match(/^ {4}i\d+ +\d\.\d{4}$/gm)?.length).toBe(10);
  }, 600_000);

  it('rejects bad arguments with a message naming the option', async () => {
    await expect(run('node', ['--import', 'tsx', 'src/cli.ts', 'train', '--model', 'nope'])).rejects.toThrow(/--model/);
    await expect(run('node', ['--import', 'tsx', 'src/cli.ts', 'synth', '--users', '-3'])).rejects.toThrow(/--users/);
  }, 600_000);
});
