import fs from 'node:fs';
import path from 'node:path';
import { DuplicateKeyNameError, type ApiKeyRepository } from '../db/keys-repository.js';
import { displayPrefix, generateKey, hashKey } from './keys.js';
import { readOrCreateSecret } from './secret-file.js';

export const DEFAULT_KEY_FILE = 'api-key';
export const DEFAULT_KEY_NAME = 'default';

export interface DefaultKey {
  file: string;
  /** `created`: registered now; `active`: the file's key works; `revoked`: the file's key no longer does. */
  state: 'created' | 'active' | 'revoked';
}

/**
 * Secure by default and still zero configuration: while the database holds no key at all, a
 * read+write key is generated into `<dataDir>/api-key` (0600) and registered. Once any key
 * exists, keys are the operator's: nothing is created, and a revoked default key stays revoked.
 */
export async function ensureDefaultKey(keys: ApiKeyRepository, dataDir: string, now: number): Promise<DefaultKey | null> {
  const file = path.resolve(dataDir, DEFAULT_KEY_FILE);
  if ((await keys.count()) > 0) {
    if (!fs.existsSync(file)) return null;
    const { secret } = readOrCreateSecret(file, () => generateKey().key);
    return { file, state: (await keys.findActiveByHash(hashKey(secret))) ? 'active' : 'revoked' };
  }
  const { secret } = readOrCreateSecret(file, () => generateKey().key);
  try {
    await keys.create({ name: DEFAULT_KEY_NAME, hash: hashKey(secret), prefix: displayPrefix(secret), scopes: ['read', 'write'], requestsPerMinute: null, bytesPerMinute: null }, now);
  } catch (err) {
    // Another process starting at the same moment registered it first.
    if (!(err instanceof DuplicateKeyNameError)) throw err;
  }
  return { file, state: 'created' };
}
