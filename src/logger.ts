import type { LoggerOptions } from 'pino';
import type { Config } from './config.js';

/** Field paths pino must never print: tokens travel in these. */
export const REDACTED_PATHS = ['req.headers.authorization', 'headers.authorization', 'adminToken', 'token'];

/** Query parameters whose value is a credential, whatever it looks like. */
const SECRET_PARAMS = /^(?:key|api[_-]?key|apikey|token|access[_-]?token|auth|authorization|admin[_-]?token|password|secret)$/i;
/** An API key wherever it appears (`rf_` and its base64url secret). */
const API_KEY = /rf_[A-Za-z0-9_-]{8,}/g;

/**
 * A request URL fit for a log line: values of credential-named query parameters and anything
 * shaped like an API key are replaced. A client that puts its key in the query string (the API
 * never reads it there) must not find it in clear in the operator's logs.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  const path = (q === -1 ? url : url.slice(0, q)).replace(API_KEY, 'rf_[redacted]');
  if (q === -1) return path;
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq === -1 ? pair : pair.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        // a malformed escape: judged as written
      }
      return eq !== -1 && SECRET_PARAMS.test(decoded) ? `${name}=[redacted]` : pair.replace(API_KEY, 'rf_[redacted]');
    })
    .join('&');
  return `${path}?${query}`;
}

/** The request fields a log line names (Fastify's own set), with the URL redacted. */
export function requestSerializer(req: { method?: string; url?: string; host?: string; ip?: string; socket?: { remotePort?: number } }): Record<string, unknown> {
  return { method: req.method, url: redactUrl(req.url ?? ''), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort };
}

/** pino options: JSON lines in production, pino-pretty on a TTY, secrets redacted either way. */
export function loggerOptions(config: Pick<Config, 'logLevel' | 'logPretty'>): LoggerOptions {
  return {
    level: config.logLevel,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    ...(config.logPretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } } : {}),
  };
}
