import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { effectiveConfig } from '../src/config/effective.js';
import { SETTINGS } from '../src/config/settings.js';
import { envSchema } from '../src/config/env.js';
import { ADMIN_TOKEN, api, startApp, tempDir, testConfig } from './helpers/app.js';
import { exited, spawnEntry } from './helpers/processes.js';

const run = promisify(execFile);
let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = tempDir()));
afterAll(() => cleanup());

const write = (name: string, text: string): string => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
};

function failure(env: Record<string, string>, file: string): ConfigError {
  try {
    loadConfig(env, { file });
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('the configuration was accepted');
}

describe('recflow.yaml', () => {
  it('has a place for every setting the environment can give', () => {
    expect(SETTINGS.map((s) => s.env).sort()).toEqual(Object.keys(envSchema.shape).sort());
    expect(new Set(SETTINGS.map((s) => s.path)).size).toBe(SETTINGS.length);
  });

  it('sets values by section; the environment overrides the file; each value says where it came from', () => {
    const file = write('a.yaml', 'server:\n  port: 9000\nserving:\n  historyLimit: 80\nfeedback:\n  eventTypes: { click: 1, purchase: 5, dislike: negative }\npipeline:\n  fallback: [popular]\n');
    const c = loadConfig({ PORT: '9100' }, { file });
    expect(c).toMatchObject({ port: 9100, historyLimit: 80, configFile: file });
    expect(c.eventWeights).toEqual({ click: 1, purchase: 5, dislike: -1 });
    expect(c.pipeline.fallback).toEqual(['popular']);
    expect(c.origins).toMatchObject({ PORT: 'env', HISTORY_LIMIT: 'file', HOST: 'default' });
    expect(loadConfig({ RECFLOW_CONFIG: file }).historyLimit).toBe(80);
  });

  it.each([
    ['nope:\n  x: 1\n', 'nope'],
    ['server:\n  prot: 1\n', 'server.prot'],
    ['server:\n  port: [1]\n', 'server.port'],
    ['server:\n  port: eighty\n', 'server.port'],
    ['pipeline:\n  blend: [model, nosuch]\n', 'pipeline.blend.1'],
    ['pipeline:\n  sources:\n    x: { type: leaderboard, windowDays: -1 }\n', 'pipeline.sources.x.windowDays'],
    ['pipeline:\n  popular: model\n', 'pipeline.popular'],
    ['pipeline:\n  rules:\n    - { type: boost, factor: 2 }\n', 'pipeline.rules.0'],
    ['pipeline:\n  sources:\n    x: { type: leaderboard, feedback: { share: 1 } }\n', 'pipeline.sources.x.feedback.share'],
    ['server: [\n', 'line'],
  ])('refuses %j naming %s', (text, at) => {
    const file = write('bad.yaml', text);
    const err = failure({}, file);
    expect(err.variable).toContain(file);
    expect(err.message).toContain(at);
  });

  it('the example in the repository is a valid configuration', () => {
    const c = loadConfig({}, { file: 'recflow.example.yaml' });
    expect(Object.keys(c.pipeline.sources)).toEqual(expect.arrayContaining(['model', 'bought-together', 'popular-scifi']));
    expect(c.pipeline.rules).toHaveLength(3);
  });

  it('names the variable, not the file, when the environment gave the bad value', () => {
    const file = write('ok.yaml', 'server:\n  port: 9000\n');
    expect(failure({ PORT: 'x' }, file).variable).toBe('PORT');
  });

  it('POPULARITY_WINDOW_DAYS and POPULARITY_HALF_LIFE_DAYS set the popular leaderboard', () => {
    const c = loadConfig({ POPULARITY_WINDOW_DAYS: '30', POPULARITY_HALF_LIFE_DAYS: '7' });
    expect(c.pipeline.sources.popular).toMatchObject({ type: 'leaderboard', windowDays: 30, halfLifeDays: 7 });
    expect(loadConfig({}).pipeline.sources.popular).toMatchObject({ windowDays: 0, halfLifeDays: null });
    expect(() => loadConfig({ POPULARITY_HALF_LIFE_DAYS: '-1' })).toThrow(/POPULARITY_HALF_LIFE_DAYS/);
  });

  it('the effective configuration redacts secrets', () => {
    const c = loadConfig({ ADMIN_TOKEN: 'a-very-secret-admin-token', DATABASE_URL: 'postgres://app:hunter2@db:5432/recflow' }, { file: null });
    const e = JSON.stringify(effectiveConfig(c));
    expect(e).not.toContain('a-very-secret-admin-token');
    expect(e).not.toContain('hunter2');
    expect(effectiveConfig(c).settings.database.url.value).toBe('postgres://app:REDACTED@db:5432/recflow');
  });
});

describe('recflow config check', () => {
  const check = async (file: string): Promise<string> => (await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'config', 'check', file], { env: { ...process.env, PORT: '' } })).stdout;

  it('prints the effective configuration, which checks again to the same', async () => {
    const file = write('round.yaml', 'serving:\n  historyLimit: 300\npipeline:\n  rules:\n    - { type: pin, items: [a], slot: 1, from: "2026-01-01T00:00:00Z" }\n  diversity: { mmrLambda: 0.7 }\n');
    const first = await check(file);
    expect(first).toContain('historyLimit: 300');
    expect(first).toContain('mmrLambda: 0.7');
    const again = await check(write('round2.yaml', first));
    expect(again.split('\n').slice(1)).toEqual(first.split('\n').slice(1));
  }, 600_000);

  it('exits 2 naming the field of a bad file', async () => {
    const file = write('broken.yaml', 'pipeline:\n  ranker: { type: magic }\n');
    const err = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'config', 'check', file]).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(2);
    expect(err?.stderr).toContain('pipeline.ranker.type');
  }, 600_000);
});

describe('at start', () => {
  it('the API refuses a bad file, naming the field, and never listens', async () => {
    const file = write('start.yaml', 'pipeline:\n  fallback: [nowhere]\n');
    const child = spawnEntry('src/main.ts', { RECFLOW_CONFIG: file, DATABASE_PATH: path.join(dir, 'x.db'), ADMIN_TOKEN, PORT: '0' });
    expect(await exited(child)).toBe(2);
    expect((child as unknown as { stderrText: string }).stderrText).toContain('pipeline.fallback.0');
  }, 600_000);

  it('GET /admin/config returns the configuration in effect, secrets redacted, with origins', async () => {
    const file = write('app.yaml', 'serving:\n  historyLimit: 123\n');
    const app = await startApp(testConfig(path.join(dir), { RECFLOW_CONFIG: file }));
    try {
      const res = await api(app).get('/admin/config');
      expect(res.status).toBe(200);
      expect(res.body.file).toBe(file);
      expect(res.body.settings.serving.historyLimit).toEqual({ value: 123, env: 'HISTORY_LIMIT', origin: 'file' });
      expect(res.body.settings.auth.adminToken.value).toBe('[redacted]');
      expect(JSON.stringify(res.body)).not.toContain(ADMIN_TOKEN);
      expect(res.body.pipeline.blend).toEqual(['model', 'item-to-item', 'user-to-user', 'popular']);
    } finally {
      await app.close();
    }
  });
});
