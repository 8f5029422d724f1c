import crypto from 'node:crypto';
import path from 'node:path';
import { readOrCreateSecret } from './secret-file.js';

export interface AdminTokenSource {
  token: string;
  /** `env` when ADMIN_TOKEN was set, else the file the generated token lives in. */
  source: 'env' | string;
}

export const ADMIN_TOKEN_FILE = 'admin-token';

/**
 * The admin bearer token: ADMIN_TOKEN when set, else a random token generated on first start
 * and kept in `<dataDir>/admin-token` (mode 0600), so admin routes are never open and the
 * quick start needs no configuration.
 */
export function resolveAdminToken(configured: string | undefined, dataDir: string): AdminTokenSource {
  if (configured) return { token: configured, source: 'env' };
  const file = path.resolve(dataDir, ADMIN_TOKEN_FILE);
  const { secret } = readOrCreateSecret(file, () => crypto.randomBytes(32).toString('base64url'));
  return { token: secret, source: file };
}
