import { DuplicateKeyNameError, toRecord, type ApiKeyRepository, type KeyRow } from '../keys-repository.js';
import { countOf, row, rows, transaction, type Pool } from './pool.js';

const UNIQUE_VIOLATION = '23505';

export function postgresKeys(pool: Pool): ApiKeyRepository {
  return {
    // The unique indexes decide between two processes registering the same key (replicas starting
    // together with one generated default key) or the same name: either way, a name already taken.
    create: async (key, now) => {
      try {
        const created = await row<KeyRow>(
          pool,
          'INSERT INTO api_keys (name, hash, prefix, scopes, requests_per_minute, bytes_per_minute, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *',
          [key.name, key.hash, key.prefix, key.scopes.join(','), key.requestsPerMinute, key.bytesPerMinute, now],
        );
        return toRecord(created!);
      } catch (err) {
        const { code, constraint } = err as { code?: string; constraint?: string };
        if (code === UNIQUE_VIOLATION && (constraint === 'api_keys_active_name' || constraint === 'api_keys_hash_key')) throw new DuplicateKeyNameError(key.name);
        throw err;
      }
    },
    findActiveByHash: async (hash) => {
      const r = await row<KeyRow>(pool, 'SELECT * FROM api_keys WHERE hash = $1 AND revoked_at IS NULL', [hash]);
      return r ? { ...toRecord(r), hash: r.hash } : undefined;
    },
    list: async (options = {}) => (await rows<KeyRow>(pool, `SELECT * FROM api_keys ${options.includeRevoked ? '' : 'WHERE revoked_at IS NULL'} ORDER BY id`)).map(toRecord),
    revoke: (idOrName, now) =>
      transaction(pool, async (client) => {
        const target = typeof idOrName === 'number' ? 'id = $1' : 'name = $1';
        const r = await row<KeyRow>(client, `UPDATE api_keys SET revoked_at = $2 WHERE ${target} AND revoked_at IS NULL RETURNING *`, [idOrName, now]);
        return r ? toRecord(r) : undefined;
      }),
    touch: async (lastUsed) => {
      if (lastUsed.size === 0) return;
      const entries = [...lastUsed].filter(([, at]) => at > 0);
      await pool.query(
        'UPDATE api_keys k SET last_used_at = GREATEST(coalesce(k.last_used_at, 0), x.at) FROM unnest($1::bigint[], $2::bigint[]) AS x(id, at) WHERE k.id = x.id',
        [entries.map(([id]) => id), entries.map(([, at]) => at)],
      );
    },
    count: () => countOf(pool, 'api_keys'),
  };
}
