import type { LoggerOptions } from 'pino';
import type { Config } from './config.js';

/** Field paths pino must never print: tokens travel in these. */
export const REDACTED_PATHS = ['req.headers.authorization', 'headers.authorization', 'adminToken', 'token'];

/** pino options: JSON lines in production, pino-pretty on a TTY, secrets redacted either way. */
export function loggerOptions(config: Pick<Config, 'logLevel' | 'logPretty'>): LoggerOptions {
  return {
    level: config.logLevel,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    ...(config.logPretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } } : {}),
  };
}
