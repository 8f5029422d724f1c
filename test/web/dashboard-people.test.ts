import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, api, startApp, tempDir, testConfig, sqliteDb } from '../helpers/app.js';
import { buildDashboard, launchChromium, shot, signedIn } from '../helpers/dashboard.js';
import { ingestSynthetic } from '../helpers/training.js';

const run = promisify(execFile);

/** A 1x1 PNG: an image label the page may show (its CSP allows https: and data: images). */
const PIXEL = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';

let app: FastifyInstance;
let cleanup: () => void;
let browser: Browser;
let base: string;
let dir: string;

const count = (table: string): number => sqliteDb(app).prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get() as number;
const open = async (hash: string, context = {}): Promise<Page> => {
  const page = await signedIn(browser, base, context);
  await page.goto(`${base}/dashboard/#/${hash}`);
  return page;
};

beforeAll(async () => {
  ({ dir, cleanup } = tempDir());
  const outDir = path.join(dir, 'web');
  await buildDashboard(outDir);
  app = await startApp(testConfig(dir, { DASHBOARD_DIR: outDir, STATS_REFRESH_MS: '200', RETRAIN_EVERY: '0', DASHBOARD_USER_TITLE_LABEL: 'nickname' }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  // 120,000 ratings in this hour: the ingest chart's axis must show six-digit counts whole.
  expect(await ingestSynthetic(app, 600, 2000)).toBeGreaterThan(110_000);
  const items = Array.from({ length: 2000 }, (_, k) => ({ itemId: `i${k + 1}`, categories: ['film'], labels: { title: `Film number ${k + 1}`, image: PIXEL } }));
  for (let k = 0; k < items.length; k += 1000) expect((await api(app).put('/items').send({ items: items.slice(k, k + 1000) })).status).toBe(200);
  for (const [id, nickname] of [['u1', 'Ada'], ['u10', 'Grace'], ['u11', 'Edsger']]) expect((await api(app).put(`/users/${id}`).send({ labels: { nickname, plan: 'pro' } })).status).toBe(200);
  browser = await launchChromium();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  cleanup?.();
});

describe('dashboard for product people', () => {
  it('Users: finds users by the start of their id, by their name label, and shows labels, history and recommendations by item titles', async () => {
    const page = await open('users');
    await page.fill('[data-testid=users-form] input[name=q]', 'u1');
    await page.click('[data-testid=users-form] button[type=submit]');
    await expect.poll(async () => (await page.$$eval('[data-testid=users] tr[data-user]', (rows) => rows.map((r) => r.getAttribute('data-user')))).slice(0, 3)).toEqual(['u1', 'u10', 'u100']);
    expect(await page.textContent('[data-testid=users] tr[data-user=u10] .title')).toBe('Grace');
    await page.click('[data-testid=users] tr[data-user=u1] a');
    await page.waitForSelector('[data-testid=user-labels]');
    expect(await page.textContent('[data-testid=user-detail] h2')).toContain('Ada');
    expect(await page.textContent('[data-testid=user-labels]')).toContain('pro');
    await page.waitForSelector('[data-testid=history] li');
    await page.waitForSelector('[data-testid=recommendations] li .title');
    // Items by their title and image labels; the id is one click away.
    const first = page.locator('[data-testid=recommendations] li').first();
    expect(await first.locator('.title').textContent()).toMatch(/^Film number \d+$/);
    expect(await first.locator('img.thumb').getAttribute('src')).toBe(PIXEL);
    expect(await first.locator('a.id').getAttribute('href')).toMatch(/^#\/explore\?item=i\d+$/);
    await shot(page, 'users');
    await page.context().close();
  });

  it('says in words what to do about a user it has never heard of, and about an empty search', async () => {
    const page = await open('users?user=nobody-here');
    await page.waitForSelector('[data-testid=unknown-user]');
    expect(await page.textContent('[data-testid=unknown-user]')).toContain('No user named “nobody-here” yet');
    expect(await page.textContent('main')).not.toMatch(/HTTP 404|params\.id/);
    await page.goto(`${base}/dashboard/#/explore?user=nobody-here`);
    await page.waitForSelector('[data-testid=unknown-user]');
    await page.goto(`${base}/dashboard/#/users?q=zz`);
    await page.waitForSelector('[data-testid=no-users]');
    expect(await page.textContent('[data-testid=no-users]')).toContain('No user id starts with “zz”');
    await shot(page, 'users-unknown');
    await page.context().close();
  });

  it('Import & export: exports a kind to a file and imports a file, naming the line that is wrong', async () => {
    const page = await signedIn(browser, base, { acceptDownloads: true });
    await page.goto(`${base}/dashboard/#/data`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-export=ratings]')]);
    const saved = path.join(dir, 'exported.ndjson');
    await download.saveAs(saved);
    expect(download.suggestedFilename()).toBe('recflow-ratings.ndjson');
    expect(fs.readFileSync(saved, 'utf8').trim().split('\n')).toHaveLength(count('ratings'));

    const good = path.join(dir, 'new.ndjson');
    fs.writeFileSync(good, ['{"userId":"new-1","itemId":"i1","rating":4}', '{"userId":"new-1","itemId":"i2","rating":2}', '{"userId":"new-2","itemId":"i3","rating":5}'].join('\n'));
    const before = count('ratings');
    await page.selectOption('[data-testid=import-form] select[name=kind]', 'ratings');
    await page.setInputFiles('[data-testid=import-form] input[type=file]', good);
    await page.click('[data-testid=import-form] button[type=submit]');
    await expect.poll(() => page.textContent('[data-testid=import-status]')).toContain('Imported 3 ratings from 3 lines');
    expect(count('ratings')).toBe(before + 3);

    const bad = path.join(dir, 'bad.ndjson');
    fs.writeFileSync(bad, ['{"userId":"new-3","itemId":"i1","rating":4}', '{"userId":"new-3","itemId":"i2","rating":"five"}'].join('\n'));
    await page.setInputFiles('[data-testid=import-form] input[type=file]', bad);
    await page.click('[data-testid=import-form] button[type=submit]');
    await expect.poll(() => page.textContent('[data-testid=import-status]')).toContain('Line 2 of the file is not valid');
    await shot(page, 'import-export');
    await page.context().close();
  });

  it('the TypeScript client runs in the browser as it is built (ESM, fetch): a page imports it and asks for recommendations', async () => {
    // Built into this test's own folder: another test packs the client's dist/ meanwhile.
    const dist = path.join(dir, 'client');
    await run(process.execPath, [path.resolve('node_modules/typescript/bin/tsc'), '-p', 'clients/typescript/tsconfig.json', '--outDir', dist]);
    const page = await signedIn(browser, base);
    // Served beside the dashboard, so the page's own CSP (scripts and connections from 'self') applies.
    await page.route(`${base}/client/**`, (route) => route.fulfill({ contentType: 'text/javascript', body: fs.readFileSync(path.join(dist, new URL(route.request().url()).pathname.replace('/client/', ''))) }));
    // A string, not a function: vitest would rewrite a function's import() for Node.
    const answer = await page.evaluate(`(async () => {
      const { Recflow, RecflowError } = await import(location.origin + '/client/index.js');
      const recflow = new Recflow({ baseUrl: location.origin, apiKey: ${JSON.stringify(ADMIN_TOKEN)} });
      const recs = await recflow.getRecommendations('u2', { limit: 3 });
      const missing = await recflow.getUser('nobody-in-the-browser').catch((err) => err);
      return { items: recs.items.length, typed: missing instanceof RecflowError, code: missing.code };
    })()`);
    expect(answer).toEqual({ items: 3, typed: true, code: 'not_found' });
    await page.context().close();
  });

  for (const locale of ['en-US', 'de-DE', 'hi-IN']) {
    it(`in ${locale}: dates in one format, counts in the locale's digits, and chart axes that show six-digit values whole`, async () => {
      // Every label the charts draw, with where it was drawn, to see that none is cut off.
      const page = await signedIn(browser, base, { locale });
      await page.addInitScript(() => {
        const texts: { text: string; x: number; width: number; align: string }[] = [];
        (globalThis as unknown as { drawnTexts: typeof texts }).drawnTexts = texts;
        const proto = (globalThis as unknown as { CanvasRenderingContext2D: { prototype: { fillText(t: string, x: number, y: number): void; measureText(t: string): { width: number }; textAlign: string } } }).CanvasRenderingContext2D.prototype;
        const fill = proto.fillText;
        proto.fillText = function (this: typeof proto, text: string, x: number, y: number) {
          texts.push({ text, x, width: this.measureText(text).width, align: this.textAlign });
          fill.call(this, text, x, y);
        };
      });
      await page.reload();
      // Per day: all 120,000 ratings in one point, whatever hour the ingest ran across.
      await page.selectOption('select[aria-label=bucket]', 'day');
      await page.waitForSelector('[data-testid=ingest-chart] canvas');
      await expect.poll(() => page.textContent('[data-testid=count-ratings]')).toBe(new Intl.NumberFormat(locale).format(count('ratings')));
      const drawn = await page.evaluate(() => (globalThis as unknown as { drawnTexts: { text: string; x: number; width: number; align: string }[] }).drawnTexts);
      const yTicks = drawn.filter((t) => t.align === 'right' && /\d/.test(t.text));
      expect(yTicks.length).toBeGreaterThan(0);
      for (const t of yTicks) expect(t.x - t.width, `"${t.text}" starts inside the canvas`).toBeGreaterThanOrEqual(0);
      // uPlot's steps (1, 2, 2.5, 5 × 10^n) below a ~120,000 maximum all pass 100,000: shown in the locale's compact words (100K, 100.000, 1 लाख).
      expect(yTicks.map((t) => t.text)).toContain(new Intl.NumberFormat(locale, { notation: 'compact', maximumFractionDigits: 1 }).format(100_000));
      // The same date format wherever a date is shown: the overview's and the catalogue's.
      const format = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });
      const pattern = (text: string) => text.replace(/\d/g, '0');
      await expect.poll(async () => /computed (.+?);/.exec((await page.textContent('main .hint')) ?? '')?.[1] ?? '–').not.toBe('–');
      const overviewDate = /computed (.+?);/.exec((await page.textContent('main .hint'))!)![1];
      await page.goto(`${base}/dashboard/#/catalogue`);
      await page.waitForSelector('[data-testid=items] tbody tr');
      const created = (await page.textContent('[data-testid=items] tbody tr td:nth-child(3)'))!;
      expect(pattern(created)).toBe(pattern(format.format(new Date())));
      expect(pattern(overviewDate)).toBe(pattern(format.format(new Date())));
      await shot(page, `overview-${locale}`);
      await page.context().close();
    });
  }
});
