import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_NAMES } from '../../src/models/model.js';
import { RETRAIN_MODELS } from '../../src/web/model-names.js';
import { ADMIN_TOKEN, api, defaultKey, startApp, tempDir, testConfig, sqliteDb } from '../helpers/app.js';
import { ingestSynthetic, waitForJob } from '../helpers/training.js';
import { buildDashboard, launchChromium, paintedPixels, shot, signedIn as signedInAs } from '../helpers/dashboard.js';

let app: FastifyInstance;
let cleanup: () => void;
let browser: Browser;
let base: string;
let bundle: string;
let dataDir: string;

const count = (table: string): number => sqliteDb(app).prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get() as number;
const signedIn = (): Promise<Page> => signedInAs(browser, base);

beforeAll(async () => {
  let dir: string;
  ({ dir, cleanup } = tempDir());
  dataDir = dir;
  // The bundle under test is built from the current source, not whatever dist/ holds.
  const outDir = path.join(dir, 'web');
  bundle = outDir;
  await buildDashboard(outDir);
  app = await startApp(testConfig(dir, { DASHBOARD_DIR: outDir, STATS_REFRESH_MS: '200', RETRAIN_EVERY: '0' }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  await ingestSynthetic(app, 80, 60);
  const events = Array.from({ length: 30 }, (_, k) => ({ userId: `u${(k % 10) + 1}`, itemId: `i${k + 1}`, type: 'view', eventId: `dash-${k}` }));
  expect((await api(app).post('/events').send({ events })).status).toBe(200);
  const items = Array.from({ length: 20 }, (_, k) => ({ itemId: `i${k + 1}`, categories: [k % 2 ? 'drama' : 'comedy'] }));
  expect((await api(app).put('/items').send({ items })).status).toBe(200);
  browser = await launchChromium();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  cleanup?.();
});

describe('dashboard', () => {
  it('offers every model the retrain route takes', () => {
    expect([...RETRAIN_MODELS].sort()).toEqual(['auto', ...MODEL_NAMES].sort());
  });

  it('sends / to the dashboard and serves the page with its security headers', async () => {
    const root = await fetch(`${base}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/dashboard/');
    const page = await fetch(`${base}/dashboard/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(await page.text()).not.toContain(ADMIN_TOKEN);
  });

  it('shows the login and never data without an admin key', async () => {
    const page = await browser.newPage();
    // Hang detection only: a loaded CI renders slowly.
    page.setDefaultTimeout(120_000);
    const dataCalls: string[] = [];
    page.on('response', (r) => {
      if (r.url().includes('/admin/') && r.status() === 200) dataCalls.push(r.url());
    });
    await page.goto(`${base}/dashboard/#/overview`);
    await page.waitForSelector('[data-testid=login]');
    await shot(page, 'login');
    for (const [key, message] of [
      ['rf_not-a-key-000000000000000000000000000', 'not valid'],
      [defaultKey(app), 'lacks the admin scope'],
    ] as const) {
      await page.fill('input[name=key]', key);
      await page.click('button[type=submit]');
      await expect.poll(() => page.textContent('[role=alert]')).toContain(message);
      expect(await page.$('[data-testid=count-users]')).toBeNull();
    }
    // A key stored earlier that the API now refuses: the page signs out at the first refusal.
    await page.evaluate(() => (globalThis as unknown as { sessionStorage: { setItem(k: string, v: string): void } }).sessionStorage.setItem('recflow.adminKey', 'rf_revoked-or-wrong-0000000000000000000000'));
    await page.reload();
    await page.waitForSelector('[data-testid=login]');
    expect(await page.$('[data-testid=count-ratings]')).toBeNull();
    expect(dataCalls).toEqual([]);
    expect(page.url()).not.toContain('key=');
    await page.close();
  });

  it('with AUTH=off there is no key to ask for', async () => {
    fs.mkdirSync(path.join(dataDir, 'open'), { recursive: true });
    const open = await startApp(testConfig(path.join(dataDir, 'open'), { AUTH: 'off', DASHBOARD_DIR: bundle }));
    try {
      await open.listen({ host: '127.0.0.1', port: 0 });
      const port = (open.server.address() as { port: number }).port;
      const page = await browser.newPage();
      // Hang detection only: a loaded CI renders slowly.
      page.setDefaultTimeout(120_000);
      await page.goto(`http://127.0.0.1:${port}/dashboard/`);
      await page.waitForSelector('[data-testid=count-users]');
      expect(await page.$('[data-testid=login]')).toBeNull();
      await page.close();
    } finally {
      await open.close();
    }
  });

  it('overview numbers match the database after ingest', async () => {
    const page = await signedIn();
    for (const [id, table] of [['users', 'users'], ['items', 'items'], ['ratings', 'ratings'], ['events', 'events']] as const) {
      const expected = count(table).toLocaleString('en-US');
      await expect.poll(() => page.textContent(`[data-testid=count-${id}]`), { timeout: 120_000 }).toBe(expected);
    }
    expect(count('ratings')).toBeGreaterThan(100);
    await page.waitForSelector('[data-testid=ingest-chart] canvas');
    expect(await paintedPixels(page, 'ingest-chart')).toBeGreaterThan(0);
    // Serving answers per second appear once two samples bracket some answers.
    for (let k = 0; k < 5; k++) await api(app).get('/users/u1/recommendations');
    await page.waitForSelector('[data-testid=answers-chart] canvas', { timeout: 120_000 });
    await shot(page, 'overview');
    await page.close();
  });

  it('starts a retrain from the Jobs page and draws its training curve until it completes', async () => {
    const page = await signedIn();
    await page.click('a[href="#/jobs"]');
    await page.selectOption('[data-testid=retrain-form] select[name=model]', 'bpr');
    await page.fill('[data-testid=retrain-form] input[name=epochs]', '4');
    await page.fill('[data-testid=retrain-form] input[name=hyper]', '{"factors": 8}');
    await page.click('[data-testid=retrain-form] button[type=submit]');
    await page.waitForSelector('[data-testid=job-detail]');
    await page.waitForSelector('[data-testid=job-detail][data-state=completed]', { timeout: 120_000 });
    await page.waitForSelector('[data-testid=training-curve] canvas');
    expect(Number(await page.getAttribute('[data-testid=training-curve]', 'data-points'))).toBeGreaterThanOrEqual(2);
    expect(await paintedPixels(page, 'training-curve')).toBeGreaterThan(0);
    // Retrain jobs refit on all data after evaluation; that loss is its own series.
    expect(await page.textContent('[data-testid=training-curve]')).toContain('refit loss');
    const jobs = (await api(app).get('/admin/jobs?limit=5')).body.jobs as { model: string; state: string }[];
    expect(jobs[0]).toMatchObject({ model: 'bpr', state: 'completed' });
    await shot(page, 'jobs');

    // A long run, cancelled from its own page.
    await page.selectOption('[data-testid=retrain-form] select[name=model]', 'gmf');
    await page.fill('[data-testid=retrain-form] input[name=epochs]', '1000');
    await page.fill('[data-testid=retrain-form] input[name=patience]', '1000');
    await page.fill('[data-testid=retrain-form] input[name=hyper]', '');
    await page.click('[data-testid=retrain-form] button[type=submit]');
    await page.waitForSelector('[data-testid=job-detail][data-state=active]', { timeout: 120_000 });
    await page.click('[data-testid=job-detail] button:text("Cancel")');
    await page.waitForSelector('[data-testid=job-detail][data-state=cancelled]', { timeout: 120_000 });
    const cancelled = (await api(app).get('/admin/jobs?limit=1')).body.jobs[0] as { model: string; state: string };
    expect(cancelled).toMatchObject({ model: 'gmf', state: 'cancelled' });
    expect((await api(app).get('/admin/models?model=gmf')).body.models).toEqual([]);
    await page.close();
  }, 600_000);

  it('activates an older version from the Models page and the Explore page shows the change', async () => {
    const second = await api(app).post('/admin/retrain').send({ model: 'bpr', epochs: 4, factors: 24, seed: 99, force: true });
    const done = await waitForJob(app, second.body.jobId as string, ['completed', 'failed'], 120_000);
    expect(done.state).toBe('completed');
    const versions = ((await api(app).get('/admin/models?model=bpr')).body.models as { version: string; active: boolean }[]).map((v) => v.version).sort();
    expect(versions.length).toBe(2);
    const [older, newer] = versions;
    await until(async () => (await api(app).get('/admin/serving')).body.loadedVersion === newer);

    const page = await signedIn();
    await page.goto(`${base}/dashboard/#/explore?user=u3`);
    await expect.poll(() => page.textContent('[data-testid=answer-source]')).toContain(newer);
    const before = await page.$$eval('[data-testid=recommendations] li', (lis) => lis.map((li) => li.getAttribute('data-item')));
    await shot(page, 'explore');

    await page.click('a[href="#/models"]');
    await page.click(`[data-testid=versions-bpr] tr[data-version="${older}"] button:text("Activate")`);
    await expect.poll(() => page.textContent('[data-testid=serving-summary]'), { timeout: 120_000 }).toContain(older);
    await shot(page, 'models');

    await page.goto(`${base}/dashboard/#/explore?user=u3`);
    await expect.poll(() => page.textContent('[data-testid=answer-source]'), { timeout: 120_000 }).toContain(older);
    const after = await page.$$eval('[data-testid=recommendations] li', (lis) => lis.map((li) => li.getAttribute('data-item')));
    expect(after.length).toBe(before.length);
    expect(after).not.toEqual(before);
    await page.close();
  }, 600_000);

  it('Explore passes its filters to the API as query parameters', async () => {
    const page = await signedIn();
    await page.goto(`${base}/dashboard/#/explore?user=u3&category=drama&limit=5`);
    await page.waitForSelector('[data-testid=recommendations] li');
    const shown = await page.$$eval('[data-testid=recommendations] li', (lis) => lis.map((li) => li.getAttribute('data-item')!));
    const direct = await api(app).get('/users/u3/recommendations?category=drama&limit=5');
    expect(shown).toEqual((direct.body.items as { itemId: string }[]).map((i) => i.itemId));
    expect(shown.length).toBeGreaterThan(0);
    await page.close();
  });

  it('Settings shows the configuration in effect and each pipeline source with its share of served slots', async () => {
    for (let k = 0; k < 3; k++) await api(app).get(`/users/u${k + 1}/recommendations?limit=10`).expect(200);
    const slots = (await api(app).get('/admin/stats/pipeline')).body as { sources: { route: string; source: string; items: number }[] };
    const served = slots.sources.filter((s) => s.route === 'recommendations');
    expect(served.reduce((n, s) => n + s.items, 0)).toBeGreaterThanOrEqual(30);
    const page = await signedIn();
    await page.click('a[href="#/settings"]');
    await page.waitForSelector('[data-testid=sources] tr[data-source=model]');
    expect(await page.textContent('[data-testid=ranker]')).toBe('learned');
    for (const name of ['model', 'item-to-item', 'user-to-user', 'popular', 'latest', 'trending']) expect(await page.$(`[data-testid=sources] tr[data-source=${name}]`)).not.toBeNull();
    const top = served.sort((a, b) => b.items - a.items)[0];
    await expect.poll(() => page.textContent(`[data-testid=sources] tr[data-source=${top.source}] td:nth-child(5)`)).toBe(top.items.toLocaleString('en-US'));
    expect(await page.textContent('[data-testid=settings] tr[data-setting="auth.adminToken"] td:nth-child(2)')).toBe('[redacted]');
    expect(await page.content()).not.toContain(ADMIN_TOKEN);
    await shot(page, 'settings');
    await page.close();
  });

  it('Online shows CTR per model and variant with its trend, and experiments with their decision and controls', async () => {
    const created = await api(app).post('/admin/experiments').send({ name: 'dash A/A', variants: [{ name: 'left' }, { name: 'right' }], minUsers: 2 }).expect(201);
    for (let u = 1; u <= 20; u++) {
      const a = (await api(app).get(`/users/u${u}/recommendations?limit=5`).expect(200)).body as { recommendationId: string; items: { itemId: string }[] };
      if (u % 2) await api(app).post('/events').send({ userId: `u${u}`, itemId: a.items[0].itemId, type: 'click', recommendationId: a.recommendationId }).expect(200);
    }
    await app.services.online.log!.flush();
    await app.services.online.monitor.refresh();
    const page = await signedIn();
    await page.click('a[href="#/online"]');
    await page.waitForSelector('[data-testid=online-totals] tbody tr');
    const groups = await page.$$eval('[data-testid=online-totals] tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-group')));
    expect(groups.some((g) => g?.includes('left')) && groups.some((g) => g?.includes('right'))).toBe(true);
    expect(await paintedPixels(page, 'ctr-trend')).toBeGreaterThan(0);
    const panel = `[data-experiment="${created.body.id as string}"]`;
    await page.waitForSelector(`${panel} [data-testid=variants] tr[data-variant=left]`);
    expect(await page.textContent(`${panel} [data-testid=decision]`)).toMatch(/running|collecting|decided/);
    await shot(page, 'online');
    await page.click(`${panel} button:has-text("Stop")`);
    await expect.poll(() => page.textContent(`${panel} h3`)).toContain('stopped');
    expect((await api(app).get(`/admin/experiments/${created.body.id as string}`)).body.status).toBe('stopped');
    await page.close();
  });

  it('searches the catalogue, lists a category and hides and unhides an item', async () => {
    const page = await signedIn();
    await page.click('a[href="#/catalogue"]');
    await page.click('[data-testid=categories] button:has-text("drama")');
    await expect.poll(() => page.$$eval('[data-testid=items] tbody tr', (rows) => rows.length)).toBe(10);
    await page.fill('input[name=q]', 'i1');
    await page.click('button:text("Search")');
    // i1, i10–i19: ids in id order.
    await expect.poll(() => page.$$eval('[data-testid=items] tbody tr', (rows) => rows.map((r) => r.getAttribute('data-item')))).toEqual(['i1', 'i10', 'i11', 'i12', 'i13', 'i14', 'i15', 'i16', 'i17', 'i18', 'i19']);
    await page.click('[data-testid=items] tr[data-item=i12] button');
    await expect.poll(async () => (await api(app).get('/items/i12')).body.hidden).toBe(true);
    await expect.poll(() => page.textContent('[data-testid=items] tr[data-item=i12] td:nth-child(4)')).toBe('hidden');
    expect((await api(app).get('/items/i12')).body.categories).toEqual(['drama']);
    await shot(page, 'catalogue');
    await page.click('[data-testid=items] tr[data-item=i12] button:text("Unhide")');
    await expect.poll(async () => (await api(app).get('/items/i12')).body.hidden).toBe(false);
    await page.close();
  });
});

describe('dashboard after an auto search', () => {
  it('shows the leaderboard of the last auto run on the Models page', async () => {
    const started = await api(app).post('/admin/retrain').send({ model: 'auto', budgetMinutes: 0.5 });
    expect(started.status).toBe(202);
    const done = await waitForJob(app, started.body.jobId as string, ['completed', 'failed'], 120_000);
    expect(done.state, done.error ?? '').toBe('completed');
    const page = await signedIn();
    await page.click('a[href="#/models"]');
    await page.waitForSelector('[data-testid=leaderboard] tbody tr');
    const rows = await page.$$eval('[data-testid=leaderboard] tbody tr', (trs) => trs.map((tr) => tr.children[0].textContent));
    const leaderboard = (done.result as unknown as { leaderboard: { model: string }[] }).leaderboard;
    expect(rows.sort()).toEqual(leaderboard.map((e) => e.model).sort());
    await shot(page, 'models-auto');

    // The job's curve shows one candidate at a time; every candidate that ran epochs can be chosen.
    await page.goto(`${base}/dashboard/#/jobs?job=${started.body.jobId as string}`);
    await page.waitForSelector('[data-testid=curve-candidate]');
    const options = await page.$$eval('[data-testid=curve-candidate] option', (os) => os.map((o) => o.getAttribute('value')!));
    // Every candidate that ran epochs, then the winner's refit on all data (no candidate prefix).
    const candidates = options.filter((o) => o !== '');
    expect(candidates.length).toBeGreaterThan(1);
    expect(candidates.every((c) => /^candidate \d+: /.test(c)), JSON.stringify(options)).toBe(true);
    await page.selectOption('[data-testid=curve-candidate]', candidates[0]);
    await expect.poll(() => page.textContent('[data-testid=training-curve]')).toContain(candidates[0]);
    expect(await paintedPixels(page, 'training-curve')).toBeGreaterThan(0);
    await shot(page, 'jobs-auto');
    await page.close();
  }, 600_000);
});

async function until(check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
