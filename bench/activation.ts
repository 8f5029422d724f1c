/**
 * Model activation benchmark: a snapshot of `--items` items × 64 factors is written first (a
 * worker's part, not measured), then registered; the API loads and starts serving it while
 * `/healthz` and recommendations are requested. Reports the time to serve, the event-loop lag max
 * during the activation and the server's RSS. Prints a table and writes bench/results/activation.json.
 *
 *   npx tsx bench/activation.ts [--items 100000] [--runs 3]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { arg, BENCH_AUTH } from './args.js';
import { nextJson, startServer } from './serve-harness.js';

const items = Number(arg('items', '100000'));
const runs = Number(arg('runs', '3'));
const server = await startServer(items, 2000, 10_000);
const base = `http://127.0.0.1:${server.port}`;
const rows: { run: number; activateMs: number; lagMaxMs: number; healthzMaxMs: number; recsP99Ms: number; rssMb: number; errors: number }[] = [];
for (let run = 1; run <= runs; run++) {
  server.child.stdin.write('prepare\n');
  await nextJson(server.lines);
  server.child.stdin.write('rss\n');
  await nextJson(server.lines);
  let done = false;
  const during = async (url: string, conns: number): Promise<autocannon.Result> => {
    let k = 0;
    const r = autocannon({ url, connections: conns, duration: 600, headers: BENCH_AUTH, requests: [{ method: 'GET', setupRequest: (req: autocannon.Request) => ({ ...req, path: url.endsWith('healthz') ? '/healthz' : `/users/u${k++ % 2000}/recommendations?limit=10` }) }] });
    // autocannon's run is a promise with a stop(): end the load when the activation is over.
    const stopWhenDone = setInterval(() => done && (r as unknown as { stop: () => void }).stop(), 20);
    const result = await r;
    clearInterval(stopWhenDone);
    return result;
  };
  const healthz = during(`${base}/healthz`, 1);
  const recs = during(`${base}/`, 2);
  server.child.stdin.write('activate\n');
  const activated = await nextJson(server.lines);
  done = true;
  const [h, r] = await Promise.all([healthz, recs]);
  server.child.stdin.write('rss\n');
  const after = (await nextJson(server.lines)) as { rss: number; lagMaxMs: number };
  rows.push({ run, activateMs: Math.round(activated.ms as number), lagMaxMs: Math.round(after.lagMaxMs * 10) / 10, healthzMaxMs: h.latency.max, recsP99Ms: r.latency.p99, rssMb: Math.round(after.rss / 2 ** 20), errors: h.errors + h.non2xx + r.errors + r.non2xx });
  console.error(JSON.stringify(rows[rows.length - 1]));
}
await server.stop();
console.log(`\n${items.toLocaleString('en')} items × 64 factors: registration to serving\n\n| run | to serving ms | loop lag max ms | /healthz max ms | recommendations p99 ms | RSS MB | errors |\n|---|---|---|---|---|---|---|`);
for (const r of rows) console.log(`| ${r.run} | ${r.activateMs} | ${r.lagMaxMs} | ${r.healthzMaxMs} | ${r.recsP99Ms} | ${r.rssMb} | ${r.errors} |`);
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/activation.json', JSON.stringify({ items, rows }, null, 2));
