import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { build } from 'vite';
import { ADMIN_TOKEN } from './app.js';

/** Screenshots of every page, kept after the run (CI can publish the folder). */
export const ARTIFACTS = path.resolve('test-artifacts', 'dashboard');
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** The bundle under test, built from the current source into `outDir` (not whatever dist/ holds). */
export async function buildDashboard(outDir: string): Promise<void> {
  await build({ configFile: path.resolve('vite.config.ts'), logLevel: 'silent', build: { outDir, emptyOutDir: true } });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
}

/** Debian's chromium, headless, driven by playwright-core. */
export const launchChromium = (): Promise<Browser> => chromium.launch({ executablePath: CHROMIUM, args: FLAGS });

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** A page signed in with the admin token, in a browser context of its own (a locale, say). */
export async function signedIn(browser: Browser, base: string, context: BrowserContextOptions = {}): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...context });
  const page = await ctx.newPage();
  // Hang detection only: a loaded CI renders slowly.
  page.setDefaultTimeout(120_000);
  await page.goto(`${base}/dashboard/`);
  await page.fill('input[name=key]', ADMIN_TOKEN);
  await page.click('button[type=submit]');
  await page.waitForSelector('header nav');
  return page;
}

/** Non-blank pixels in a chart's canvas: the curve was drawn, not just an empty frame. */
export async function paintedPixels(page: Page, testId: string): Promise<number> {
  return page.$eval(`[data-testid=${testId}] canvas`, (canvas) => {
    // Runs in the page; typed structurally because the tests compile without the DOM library.
    const c = canvas as unknown as { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let k = 3; k < data.length; k += 4) if (data[k] !== 0) n++;
    return n;
  });
}
