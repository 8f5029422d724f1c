import fs from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { AppError } from '../../errors.js';

export interface DashboardRoutesOptions {
  /** The built dashboard: index.html and its assets (vite build output). */
  dir: string;
}

/** Where the dashboard lives; the access layer treats everything under it as public. */
export const DASHBOARD_PREFIX = '/dashboard';

/**
 * The page may load only its own scripts and styles and talk only to this API, and no other site
 * may frame it: the admin key it holds in session storage is worth protecting. Inline styles are
 * allowed because the chart library sizes its canvases with style attributes.
 */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/**
 * The dashboard's static files (public: they hold no data; every figure comes from the admin JSON
 * routes, which need the admin key), and `/` sending people there.
 */
export const dashboardRoutes: FastifyPluginAsync<DashboardRoutesOptions> = async (app, opts) => {
  const hidden = { hide: true };
  app.get('/', { config: { scope: 'public' }, schema: hidden }, async (_request, reply) => reply.redirect(`${DASHBOARD_PREFIX}/`, 302));
  app.get(DASHBOARD_PREFIX, { config: { scope: 'public' }, schema: hidden }, async (_request, reply) => reply.redirect(`${DASHBOARD_PREFIX}/`, 301));

  if (!fs.existsSync(path.join(opts.dir, 'index.html'))) {
    app.log.warn({ dir: opts.dir }, 'dashboard not built (npm run build); /dashboard answers 503');
    app.route({
      method: ['GET', 'HEAD'],
      url: `${DASHBOARD_PREFIX}/*`,
      config: { scope: 'public' },
      schema: hidden,
      handler: async () => {
        throw new AppError(503, 'dashboard_not_built', `The dashboard has not been built: run npm run build (looked in ${opts.dir})`);
      },
    });
    return;
  }
  await app.register(fastifyStatic, {
    root: path.resolve(opts.dir),
    prefix: `${DASHBOARD_PREFIX}/`,
    decorateReply: false,
    schemaHide: true,
    // Hashed asset names change with every build, so they may be cached for good; index.html may not.
    setHeaders: (res, file) => {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.header(name, value);
      res.header('cache-control', file.endsWith('index.html') ? 'no-cache' : 'public, max-age=31536000, immutable');
    },
  });
};
