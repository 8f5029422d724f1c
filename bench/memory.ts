/**
 * Memory-bound benchmark (`npx tsx bench/memory.ts`): the API (bench/lag-server.ts, 100k
 * ratings) under 400 stalled 5 MB uploads (each sends 1 MB and stops), then 100,000 distinct
 * cached answers. Reports peak RSS, how many uploads were refused with 503, and the answer
 * cache's entries and estimated bytes. Prints a table and writes bench/results/memory.json.
 *
 *   npx tsx bench/memory.ts [--uploads 400] [--answers 100000]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createInterface, type Interface } from 'node:readline';
import autocannon from 'autocannon';
import { arg, BENCH_AUTH } from './args.js';

const uploads = Number(arg('uploads', '400'));
const answers = Number(arg('answers', '100000'));
const nextJson = (lines: Interface): Promise<Record<string, number>> => new Promise((resolve) => lines.once('line', (l) => resolve(JSON.parse(l) as Record<string, number>)));
const child = spawn(process.execPath, ['--import', 'tsx', 'bench/lag-server.ts', '100000', '0', '30000'], { stdio: ['pipe', 'pipe', 'inherit'] });
const lines = createInterface({ input: child.stdout });
const ask = async (cmd: string): Promise<Record<string, number>> => {
  const answer = nextJson(lines);
  child.stdin.write(`${cmd}\n`);
  return answer;
};
const { port } = await nextJson(lines);
const base = `http://127.0.0.1:${port}`;
const rows: Record<string, string | number>[] = [];

await ask('reset');
const baseline = await ask('lag');
rows.push({ scenario: 'idle after start', peakRssMb: baseline.peakRssMb, detail: '' });

// Stalled uploads: declare 5 MB, send 1 MB, stop.
const MB = 1 << 20;
const chunk = Buffer.alloc(MB, 0x20);
let refused = 0;
const sockets: http.ClientRequest[] = [];
await Promise.all(
  Array.from({ length: uploads }, () =>
    new Promise<void>((resolve) => {
      const req = http.request({ port, method: 'POST', path: '/ratings', headers: { 'content-type': 'application/json', 'content-length': 5 * MB, ...BENCH_AUTH } });
      req.on('response', (res) => {
        if (res.statusCode === 503) refused++;
        res.resume();
        resolve();
      });
      req.on('error', () => resolve());
      req.write(chunk, () => setTimeout(resolve, 200));
      sockets.push(req);
    }),
  ),
);
await new Promise((r) => setTimeout(r, 2000));
const stalled = await ask('lag');
rows.push({ scenario: `${uploads} stalled 5 MB uploads (1 MB sent each)`, peakRssMb: stalled.peakRssMb, detail: `${refused} refused with 503` });
for (const s of sockets) s.destroy();

await ask('reset');
let k = 0;
await autocannon({ url: base, connections: 8, amount: answers, headers: BENCH_AUTH, requests: [{ method: 'GET', setupRequest: (req: autocannon.Request) => ({ ...req, path: `/users/cache-${k++}/recommendations?limit=20` }) }] });
const cached = await ask('lag');
const metrics = await (await fetch(`${base}/metrics`)).text();
const stat = (name: string): number => Number(new RegExp(`recflow_recommendation_cache\\{stat="${name}"\\} (\\S+)`).exec(metrics)?.[1] ?? 0);
rows.push({ scenario: `${answers.toLocaleString('en')} distinct answers (limit 20)`, peakRssMb: cached.peakRssMb, detail: `cache: ${stat('entries')} entries, ${Math.round(stat('bytes') / MB)} MB estimated` });

child.stdin.write('quit\n');
await new Promise((r) => child.once('exit', r));
console.log('\n| scenario | peak RSS MB | detail |\n|---|---|---|');
for (const r of rows) console.log(`| ${r.scenario} | ${r.peakRssMb} | ${r.detail} |`);
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/memory.json', JSON.stringify({ uploads, answers, rows }, null, 2));
