/**
 * Repeated experiments of bench/simulate.ts without HTTP: the two models' real first pages per
 * user (fetched once from the API), clicks drawn from the planted click model, and the same
 * statistics code the API's reports run (per-user units, mSPRT, team draft). Lists are fixed per
 * user here (a click does not change the next list), which is what makes hundreds of runs cheap.
 */
import { Rng } from '../src/data/rng.js';
import type { VariantSums } from '../src/db/online-repository.js';
import { experimentReport } from '../src/online/experiment-report.js';
import type { Experiment } from '../src/online/experiments.js';
import { teamDraft } from '../src/online/interleave.js';
import { clickProbability, type World } from './simulate-world.js';

export interface RunOutcome {
  decided: boolean;
  winner: string | null;
  impressions: number;
}

type Lists = ReadonlyMap<string, readonly string[]>;

/** The mixing scale τ of each test: about the effect expected (CTR ≈ 0.05: a few thousandths per user for A/B). */
export const TAU = { ab: 0.002, interleave: 0.05 };

function experiment(mode: 'ab' | 'interleave', names: [string, string]): Experiment {
  return {
    id: 'sim',
    name: 'sim',
    mode,
    status: 'running',
    spec: { variants: names.map((name) => ({ name, share: 0.5 })), metric: 'positive', alpha: 0.05, minimumEffect: TAU[mode], minUsers: 100 },
    verdict: null,
    winner: null,
    createdAt: 0,
    stoppedAt: null,
    concludedAt: null,
  };
}

/** Per-user running statistics, kept as the sums the repository would return. */
class Units {
  private readonly slots = new Map<string, number>();
  private readonly hits = new Map<string, number>();
  private readonly seen = new Map<string, number>();
  sum = 0;
  sumSquares = 0;
  impressions = 0;
  allSlots = 0;
  positives = 0;

  /** `value` is this impression's contribution: clicks (A/B) or the interleaving outcome; `weight` its slots. */
  add(user: string, value: number, weight: number, clicks: number): void {
    const old = this.x(user);
    if (old !== null) {
      this.sum -= old;
      this.sumSquares -= old * old;
    }
    this.slots.set(user, (this.slots.get(user) ?? 0) + weight);
    this.hits.set(user, (this.hits.get(user) ?? 0) + value);
    this.seen.set(user, 1);
    const x = this.x(user)!;
    this.sum += x;
    this.sumSquares += x * x;
    this.impressions++;
    this.allSlots += weight;
    this.positives += clicks;
  }

  private x(user: string): number | null {
    const s = this.slots.get(user);
    return s ? this.hits.get(user)! / s : null;
  }

  sums(variant: string): VariantSums {
    return { variant, users: this.seen.size, sum: this.sum, sumSquares: this.sumSquares, impressions: this.impressions, slots: this.allSlots, positives: this.positives };
  }
}

/** Click probabilities per (user, item, slot), computed once: the runs then cost a few random draws per impression. */
class ClickTable {
  private readonly cache = new Map<string, number>();
  constructor(private readonly w: World) {}

  probability(user: string, item: string, k: number): number {
    const key = `${user}|${item}|${k}`;
    let p = this.cache.get(key);
    if (p === undefined) this.cache.set(key, (p = clickProbability(this.w, user, item, k)));
    return p;
  }
}

const tables = new WeakMap<World, ClickTable>();
function clicksOn(w: World, user: string, items: readonly string[], rng: Rng): boolean[] {
  let table = tables.get(w);
  if (!table) tables.set(w, (table = new ClickTable(w)));
  return items.map((item, k) => rng.next() < table.probability(user, item, k));
}

/** One sequential A/B test: users at random, half to each list, a look every `lookEvery` impressions. */
export function abRun(w: World, lists: [Lists, Lists], names: [string, string], rng: Rng, cap: number, lookEvery = 100): RunOutcome {
  const e = experiment('ab', names);
  const units = [new Units(), new Units()];
  const users = [...lists[0].keys()];
  for (let n = 1; n <= cap; n++) {
    const user = users[rng.int(users.length)];
    const arm = userArm(user, names);
    const items = lists[arm].get(user)!;
    const clicks = clicksOn(w, user, items, rng).filter(Boolean).length;
    units[arm].add(user, clicks, items.length, clicks);
    if (n % lookEvery !== 0) continue;
    const report = experimentReport(e, [units[0].sums(names[0]), units[1].sums(names[1])], n);
    if (report.reached) return { decided: true, winner: report.reached.winner, impressions: n };
  }
  return { decided: false, winner: null, impressions: cap };
}

/** A fixed arm per user (the API hashes; any fixed split is the same here). */
const userArm = (user: string, names: [string, string]): 0 | 1 => ((Number(user.slice(1)) * 2654435761 + names[0].length) >>> 0) % 2 === 0 ? 0 : 1;

/** One sequential interleaving test: every impression mixes both lists by team draft. */
export function interleaveRun(w: World, lists: [Lists, Lists], names: [string, string], rng: Rng, cap: number, lookEvery = 20): RunOutcome {
  const e = experiment('interleave', names);
  const units = new Units();
  let first = 0;
  let second = 0;
  const users = [...lists[0].keys()];
  for (let n = 1; n <= cap; n++) {
    const user = users[rng.int(users.length)];
    const drafted = teamDraft(lists[0].get(user)!, lists[1].get(user)!, 10, (x) => x, () => rng.next() < 0.5);
    const clicks = clicksOn(w, user, drafted.map((d) => d.item), rng);
    let a = 0;
    let b = 0;
    drafted.forEach((d, k) => {
      if (clicks[k] && d.team === 0) a++;
      else if (clicks[k]) b++;
    });
    if (a > b) first++;
    if (b > a) second++;
    units.add(user, Math.sign(a - b), 1, a + b);
    if (n % lookEvery !== 0) continue;
    const sums = { ...units.sums('interleaved'), wins: { first, second } };
    const report = experimentReport(e, [sums], n);
    if (report.reached) return { decided: true, winner: report.reached.winner, impressions: n };
  }
  return { decided: false, winner: null, impressions: cap };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
}
