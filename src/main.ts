#!/usr/bin/env node
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { loggerOptions } from './logger.js';
import { installShutdown } from './shutdown.js';

/** Starts the API: config from env, listen, and close gracefully on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`recflow: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = pino(loggerOptions(config));
  // Node leaves SIGTERM at the OS default (terminate) until a listener exists, so the handler goes
  // in before start-up (about a second: migrations, backend, model load). A signal during start-up
  // waits for it to finish, closes what it opened and exits 0; the port is never opened.
  let stopping = false;
  let appReady: Promise<FastifyInstance> | null = null;
  installShutdown(
    async () => {
      stopping = true;
      if (appReady) await (await appReady).close();
    },
    config.shutdownTimeoutMs,
    log,
    {
      stopping: 'shutting down: no new connections, finishing in-flight requests',
      timedOut: 'shutdown timed out; exiting',
      stopped: 'closed cleanly',
    },
  );
  appReady = buildApp(config, { logger: log });
  const app = await appReady;
  if (stopping) return;
  await app.listen({ port: config.port, host: config.host });
}

main().catch((err: unknown) => {
  process.stderr.write(`recflow: failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
