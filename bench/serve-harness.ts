/** Starting a bench/serve-server.ts child and loading it with autocannon: shared by the serving benchmarks. */
import { spawn } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import autocannon from 'autocannon';
import { BENCH_AUTH } from './args.js';

export function nextJson(lines: Interface): Promise<Record<string, unknown>> {
  return new Promise((resolve) => lines.once('line', (l) => resolve(JSON.parse(l) as Record<string, unknown>)));
}

export async function load(port: number, path: (k: number) => string, duration: number, conns: number): Promise<autocannon.Result> {
  let k = 0;
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: conns,
    duration,
    headers: BENCH_AUTH,
    requests: [{ method: 'GET', setupRequest: (req: autocannon.Request) => ({ ...req, path: path(k++) }) }],
  });
}

export async function startServer(items: number, users: number, cacheSize: number, pipeline = 'default') {
  const child = spawn(process.execPath, [...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []), '--import', 'tsx', 'bench/serve-server.ts', String(items), String(users), String(cacheSize), pipeline], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const ready = await nextJson(lines);
  // Warm up (JIT, the index pages mapped from disk) for 2 s, then start the lag measurement afresh:
  // the first requests after a load cost more once (up to ~80 ms of loop lag at 100k items).
  let k = 0;
  await autocannon({ url: `http://127.0.0.1:${ready.port as number}`, connections: 4, duration: 2, headers: BENCH_AUTH, requests: [{ method: 'GET', setupRequest: (req: autocannon.Request) => ({ ...req, path: k++ % 2 ? `/users/u${k % users}/recommendations?limit=10` : `/items/i${k % items}/similar?limit=10` }) }] });
  child.stdin.write('rss\n');
  await nextJson(lines);
  const stop = async () => {
    child.stdin.write('quit\n');
    await new Promise((r) => child.once('exit', r));
  };
  return { child, lines, ready, port: ready.port as number, stop };
}

