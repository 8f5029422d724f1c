import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

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
  try {
    const existing = fs.readFileSync(file, 'utf8').trim();
    if (existing.length < 16) {
      throw new Error(`admin token file ${file} holds fewer than 16 characters; delete it to generate a new token`);
    }
    fs.chmodSync(file, 0o600);
    return { token: existing, source: file };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const token = crypto.randomBytes(32).toString('base64url');
  // 'wx' fails if another process created the file first; then that token wins.
  try {
    fs.writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return resolveAdminToken(undefined, dataDir);
    throw err;
  }
  return { token, source: file };
}
