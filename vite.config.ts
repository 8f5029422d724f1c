import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The dashboard (src/web) is bundled at build time into dist/web, which the API serves at
 * /dashboard/; `npm run build` runs this after the server's tsc, so `npm install && npm start`
 * serves it with no extra step.
 */
export default defineConfig({
  root: fileURLToPath(new URL('./src/web', import.meta.url)),
  base: '/dashboard/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('./dist/web', import.meta.url)),
    emptyOutDir: true,
    // The page holds no secrets in its source, but shipping maps doubles the payload for nobody.
    sourcemap: false,
    chunkSizeWarningLimit: 200,
  },
});
