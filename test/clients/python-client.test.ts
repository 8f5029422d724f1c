import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { OPENAPI_PATH } from '../../src/app.js';
import { startServer, type RunningServer } from '../helpers/server.js';

const servers: RunningServer[] = [];
beforeAll(async () => {
  // The main server, an empty one for the NDJSON round trip, and one with 2 KiB of in-flight bodies (a real 503).
  servers.push(...(await Promise.all([startServer(), startServer(), startServer({ INFLIGHT_BODY_BYTES: '2048' })])));
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

/** Every operation as [method, path, operationId], for the client test's "every operation once". */
function operations(): [string, string, string][] {
  const spec = parse(readFileSync(OPENAPI_PATH, 'utf8')) as { paths: Record<string, Record<string, { operationId: string }>> };
  return Object.entries(spec.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]): [string, string, string] => [method.toUpperCase(), path, op.operationId]));
}

it('the Python client passes its unittest suite against live servers (the machine\'s python3, standard library only)', async () => {
  const [main, target, tight] = servers;
  const child = spawn('python3', ['-m', 'unittest', 'discover', '-v', '-s', 'clients/python/tests'], {
    env: { ...process.env, PYTHONPATH: 'clients/python', PYTHONDONTWRITEBYTECODE: '1', RECFLOW_URL: main.base, RECFLOW_TARGET_URL: target.base, RECFLOW_TIGHT_URL: tight.base, RECFLOW_ADMIN_TOKEN: main.adminToken, RECFLOW_OPERATIONS: JSON.stringify(operations()) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  expect(code, output).toBe(0);
  expect(output).toMatch(/Ran 6 tests/);
});
