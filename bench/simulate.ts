/**
 * Traffic simulator for online evaluation. Synthetic users with planted tastes (the generator's
 * hidden factors) rate items; recflow in this process trains several models on those ratings;
 * simulated users then request recommendations through the API and click each shown item with
 * probability positionBias(k) · σ(appeal − offset), their true affinity. It reports:
 *
 *   1. through the API: an A/B test and an interleaving experiment between the two models whose
 *      offline test HR@10 are closest to 0.02 apart, run until the sequential test decides (or a
 *      cap), with the online CTR the API measured beside the CTR the planted truth implies for the
 *      lists it served;
 *   2. without HTTP, on the same lists and click model: how many impressions each method needs
 *      over repeated runs, and the A/B test's false-positive rate over repeated A/A runs with a
 *      look every 100 impressions.
 *
 *   npx tsx bench/simulate.ts [--users 10000] [--density 0.03] [--runs 50] [--aa-runs 200] [--ab-cap 2000000] [--api-ab-cap 20000] [--ctr 0.05] [--models ials,itemknn,bpr] [--pair a,b]
 *
 * --pair names the two models to compare instead (e.g. a wide gap, where an A/B split also decides).
 * Users are the units of both tests; a world with few users caps what an A/B split can resolve
 * (users differ more than two good models do), so the default world has 10,000.
 *
 * Prints tables and writes bench/results/simulate.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Rng } from '../src/data/rng.js';
import { ML100K_LIKE } from '../src/data/synthetic.js';
import { arg } from './args.js';
import { abRun, interleaveRun, median, TAU, type RunOutcome } from './simulate-runs.js';
import { calibrate, call, clickProbability, expectedCtr, listsOf, plantedWorld, SLOTS, startRecflow, train } from './simulate-world.js';

const runs = Number(arg('runs', '50'));
const aaRuns = Number(arg('aa-runs', '200'));
const abCap = Number(arg('ab-cap', '2000000'));
const apiAbCap = Number(arg('api-ab-cap', '20000'));
const targetCtr = Number(arg('ctr', '0.05'));
const models = arg('models', 'ials,itemknn,bpr').split(',');
const users = Number(arg('users', '10000'));
const density = Number(arg('density', '0.03'));

const { world, ratings } = plantedWorld({ ...ML100K_LIKE, users, density, seed: 7 });
const app = await startRecflow();
for (let k = 0; k < ratings.length; k += 5000) await call(app, 'POST', '/ratings', { ratings: ratings.slice(k, k + 5000) });
const offline = new Map<string, number>();
for (const m of models) {
  offline.set(m, await train(app, m));
  console.log(`trained ${m}: test HR@10 ${offline.get(m)!.toFixed(4)}`);
}
// The pair closest to 0.02 HR@10 apart; the first variant is the weaker one.
const pairs = models.flatMap((a, i) => models.slice(i + 1).map((b) => [a, b] as [string, string]));
const forced = arg('pair', '').split(',').filter(Boolean);
const [weak, strong] = (forced.length === 2 ? [forced as [string, string]] : pairs)
  .sort((p, q) => Math.abs(Math.abs(offline.get(p[0])! - offline.get(p[1])!) - 0.02) - Math.abs(Math.abs(offline.get(q[0])! - offline.get(q[1])!) - 0.02))[0]
  .sort((a, b) => offline.get(a)! - offline.get(b)!);
const lists: [Map<string, string[]>, Map<string, string[]>] = [await listsOf(app, weak, world.users), await listsOf(app, strong, world.users)];
calibrate(world, lists[1], targetCtr);
const trueCtr = (l: Map<string, string[]>): number => [...l].reduce((s, [u, items]) => s + expectedCtr(world, u, items), 0) / l.size;
console.log(`\npair: ${weak} (HR@10 ${offline.get(weak)!.toFixed(4)}, true CTR ${trueCtr(lists[0]).toFixed(4)}) vs ${strong} (HR@10 ${offline.get(strong)!.toFixed(4)}, true CTR ${trueCtr(lists[1]).toFixed(4)})`);

interface ApiRun {
  mode: 'ab' | 'interleave';
  impressions: number;
  decided: boolean;
  winner: string | null;
  variants: { name: string; measuredCtr: number | null; trueCtr: number }[];
  seconds: number;
}

/** Users request, look and click through the API until the experiment's test decides or `cap`. */
async function throughApi(mode: 'ab' | 'interleave', cap: number, seed: number): Promise<ApiRun> {
  const rng = new Rng(seed);
  const started = Date.now();
  const { id } = await call<{ id: string }>(app, 'POST', '/admin/experiments', { name: `${weak} vs ${strong} (${mode})`, mode, variants: [{ name: weak, model: weak }, { name: strong, model: strong }], minimumEffect: TAU[mode] });
  const served = new Map<string, { expected: number; slots: number }>();
  let events: object[] = [];
  let n = 0;
  let decided = false;
  let winner: string | null = null;
  while (n < cap && !decided) {
    n++;
    const user = `u${1 + rng.int(world.users)}`;
    const a = await call<{ recommendationId: string; items: { itemId: string }[]; experiment: { variant: string } | null }>(app, 'GET', `/users/${user}/recommendations?limit=${SLOTS}`);
    const variant = a.experiment?.variant ?? 'none';
    const acc = served.get(variant) ?? { expected: 0, slots: 0 };
    a.items.forEach((x, k) => {
      const p = clickProbability(world, user, x.itemId, k);
      acc.expected += p;
      if (rng.next() < p) events.push({ userId: user, itemId: x.itemId, type: 'click', recommendationId: a.recommendationId });
    });
    acc.slots += a.items.length;
    served.set(variant, acc);
    if (events.length >= 50) {
      await call(app, 'POST', '/events', { events });
      events = [];
    }
    if (n % 500 === 0 || n === cap) {
      if (events.length) await call(app, 'POST', '/events', { events });
      events = [];
      await app.services.online.log!.flush();
      await app.services.online.monitor.refresh();
      const e = await call<{ report: { decision: { state: string; winner: string | null } } }>(app, 'GET', `/admin/experiments/${id}`);
      decided = e.report.decision.state === 'decided';
      winner = e.report.decision.winner;
    }
  }
  const final = await call<{ report: { variants: { name: string; ctr: number | null }[]; interleaving: unknown } }>(app, 'GET', `/admin/experiments/${id}`);
  await call(app, 'POST', `/admin/experiments/${id}/conclude`, {});
  const measured = await call<{ totals: { variant: string | null; ctr: number | null }[] }>(app, 'GET', `/stats/online?by=experiment,variant&days=1`);
  const variants = [...served].map(([name, s]) => ({
    name,
    measuredCtr: (mode === 'ab' ? final.report.variants.find((v) => v.name === name)?.ctr : measured.totals.find((t) => t.variant === name)?.ctr) ?? null,
    trueCtr: s.expected / s.slots,
  }));
  return { mode, impressions: n, decided, winner, variants, seconds: (Date.now() - started) / 1000 };
}

const api = [await throughApi('interleave', 10_000, 1), await throughApi('ab', apiAbCap, 2)];
await app.close();

const offlineRuns = (f: (rng: Rng) => RunOutcome, count: number, seed: number): RunOutcome[] => Array.from({ length: count }, (_, r) => f(new Rng(seed + r)));
const names: [string, string] = [weak, strong];
const ab = offlineRuns((rng) => abRun(world, lists, names, rng, abCap), runs, 1000);
const inter = offlineRuns((rng) => interleaveRun(world, lists, names, rng, abCap), runs, 2000);
const aa = offlineRuns((rng) => abRun(world, [lists[1], lists[1]], [strong, `${strong}-copy`], rng, 100_000), aaRuns, 3000);
// "Better" is the planted truth's verdict (the lists' expected CTR), which need not agree with offline HR@10.
const better = trueCtr(lists[1]) >= trueCtr(lists[0]) ? strong : weak;
const summary = (xs: RunOutcome[]) => {
  const decided = xs.filter((x) => x.decided);
  return { runs: xs.length, decided: decided.length, correct: decided.filter((x) => x.winner === better).length, medianImpressions: median(decided.map((x) => x.impressions)) };
};
const abS = summary(ab);
const inS = summary(inter);
const falsePositives = aa.filter((x) => x.decided).length;

console.log('\n| through the API | impressions | decided | winner | variant: measured CTR / planted-truth CTR of the served lists | seconds |');
console.log('|---|---|---|---|---|---|');
for (const r of api) console.log(`| ${r.mode} | ${r.impressions.toLocaleString('en')} | ${r.decided} | ${r.winner ?? '-'} | ${r.variants.map((v) => `${v.name}: ${v.measuredCtr?.toFixed(4) ?? '-'} / ${v.trueCtr.toFixed(4)}`).join('; ')} | ${r.seconds.toFixed(0)} |`);
console.log(`\n| ${runs} runs each, same lists and clicks, no HTTP | decided | chose ${better} (truly better) | median impressions to decide |`);
console.log('|---|---|---|---|');
console.log(`| A/B (mSPRT, look every 100) | ${abS.decided}/${abS.runs} | ${abS.correct} | ${abS.medianImpressions.toLocaleString('en')} |`);
console.log(`| team-draft interleaving (mSPRT, look every 20) | ${inS.decided}/${inS.runs} | ${inS.correct} | ${inS.medianImpressions.toLocaleString('en')} |`);
console.log(`\ninterleaving / A/B impressions: ${(inS.medianImpressions / abS.medianImpressions).toFixed(3)} (1/${(abS.medianImpressions / inS.medianImpressions).toFixed(1)})`);
console.log(`A/A: ${falsePositives} of ${aaRuns} runs declared a difference within 100,000 impressions, looking every 100 (rate ${(falsePositives / aaRuns).toFixed(3)}; alpha 0.05)`);

mkdirSync('bench/results', { recursive: true });
writeFileSync(
  'bench/results/simulate.json',
  JSON.stringify({ world: { users: world.users, items: world.items, offset: world.offset, targetCtr }, offlineHr10: Object.fromEntries(offline), pair: { weak, strong, better, trueCtr: { [weak]: trueCtr(lists[0]), [strong]: trueCtr(lists[1]) } }, api, ab: abS, interleave: inS, aa: { runs: aaRuns, falsePositives } }, null, 2),
);

