/**
 * Event-loop lag benchmark (`npm run bench:lag`): the API in the embedded setup on a database of
 * `--interactions` ratings (default 1M), its event-loop delay and `/healthz` latency measured
 * while each heavy scenario runs: an embedded retrain, new unknown users arriving (the popularity
 * path), a 20,000-interaction user's recommendations with varying `limit`, and 1,000-item
 * catalogue batch writes in a loop, and an open dashboard (its stats routes polled while ratings
 * arrive, so the reader thread recomputes the figures every 2 s). Prints a table and writes bench/results/lag.json.
 *
 *   npx tsx bench/lag.ts [--interactions 1000000] [--seconds 20]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createInterface, type Interface } from 'node:readline';
import autocannon from 'autocannon';
import { arg, BENCH_AUTH } from './args.js';

const interactions = Number(arg('interactions', '1000000'));
const seconds = Number(arg('seconds', '20'));
const AUTH = { ...BENCH_AUTH, 'content-type': 'application/json' };

interface Row {
  scenario: string;
  loadReqPerSec: number;
  loadP99Ms: number;
  healthzP99Ms: number;
  healthzMaxMs: number;
  lagP99Ms: number;
  lagMaxMs: number;
  peakRssMb: number;
  errors: number;
}

const nextJson = (lines: Interface): Promise<Record<string, number>> => new Promise((resolve) => lines.once('line', (l) => resolve(JSON.parse(l) as Record<string, number>)));

const child = spawn(process.execPath, ['--import', 'tsx', 'bench/lag-server.ts', String(interactions), '20000', '2000'], { stdio: ['pipe', 'pipe', 'inherit'] });
const lines = createInterface({ input: child.stdout });
const ask = async (cmd: string): Promise<Record<string, number>> => {
  const answer = nextJson(lines);
  child.stdin.write(`${cmd}\n`);
  return answer;
};
const started = performance.now();
const { port, rows: seeded } = await nextJson(lines);
console.error(`seeded ${seeded} ratings and started in ${((performance.now() - started) / 1000).toFixed(1)} s`);
const base = `http://127.0.0.1:${port}`;

const healthz = (): Promise<autocannon.Result> => autocannon({ url: `${base}/healthz`, connections: 1, duration: seconds });

async function measure(scenario: string, load: () => Promise<autocannon.Result | null>): Promise<Row> {
  await ask('reset');
  const [h, l] = await Promise.all([healthz(), load()]);
  const lag = await ask('lag');
  const row: Row = {
    scenario,
    loadReqPerSec: l ? Math.round(l.requests.average) : 0,
    loadP99Ms: l ? l.latency.p99 : 0,
    healthzP99Ms: h.latency.p99,
    healthzMaxMs: h.latency.max,
    lagP99Ms: lag.p99,
    lagMaxMs: lag.max,
    peakRssMb: lag.peakRssMb,
    errors: h.errors + h.non2xx + (l ? l.errors + l.non2xx : 0),
  };
  console.error(JSON.stringify(row));
  return row;
}

let k = 0;
const get = (path: (k: number) => string, connections = 4): Promise<autocannon.Result> =>
  autocannon({ url: base, connections, duration: seconds, headers: BENCH_AUTH, requests: [{ method: 'GET', setupRequest: (req: autocannon.Request) => ({ ...req, path: path(k++) }) }] });

/** `connections` clients sending `body(round)` to `method path` back to back for the scenario's length. */
const send = (method: 'POST' | 'PUT', path: string, connections: number, body: (round: number) => unknown): Promise<autocannon.Result> =>
  autocannon({
    url: base,
    connections,
    duration: seconds,
    requests: [{ method, path, headers: { 'content-type': 'application/json', ...BENCH_AUTH }, setupRequest: (req: autocannon.Request) => ({ ...req, body: JSON.stringify(body(k++)) }) }],
  });

const results: Row[] = [];
// `--only 1,4` runs just those scenarios (1 = retrain, 2 = new users, 3 = heavy user, 4 = catalogue
// writes, 5 = dashboard, 6 = export, 7 = import, 8 = 10k-row batches).
const only = arg('only', '1,2,3,4,5,6,7,8').split(',').map(Number);
const scenario = async (n: number, name: string, load: () => Promise<autocannon.Result | null>): Promise<void> => {
  if (only.includes(n)) results.push(await measure(name, load));
};
results.push(await measure('idle (baseline)', async () => null));

let retrainJob = '';
await scenario(
  1,
  'embedded retrain (gmf, 3 epochs)', async () => {
    const res = await fetch(`${base}/admin/retrain`, { method: 'POST', headers: AUTH, body: JSON.stringify({ model: 'gmf', epochs: 3 }) });
    const { jobId } = (await res.json()) as { jobId: string };
    const deadline = performance.now() + seconds * 1000;
    while (performance.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    const job = (await (await fetch(`${base}/admin/jobs/${jobId}`, { headers: AUTH })).json()) as { state: string };
    console.error(`retrain job after ${seconds} s: ${job.state}`);
    retrainJob = jobId;
    return null;
  },
);
// The next scenarios start once the retrain is over: each measures one source of load.
for (let state = ''; retrainJob && !['completed', 'failed', 'cancelled'].includes(state); await new Promise((r) => setTimeout(r, 1000))) {
  state = ((await (await fetch(`${base}/admin/jobs/${retrainJob}`, { headers: AUTH })).json()) as { state: string }).state;
}
console.error(`retrain job finished after ${((performance.now() - started) / 1000).toFixed(0)} s since start`);

await scenario(
  2,
  'new users + ingest (popularity refresh every 2 s)',
  async () => {
    const ingest = send('POST', '/ratings', 1, (round) => ({ userId: `new${round}`, itemId: `i${1 + ((round + 1) % 2000)}`, rating: 5 }));
    const [recs] = await Promise.all([get((n) => `/users/unknown-${n}/recommendations?limit=10`), ingest]);
    return recs;
  },
);

await scenario(3, '20k-interaction user, limit 1..100', () => get((n) => `/users/heavy/recommendations?limit=${1 + (n % 100)}`));

await scenario(4, 'PUT /items, 1,000 items per request', () =>
  send('PUT', '/items', 2, (round) => ({ items: Array.from({ length: 1000 }, (_, j) => ({ itemId: `i${1 + ((round * 1000 + j) % 4000)}`, categories: [`c${(round + j) % 50}`], hidden: (round + j) % 97 === 0 })) })),
);

await scenario(5, 'dashboard open: /admin/stats* polled + ingest (figures every 2 s)', async () => {
  const ingest = send('POST', '/ratings', 1, (round) => ({ userId: `dash${round}`, itemId: `i${1 + ((round + 1) % 2000)}`, rating: 4 }));
  const paths = ['/admin/stats', '/admin/stats/ingest?bucket=hour', '/admin/stats/ingest?bucket=day', '/admin/stats/serving'];
  const [stats] = await Promise.all([get((n) => paths[n % paths.length], 2), ingest]);
  return stats;
});

await scenario(6, 'GET /admin/export/ratings, every row, back to back', async () => {
  const deadline = performance.now() + seconds * 1000;
  let rows = 0;
  const t0 = performance.now();
  while (performance.now() < deadline) {
    const res = await fetch(`${base}/admin/export/ratings`, { headers: BENCH_AUTH });
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) for (const b of chunk) if (b === 10) rows++;
  }
  console.error(`export: ${rows} rows at ${Math.round(rows / ((performance.now() - t0) / 1000))} rows/s`);
  return null;
});

await scenario(7, `POST /admin/import/ratings, ${interactions.toLocaleString('en')} lines in one body`, async () => {
  async function* lines(): AsyncGenerator<Uint8Array> {
    const enc = new TextEncoder();
    for (let n = 0; n < interactions; n += 1000) {
      let text = '';
      for (let j = n; j < n + 1000; j++) text += `{"userId":"imp${j % 50_000}","itemId":"i${1 + (j % 4000)}","rating":${1 + (j % 5)},"timestamp":${1_700_000_000_000 + j}}\n`;
      yield enc.encode(text);
    }
  }
  const t0 = performance.now();
  const res = await fetch(`${base}/admin/import/ratings`, { method: 'POST', headers: { ...BENCH_AUTH, 'content-type': 'application/x-ndjson' }, body: ReadableStream.from(lines()), duplex: 'half' } as RequestInit);
  const body = (await res.json()) as { written?: number };
  console.error(`import: ${res.status}, ${body.written} written at ${Math.round((body.written ?? 0) / ((performance.now() - t0) / 1000))} lines/s`);
  return null;
});

await scenario(8, 'POST /ratings, 10,000 rows per request (1 conn.)', () =>
  send('POST', '/ratings', 1, (round) => ({ ratings: Array.from({ length: 10_000 }, (_, j) => ({ userId: `b${round}-${j % 500}`, itemId: `i${1 + (j % 4000)}`, rating: 1 + (j % 5) })) })),
);

child.stdin.write('quit\n');
await new Promise((r) => child.once('exit', r));
const head = '| scenario | load req/s | load p99 ms | /healthz p99 ms | /healthz max ms | loop lag p99 ms | loop lag max ms | peak RSS MB | errors |';
console.log(`\n${interactions.toLocaleString('en')} interactions, ${seconds} s per scenario\n\n${head}\n|---|---|---|---|---|---|---|---|---|`);
for (const r of results) console.log(`| ${r.scenario} | ${r.loadReqPerSec} | ${r.loadP99Ms} | ${r.healthzP99Ms} | ${r.healthzMaxMs} | ${r.lagP99Ms} | ${r.lagMaxMs} | ${r.peakRssMb} | ${r.errors} |`);
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/lag.json', JSON.stringify({ interactions, seconds, results }, null, 2));
