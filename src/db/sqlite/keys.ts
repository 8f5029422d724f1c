import { type ApiKeyRecord, type NewApiKey, DuplicateKeyNameError, type ApiKeyRepository, type KeyRow, toRecord } from '../keys-repository.js';
import type { Db } from './connection.js';
import { promised } from './promised.js';

export function createKeysRepository(db: Db): ApiKeyRepository {
  const insert = db.prepare<[string, string, string, string, number | null, number | null, number]>(
    'INSERT INTO api_keys (name, hash, prefix, scopes, requests_per_minute, bytes_per_minute, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const byId = db.prepare<[number | bigint], KeyRow>('SELECT * FROM api_keys WHERE id = ?');
  const byHash = db.prepare<[string], KeyRow>('SELECT * FROM api_keys WHERE hash = ? AND revoked_at IS NULL');
  const activeByName = db.prepare<[string], KeyRow>('SELECT * FROM api_keys WHERE name = ? AND revoked_at IS NULL');
  const activeById = db.prepare<[number], KeyRow>('SELECT * FROM api_keys WHERE id = ? AND revoked_at IS NULL');
  const revokeRow = db.prepare<[number, number]>('UPDATE api_keys SET revoked_at = ? WHERE id = ?');
  const touchRow = db.prepare<[number, number, number]>('UPDATE api_keys SET last_used_at = max(coalesce(last_used_at, 0), ?) WHERE id = ? AND ? > 0');
  const all = db.prepare<[], KeyRow>('SELECT * FROM api_keys ORDER BY id');
  const active = db.prepare<[], KeyRow>('SELECT * FROM api_keys WHERE revoked_at IS NULL ORDER BY id');

  const create = db.transaction((key: NewApiKey, now: number): ApiKeyRecord => {
    if (activeByName.get(key.name)) throw new DuplicateKeyNameError(key.name);
    const { lastInsertRowid } = insert.run(key.name, key.hash, key.prefix, key.scopes.join(','), key.requestsPerMinute, key.bytesPerMinute, now);
    return toRecord(byId.get(lastInsertRowid)!);
  });
  const revoke = db.transaction((idOrName: number | string, now: number) => {
    const row = typeof idOrName === 'number' ? activeById.get(idOrName) : activeByName.get(idOrName);
    if (!row) return undefined;
    revokeRow.run(now, row.id);
    return toRecord(byId.get(row.id)!);
  });
  const touch = db.transaction((lastUsed: ReadonlyMap<number, number>) => {
    for (const [id, at] of lastUsed) touchRow.run(at, id, at);
  });

  return promised<ApiKeyRepository>({
    create: (key, now) => create.immediate(key, now),
    findActiveByHash(hash) {
      const row = byHash.get(hash);
      return row ? { ...toRecord(row), hash: row.hash } : undefined;
    },
    list: (options = {}) => (options.includeRevoked ? all : active).all().map(toRecord),
    revoke: (idOrName, now) => revoke.immediate(idOrName, now),
    touch: (lastUsed) => touch.immediate(lastUsed),
    count: () => db.prepare('SELECT COUNT(*) FROM api_keys').pluck().get() as number,
  });
}
