import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, defaultKey, startApp, tempDir, testConfig } from './helpers/app.js';
import { ingestSynthetic, until } from './helpers/training.js';

/** The README's API tour: its commands in order, each with the example output that follows it (if any). */
function tour(): { command: string; output: string | null }[] {
  const readme = readFileSync('README.md', 'utf8');
  const block = /## API tour[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)![1];
  const lines = block.replace(/\\\n\s*/g, ' ').split('\n');
  const steps: { command: string; output: string | null }[] = [];
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k].trim();
    if (!/^(rf|curl) /.test(line)) continue;
    const next = lines[k + 1]?.trim() ?? '';
    for (const command of line.replace(/\s+#.*$/, '').split(/;\s*/)) steps.push({ command, output: next.startsWith('# {') ? next.slice(2) : null });
  }
  return steps;
}

/** Shell words of a command line: single and double quotes, nothing else. */
function words(command: string): string[] {
  return [...command.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}

/** Every key of `expected` is in `actual` with a value of the same JSON type, recursively (first array element). */
function sameShape(expected: unknown, actual: unknown, path = 'body'): string[] {
  const type = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  if (expected === null) return [];
  if (type(expected) !== type(actual)) return [`${path}: ${type(actual)}, README shows ${type(expected)}`];
  if (Array.isArray(expected)) return expected.length && (actual as unknown[]).length ? sameShape(expected[0], (actual as unknown[])[0], `${path}[0]`) : [];
  if (type(expected) !== 'object') return [];
  return Object.entries(expected as Record<string, unknown>).flatMap(([k, v]) => (k in (actual as object) ? sameShape(v, (actual as Record<string, unknown>)[k], `${path}.${k}`) : [`${path}.${k}: missing`]));
}

let app: FastifyInstance;
let cleanup: () => void;
beforeAll(async () => {
  let dir: string;
  ({ dir, cleanup } = tempDir());
  app = await startApp(testConfig(dir, { MODEL_POLL_MS: '100', POPULARITY_REFRESH_MS: '100' }));
  await ingestSynthetic(app, 300, 400);
}, 600_000);
afterAll(async () => {
  await app.close();
  cleanup();
});

describe('README API tour', () => {
  it('runs every command against a fresh app: each answers 2xx, and answers the shape of the output shown', async () => {
    const failures: string[] = [];
    const vars: Record<string, string> = { KEY: defaultKey(app), TOKEN: ADMIN_TOKEN };
    let lastFile = '';
    for (const { command, output } of tour()) {
      const args = words(command.replace(/\$(KEY|TOKEN)/g, (_m, v: string) => vars[v]).replace(/<jobId>/g, vars.jobId ?? '').replace(/<version>/g, vars.version ?? '').replace(/<cursor>/g, vars.cursor ?? ''));
      const method = args.includes('-X') ? args[args.indexOf('-X') + 1] : 'GET';
      const url = args.find((a) => a.startsWith('localhost:8080'))!.slice('localhost:8080'.length);
      const headers: Record<string, string> = command.startsWith('rf ') ? { authorization: `Bearer ${vars.KEY}` } : {};
      args.forEach((a, i) => {
        if (a === '-H') {
          const [name, ...value] = args[i + 1].split(':');
          headers[name.toLowerCase()] = value.join(':').trim();
        }
      });
      const data = args.includes('-d') ? args[args.indexOf('-d') + 1] : args.includes('--data-binary') ? lastFile : undefined;
      let req = request(app.server)[method.toLowerCase() as 'get'](url).set(headers);
      if (data !== undefined) req = req.send(data);
      const res = await req.buffer(true).parse((r, cb) => {
        let text = '';
        r.on('data', (d: Buffer) => (text += d.toString()));
        r.on('end', () => cb(null, text));
      });
      const text = res.body as string;
      if (res.status >= 300) failures.push(`${command}: ${res.status} ${text.slice(0, 200)}`);
      if (command.includes('> ratings.ndjson')) lastFile = text;
      let body: Record<string, unknown> | null = null;
      try {
        body = /application\/json/.test(String(res.headers['content-type'])) && text ? (JSON.parse(text) as Record<string, unknown>) : null;
      } catch {
        failures.push(`${command}: answered ${String(res.headers['content-type'])} that is not JSON: ${text.slice(0, 120)}`);
      }
      if (body && typeof body.nextCursor === 'string') vars.cursor = body.nextCursor;
      if (body && typeof body.jobId === 'string') {
        vars.jobId = body.jobId;
        // The tour reads recommendations next: let the job finish and serving load it, as a reader would wait.
        await until(async () => (await request(app.server).get(`/admin/jobs/${vars.jobId}`).set('authorization', `Bearer ${ADMIN_TOKEN}`)).body.state === 'completed', 60_000, 'tour job');
        vars.version = (await request(app.server).get(`/admin/jobs/${vars.jobId}`).set('authorization', `Bearer ${ADMIN_TOKEN}`)).body.result.version;
        await app.services.store.refresh();
      }
      if (output) {
        let expected: unknown;
        try {
          expected = JSON.parse(output);
        } catch {
          continue; // an abbreviated output (…): not compared
        }
        failures.push(...sameShape(expected, body).map((f) => `${command}: ${f}`));
      }
    }
    expect(failures).toEqual([]);
  }, 600_000);
});
