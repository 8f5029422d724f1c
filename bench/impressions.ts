/**
 * What recording impressions costs: recommendation throughput, p99 and event-loop lag with
 * IMPRESSIONS on and off, servers started in alternating order (on, off, on, off, …) so drift of a
 * busy machine falls on both sides alike. 2,000 users, answer cache off (every request computes).
 *
 *   npx tsx bench/impressions.ts [--items 1700] [--rounds 3] [--seconds 10] [--connections 16]
 *
 * Prints a table and writes bench/results/impressions.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { arg } from './args.js';
import { load, nextJson, startServer } from './serve-harness.js';

const items = Number(arg('items', '1700'));
const rounds = Number(arg('rounds', '3'));
const seconds = Number(arg('seconds', '10'));
const connections = Number(arg('connections', '16'));
const users = 2000;

interface Sample {
  mode: 'on' | 'off';
  round: number;
  requestsPerSec: number;
  p99: number;
  lagMaxMs: number;
}

const samples: Sample[] = [];
for (let round = 1; round <= rounds; round++) {
  for (const mode of round % 2 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
    const server = await startServer(items, users, 0, mode === 'on' ? 'default' : 'no-impressions');
    const r = await load(server.port, () => `/users/u${Math.floor(Math.random() * users)}/recommendations?limit=10`, seconds, connections);
    server.child.stdin.write('rss\n');
    const lag = (await nextJson(server.lines)).lagMaxMs as number;
    samples.push({ mode, round, requestsPerSec: Math.round(r.requests.average), p99: r.latency.p99, lagMaxMs: Math.round(lag * 10) / 10 });
    await server.stop();
  }
}
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const of = (mode: 'on' | 'off') => samples.filter((s) => s.mode === mode);
const on = { requestsPerSec: mean(of('on').map((s) => s.requestsPerSec)), p99: mean(of('on').map((s) => s.p99)), lagMaxMs: Math.max(...of('on').map((s) => s.lagMaxMs)) };
const off = { requestsPerSec: mean(of('off').map((s) => s.requestsPerSec)), p99: mean(of('off').map((s) => s.p99)), lagMaxMs: Math.max(...of('off').map((s) => s.lagMaxMs)) };
console.log(`${items.toLocaleString('en')} items, ${connections} connections, ${seconds} s per run, ${rounds} rounds\n`);
console.log('| round | impressions | req/s | p99 ms | event-loop lag max ms |');
console.log('|---|---|---|---|---|');
for (const s of samples) console.log(`| ${s.round} | ${s.mode} | ${s.requestsPerSec.toLocaleString('en')} | ${s.p99} | ${s.lagMaxMs} |`);
console.log(`\nmean req/s on ${Math.round(on.requestsPerSec)} vs off ${Math.round(off.requestsPerSec)}: cost ${(100 * (1 - on.requestsPerSec / off.requestsPerSec)).toFixed(1)} %; p99 ${on.p99.toFixed(1)} vs ${off.p99.toFixed(1)} ms; lag max ${on.lagMaxMs} vs ${off.lagMaxMs} ms`);
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/impressions.json', JSON.stringify({ items, rounds, seconds, connections, samples, on, off }, null, 2));
