import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import type { ApiKeyRepository } from '../db/keys-repository.js';
import { resolveAdminToken } from './admin-token.js';
import { Authenticator, OPEN_ACCESS, type Principal } from './authenticator.js';
import { ensureDefaultKey } from './default-key.js';

/** How often `last_used_at` is written for the keys used since. */
const LAST_USED_FLUSH_MS = 10_000;

export interface Access {
  authenticate: (header: string | undefined) => Promise<Principal | null>;
  /** Writes the pending `last_used_at` times now (they are otherwise batched). */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The deployment's access rule. AUTH=off admits everyone as an admin and says so at every start.
 * Otherwise the admin token (ADMIN_TOKEN, or generated into the data dir) and the stored keys; on
 * a database without keys, a read+write key is generated next to the admin token.
 */
export async function setUpAccess(config: Config, keys: ApiKeyRepository, log: FastifyBaseLogger): Promise<Access> {
  if (config.auth === 'off') {
    log.warn('AUTH=off: every route, admin ones included, is open to anyone who can reach this port; use it only for local experiments');
    return { authenticate: async () => OPEN_ACCESS, flush: async () => undefined, stop: async () => undefined };
  }
  const admin = config.adminToken ? { token: config.adminToken, source: 'env' } : resolveAdminToken(undefined, config.dataDir);
  const defaultKey = await ensureDefaultKey(keys, config.dataDir, Date.now());
  if (defaultKey?.state === 'created') log.info({ file: defaultKey.file }, 'generated a read+write API key (send it as "Authorization: Bearer <key>")');
  else if (defaultKey?.state === 'active') log.info({ file: defaultKey.file }, 'read+write API key');
  else if (defaultKey?.state === 'revoked') log.warn({ file: defaultKey.file }, 'the API key in this file was revoked; delete the file or create keys with `recflow keys create`');
  if (admin.source !== 'env') log.info({ file: admin.source }, 'admin token (for /admin routes and key management)');
  const authenticator = new Authenticator(keys, admin.token, { requestsPerMinute: config.rateLimitRequests, bytesPerMinute: config.rateLimitBytes });
  authenticator.start(LAST_USED_FLUSH_MS, (err) => log.warn({ err: err.message }, 'could not record when API keys were last used; retrying'));
  return { authenticate: (header) => authenticator.authenticate(header), flush: () => authenticator.flush(), stop: () => authenticator.stop() };
}
