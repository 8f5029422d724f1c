#!/usr/bin/env node
import { createWriteStream, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { Command, InvalidArgumentError, Option } from 'commander';
import { buildInteractions, nPairs, type Interactions } from './data/interactions.js';
import { emptyReport, FILE_FORMATS, loadInteractionsFile, readInteractionRecords } from './data/loaders.js';
import { generateSynthetic, type SyntheticOptions } from './data/synthetic.js';
import { loadConfig, type Config } from './config.js';
import type { EventRecord, RatingRecord } from './db/ingest-types.js';
import { configWithDb, DB_OPTION_HELP, withStore } from './cli/database.js';
import { initBackend } from './models/backend.js';
import { BACKEND_CHOICES, MODEL_NAMES, type BackendChoice, type ModelName } from './models/model.js';
import { saveModel } from './models/persist.js';
import { DEFAULT_AUTO_BUDGET_MINUTES, searchModels } from './train/auto.js';
import type { RankingMetrics } from './train/evaluate.js';
import { trainModel } from './train/trainer.js';
import { trainingThreads, type ThreadSetting } from './train/threads.js';
import { formatLeaderboard } from './cli/leaderboard.js';
import { trainingProgress } from './cli/progress.js';
import { demoCommand } from './cli/demo.js';
import { keysCommand } from './cli/keys.js';
import { migrateDbCommand } from './cli/migrate-db.js';
import { featureFiles, runColdStart, withFacts } from './cli/features.js';
import { configCommand } from './cli/config.js';
import { runWorker } from './worker.js';

const int = (name: string, min: number, max: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer in [${min}, ${max}]`);
  return n;
};
const num = (name: string, min: number, max: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a number in [${min}, ${max}]`);
  return n;
};
const threadSetting = (v: string): ThreadSetting => (v === 'auto' ? 'auto' : int('--threads', 1, 64)(v));
const json = (v: string): Record<string, unknown> => {
  try {
    const parsed: unknown = JSON.parse(v);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    /* reported below */
  }
  throw new InvalidArgumentError('--hyper must be a JSON object, e.g. \'{"factors":32}\'');
};

async function writeSynthetic(options: SyntheticOptions, out: string): Promise<number> {
  const stream = out === '-' ? process.stdout : createWriteStream(out);
  let n = 0;
  const write = async (line: string): Promise<void> => {
    if (!stream.write(line)) await once(stream, 'drain');
  };
  await write('user,item,rating,timestamp\n');
  for (const r of generateSynthetic(options)) {
    await write(`${r.user},${r.item},${r.rating},${r.ts}\n`);
    n++;
  }
  if (stream !== process.stdout) {
    stream.end();
    await once(stream, 'finish');
  }
  return n;
}


function metricsLine(label: string, m: RankingMetrics): string {
  return `${label}  HR@5 ${m['HR@5'].toFixed(4)}  NDCG@5 ${m['NDCG@5'].toFixed(4)}  HR@10 ${m['HR@10'].toFixed(4)}  NDCG@10 ${m['NDCG@10'].toFixed(4)}  HR@20 ${m['HR@20'].toFixed(4)}  NDCG@20 ${m['NDCG@20'].toFixed(4)}\n`;
}

async function dataFrom(opts: { file?: string; format: string; db?: string; ratingMax?: number }): Promise<Interactions> {
  if (opts.file) {
    const loaded = await loadInteractionsFile(opts.file, { format: opts.format as (typeof FILE_FORMATS)[number] | 'auto', ratingMax: opts.ratingMax });
    process.stderr.write(`${opts.file}: ${loaded.format}, ${loaded.accepted} interactions from ${loaded.lines} lines, ${loaded.errorCount} bad\n`);
    for (const e of loaded.errors.slice(0, 10)) process.stderr.write(`  line ${e.line}: ${e.message}\n`);
    return loaded.interactions;
  }
  const config = configWithDb(opts.db);
  return withStore(config, async (store) => {
    const { rows } = await store.training.read(config.eventWeights);
    return buildInteractions(rows, opts.ratingMax ?? config.ratingMax);
  });
}

/**
 * Streams a file into the database in batches of 10,000, each one transaction, through the ingest
 * repositories: memory stays constant whatever the file's size (it used to hold the whole file).
 */
async function importFile(config: Config, file: string, format: (typeof FILE_FORMATS)[number] | 'auto'): Promise<Record<string, number>> {
  return withStore(config, async ({ ratings, events }) => {
    const report = emptyReport();
    const totals = { ratings: 0, events: 0, badLines: 0 };
    let rated: RatingRecord[] = [];
    let clicked: EventRecord[] = [];
    const flush = async (): Promise<void> => {
      const r = await ratings.upsert(rated);
      totals.ratings += r.inserted + r.updated;
      totals.events += (await events.insert(clicked)).inserted;
      rated = [];
      clicked = [];
    };
    for await (const rec of readInteractionRecords(file, { format }, report)) {
      const base = { userId: rec.user, itemId: rec.item, timestamp: rec.ts || Date.now() };
      if (rec.rating !== undefined) rated.push({ ...base, rating: Math.min(config.ratingMax, Math.max(config.ratingMin, rec.rating)) });
      else clicked.push({ ...base, type: 'click', value: rec.weight ?? 1, ...(rec.ts ? {} : { stamped: true }) });
      if (rated.length + clicked.length >= 10_000) await flush();
    }
    await flush();
    totals.badLines = report.errorCount;
    // Named on stderr, so a script sees what to fix; stdout keeps the one JSON line of totals.
    for (const e of report.errors) process.stderr.write(`${file}: line ${e.line}: ${e.message}\n`);
    if (report.errorCount > report.errors.length) process.stderr.write(`${file}: ${report.errorCount - report.errors.length} more bad lines not listed\n`);
    return totals;
  });
}

export function buildCli(): Command {
  const program = new Command('recflow').description('recflow: recommendation service, trainer and tools').showHelpAfterError();

  program
    .command('synth')
    .description('write a synthetic data set with planted low-rank structure as CSV')
    .option('--users <n>', 'users', int('--users', 1, 10_000_000), 943)
    .option('--items <n>', 'items', int('--items', 2, 10_000_000), 1682)
    .option('--density <x>', 'mean share of items per user', num('--density', 0, 1), 0.063)
    .option('--rank <n>', 'rank of the planted factors', int('--rank', 1, 512), 8)
    .option('--popularity-skew <x>', 'Zipf exponent of item popularity (0: none)', num('--popularity-skew', 0, 10), 0.8)
    .option('--activity-sigma <x>', 'σ of the log-normal interactions per user (MovieLens-20M: about 1)', num('--activity-sigma', 0, 5), 0.7)
    .option('--min-per-user <n>', 'fewest interactions of a user (MovieLens: 20)', int('--min-per-user', 1, 1_000_000), 3)
    .option('--seed <n>', 'seed', int('--seed', 0, 2 ** 31 - 1), 1)
    .option('--out <file>', 'output file, - for stdout', '-')
    .action(async (o: { users: number; items: number; density: number; rank: number; popularitySkew: number; activitySigma: number; minPerUser: number; seed: number; out: string }) => {
      const shape = { popularitySkew: o.popularitySkew, activitySigma: o.activitySigma, minPerUser: o.minPerUser };
      const n = await writeSynthetic({ users: o.users, items: o.items, density: o.density, rank: o.rank, seed: o.seed, ...shape }, o.out);
      if (o.out !== '-') process.stderr.write(`wrote ${n} ratings to ${o.out}\n`);
    });

  program
    .command('train')
    .description('train and evaluate a model on a file or on the database (leave-one-out, HR/NDCG@5/10/20)')
    .option('--file <path>', 'interactions file (MovieLens u.data / ratings.dat, RecBole .inter, CSV)')
    .addOption(new Option('--format <format>', 'file format').choices(['auto', ...FILE_FORMATS]).default('auto'))
    .option('--db <path>', `train on a database instead of a file; ${DB_OPTION_HELP}`)
    .addOption(new Option('--model <name>', 'model, or auto: search the candidates and keep the best by validation HR@10').choices(['auto', ...MODEL_NAMES]).default('gmf'))
    .option('--budget-minutes <x>', 'auto: minutes the search may take', num('--budget-minutes', 0.01, 1440), DEFAULT_AUTO_BUDGET_MINUTES)
    .option('--epochs <n>', 'epochs of the main phase', int('--epochs', 1, 10_000))
    .option('--patience <n>', 'early stopping patience (epochs)', int('--patience', 1, 1000), 3)
    .option('--hyper <json>', 'model hyperparameters as JSON', json)
    .addOption(new Option('--split <kind>', 'loo = leave-one-out (NCF/DMF), ratio = 80/10/10 (EINMF)').choices(['loo', 'ratio']).default('loo'))
    .option('--rating-max <x>', 'top of the rating scale (default: file maximum / RATING_MAX)', num('--rating-max', 0, 1e9))
    .option('--full-ranking', 'also evaluate against all unseen items')
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend').choices([...BACKEND_CHOICES]).default('auto'))
    .option('--threads <n>', 'threads training the neural models and iALS, or auto (every core; one below 20,000 interactions)', threadSetting, 'auto')
    .option('--seed <n>', 'seed of the evaluation negatives and of the initial weights (repeat a run, or vary it to see the spread)', int('--seed', 0, 2 ** 31 - 1), 42)
    .option('--items <file>', 'item features (MovieLens u.item, CSV with an id column, NDJSON): categories and labels, read under the features schema of the configuration file')
    .option('--users <file>', 'user features (MovieLens u.user, CSV, NDJSON): labels')
    .option('--cold-items <share>', 'cold-start protocol: hold out this share of the items entirely and rank them from their features', num('--cold-items', 0.01, 0.9))
    .option('--save <dir>', 'write the trained model to this directory')
    .option('--refit', 'after evaluation, refit on all data for the kept epoch count (the model --save writes)')
    .option('--json', 'print the result as JSON')
    .action(async (o: { file?: string; format: string; db?: string; model: ModelName | 'auto'; budgetMinutes: number; epochs?: number; patience: number; hyper?: Record<string, unknown>; split: 'loo' | 'ratio'; ratingMax?: number; fullRanking?: boolean; backend: BackendChoice; threads: ThreadSetting; seed: number; save?: string; refit?: boolean; json?: boolean; items?: string; users?: string; coldItems?: number }) => {
      const backend = await initBackend(o.backend);
      process.stderr.write(`backend: ${backend.name} (${backend.reason})\n`);
      const { features } = loadConfig();
      const facts = await featureFiles(o.items, o.users);
      const raw = await dataFrom(o);
      const threads0 = trainingThreads(o.threads, nPairs(raw));
      if (o.coldItems !== undefined) {
        if (o.model === 'auto') throw new InvalidArgumentError('--cold-items evaluates one model: name it with --model (hybrid reads the features)');
        await runColdStart(raw, { model: o.model, hyper: o.hyper, epochs: o.epochs, patience: o.patience, threads: threads0, seed: o.seed }, backend, o.coldItems, features, facts, o.json ?? false);
        return;
      }
      const data = withFacts(raw, features, facts);
      const progress = trainingProgress();
      const hooks = { onProgress: progress.onProgress, onEpochProgress: progress.onEpochProgress };
      const threads = trainingThreads(o.threads, nPairs(data));
      if (o.model === 'auto') {
        const auto = await searchModels(data, { budgetMinutes: o.budgetMinutes, refit: o.refit ?? false, patience: o.patience, threads, seed: o.seed }, backend, hooks);
        progress.stop();
        if (o.save) await saveModel(auto.model, o.save);
        process.stdout.write(o.json ? `${JSON.stringify({ winner: auto.leaderboard[auto.winner], leaderboard: auto.leaderboard }, null, 2)}\n` : `${formatLeaderboard(auto.leaderboard, auto.winner)}\n`);
        return;
      }
      const { model, result } = await trainModel(
        data,
        { model: o.model, hyper: o.hyper, epochs: o.epochs, patience: o.patience, split: o.split, fullRanking: o.fullRanking, refit: o.refit, threads, seed: o.seed },
        backend,
        hooks,
      );
      progress.stop();
      if (o.save) await saveModel(model, o.save);
      if (o.json) {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        `${result.model}: best epoch ${result.fit.bestEpoch}/${result.fit.epochs}, ${result.seconds.toFixed(1)} s, ${Math.round(result.fit.samplesPerSec).toLocaleString('en')} samples/s\n` +
          metricsLine('test', result.test) +
          (result.testFull ? metricsLine('test, full ranking', result.testFull) : ''),
      );
    });
  program
    .command('import')
    .description('load an interactions file into the database (ratings; rows without a rating become click events)')
    .requiredOption('--file <path>', 'interactions file (MovieLens u.data / ratings.dat, RecBole .inter, CSV)')
    .addOption(new Option('--format <format>', 'file format').choices(['auto', ...FILE_FORMATS]).default('auto'))
    .option('--db <path>', DB_OPTION_HELP)
    .action(async (o: { file: string; format: string; db?: string }) => {
      const config = configWithDb(o.db);
      const counts = await importFile(config, o.file, o.format as (typeof FILE_FORMATS)[number] | 'auto');
      process.stdout.write(`${JSON.stringify(counts)}\n`);
      // The good lines are stored; a skipped line still fails the command, so a pipeline notices.
      if (counts.badLines > 0) process.exitCode = 1;
    });

  program.addCommand(keysCommand());
  program.addCommand(demoCommand());
  program.addCommand(migrateDbCommand());
  program.addCommand(configCommand());

  program
    .command('worker')
    .description('run the BullMQ training worker (needs REDIS_URL; same as npm run worker)')
    .action(async () => {
      await runWorker(loadConfig());
    });

  program
    .command('serve')
    .description('run the API (same as npm start)')
    .action(async () => {
      await import('./main.js');
    });
  return program;
}

// Only run when executed, not when imported by tests.
const invokedPath = process.argv[1] ? realpathSync(process.argv[1]) : '';
if (invokedPath === fileURLToPath(import.meta.url)) {
  buildCli()
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      process.stderr.write(`recflow: ${(err as Error).message}\n`);
      process.exitCode = 1;
    });
}
