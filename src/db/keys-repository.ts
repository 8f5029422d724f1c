import type { Db } from './connection.js';
import { promised } from './promised.js';

/** What a key may do; `admin` includes the other two. */
export type Scope = 'read' | 'write' | 'admin';

export interface ApiKeyLimits {
  /** null: the deployment's default (RATE_LIMIT_REQUESTS); 0: unlimited. */
  requestsPerMinute: number | null;
  /** null: the deployment's default (RATE_LIMIT_BYTES); 0: unlimited. */
  bytesPerMinute: number | null;
}

export interface ApiKeyRecord extends ApiKeyLimits {
  id: number;
  name: string;
  /** The key's first characters, to tell keys apart; never enough to use it. */
  prefix: string;
  scopes: Scope[];
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export interface NewApiKey extends ApiKeyLimits {
  name: string;
  hash: string;
  prefix: string;
  scopes: Scope[];
}

export class DuplicateKeyNameError extends Error {
  constructor(readonly keyName: string) {
    super(`an active key is already named "${keyName}"`);
  }
}

export interface ApiKeyRepository {
  /** Stores a key's hash; a second active key with the same name is refused. */
  create(key: NewApiKey, now: number): Promise<ApiKeyRecord>;
  /** The active key with this hash. */
  findActiveByHash(hash: string): Promise<(ApiKeyRecord & { hash: string }) | undefined>;
  list(options?: { includeRevoked?: boolean }): Promise<ApiKeyRecord[]>;
  /** Revokes the active key with this id or name; undefined when there is none. */
  revoke(idOrName: number | string, now: number): Promise<ApiKeyRecord | undefined>;
  /** Records when keys were last used (batched by the caller). */
  touch(lastUsed: ReadonlyMap<number, number>): Promise<void>;
  /** How many keys were ever created (revoked ones included). */
  count(): Promise<number>;
}

export interface KeyRow {
  id: number;
  name: string;
  hash: string;
  prefix: string;
  scopes: string;
  requests_per_minute: number | null;
  bytes_per_minute: number | null;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export const toRecord = (r: KeyRow): ApiKeyRecord => ({
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  scopes: r.scopes.split(',') as Scope[],
  requestsPerMinute: r.requests_per_minute,
  bytesPerMinute: r.bytes_per_minute,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});

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
