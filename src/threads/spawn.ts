import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * The URL of a sibling thread module, with the caller's own extension: `.js` when running from
 * `dist/`, `.ts` when running from sources (tests, tsx).
 */
export function siblingModule(callerUrl: string, name: string): URL {
  const ext = callerUrl.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./${name}${ext}`, callerUrl);
}

let tsxApi: string | null = null;

/** tsx's ESM register API, resolved from this package (a worker's `--import tsx` comes too late for its entry). */
function tsxRegisterUrl(): string {
  if (tsxApi) return tsxApi;
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve('tsx/package.json');
  const pkg = require(pkgPath) as { exports: Record<string, { import: { default: string } }> };
  tsxApi = pathToFileURL(join(dirname(pkgPath), pkg.exports['./esm/api'].import.default)).href;
  return tsxApi;
}

/**
 * Starts a worker thread on a module. A TypeScript module (sources under tests) is loaded
 * through tsx, registered inside the thread before the module is imported.
 */
export function spawnThread(module: URL, workerData: unknown): Worker {
  if (!module.pathname.endsWith('.ts')) return new Worker(module, { workerData });
  const boot = `import(${JSON.stringify(tsxRegisterUrl())}).then((m) => { m.register(); return import(${JSON.stringify(module.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}
