/**
 * MovieLens-20M-shaped data end to end on one host (`recflow` as a user runs it): a synthetic
 * data set of 138,493 users × 26,744 items and about 20M ratings (log-normal activity with σ 1
 * and at least 20 ratings a user, Zipf popularity), written with `recflow synth`, loaded with
 * `recflow import` into SQLite, then trained from that database with `recflow train` (iALS with
 * 64 factors; EINMF for one epoch; EASE, which must refuse). Each step is its own process, timed
 * with its peak RSS (GNU time). Prints a table and writes bench/results/ml20m.json.
 *
 *   npx tsx bench/ml20m.ts [--dir /tmp/ml20m] [--steps synth,import,ials,einmf,ease] [--users 138493]
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { arg } from './args.js';

const dir = arg('dir', '/tmp/recflow-ml20m');
const steps = arg('steps', 'synth,import,ials,ease').split(',');
const users = arg('users', '138493');
const items = arg('items', '26744');
const csv = join(dir, 'ml20m.csv');
const db = join(dir, 'ml20m.db');
mkdirSync(dir, { recursive: true });

interface Step {
  step: string;
  seconds: number;
  peakRssMb: number;
  exit: number;
  out: string;
}

/** Runs `recflow <args>` under GNU time: wall seconds, peak RSS and the last lines of its output. */
function recflow(step: string, args: string[]): Promise<Step> {
  return new Promise((resolve) => {
    const child = spawn('/usr/bin/time', ['-f', 'TIME %e %M', process.execPath, '--import', 'tsx', 'src/cli.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
    child.on('exit', (code) => {
      const m = /TIME ([\d.]+) (\d+)/.exec(err);
      resolve({ step, seconds: m ? Number(m[1]) : NaN, peakRssMb: m ? Math.round(Number(m[2]) / 1024) : NaN, exit: code ?? -1, out: (out + err.replace(/TIME [\d.]+ \d+\n?/, '')).trim().slice(-4000) });
    });
  });
}

const shape = ['--users', users, '--items', items, '--density', '0.0054', '--activity-sigma', '1', '--min-per-user', '20', '--seed', '7'];
const train = (model: string, extra: string[]) => ['train', '--db', db, '--model', model, '--threads', '2', '--json', ...extra];
const commands: Record<string, string[]> = {
  synth: ['synth', ...shape, '--out', csv],
  import: ['import', '--file', csv, '--db', db],
  ials: train('ials', ['--epochs', '3', '--hyper', '{"factors":64}']),
  einmf: train('einmf', ['--epochs', '1', '--split', 'ratio']),
  ease: train('ease', []),
};
const results: Step[] = [];
for (const step of steps) {
  if (step === 'import' && existsSync(db)) throw new Error(`${db} exists: remove it for a fresh import`);
  const r = await recflow(step, commands[step]);
  results.push(r);
  console.error(JSON.stringify({ step: r.step, seconds: r.seconds, peakRssMb: r.peakRssMb, exit: r.exit }));
  console.error(r.out.slice(-1500));
}
console.log('\n| step | wall s | peak RSS MB | exit |\n|---|---|---|---|');
for (const r of results) console.log(`| ${r.step} | ${r.seconds} | ${r.peakRssMb} | ${r.exit} |`);
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/ml20m.json', JSON.stringify({ users, items, results }, null, 2));
