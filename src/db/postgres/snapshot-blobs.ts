import type { SnapshotBlobRepository } from '../snapshot-blobs-repository.js';
import { changes, row, rows, transaction, type Pool } from './pool.js';

/** Snapshot chunks in PostgreSQL: each chunk its own statement, so no transaction holds a whole file. */
export function postgresSnapshotBlobs(pool: Pool): SnapshotBlobRepository {
  return {
    begin: (model, version, manifest, now) =>
      transaction(pool, async (client) => {
        await client.query('DELETE FROM snapshot_versions WHERE model = $1 AND version = $2 AND NOT complete', [model, version]);
        await client.query('INSERT INTO snapshot_versions (model, version, manifest, created_at) VALUES ($1, $2, $3, $4)', [model, version, manifest, now]);
      }),
    putChunk: async (model, version, file, seq, data) => {
      await pool.query('INSERT INTO snapshot_chunks (model, version, file, seq, data) VALUES ($1, $2, $3, $4, $5)', [model, version, file, seq, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
    },
    complete: async (model, version) => (await changes(pool, 'UPDATE snapshot_versions SET complete = true WHERE model = $1 AND version = $2', [model, version])) > 0,
    manifest: async (model, version) => (await row<{ manifest: string }>(pool, 'SELECT manifest FROM snapshot_versions WHERE model = $1 AND version = $2 AND complete', [model, version]))?.manifest ?? null,
    chunk: async (model, version, file, seq) =>
      (await row<{ data: Buffer }>(pool, 'SELECT c.data FROM snapshot_chunks c JOIN snapshot_versions v USING (model, version) WHERE v.complete AND c.model = $1 AND c.version = $2 AND c.file = $3 AND c.seq = $4', [model, version, file, seq]))?.data ?? null,
    remove: async (model, version) => {
      await pool.query('DELETE FROM snapshot_versions WHERE model = $1 AND version = $2', [model, version]);
    },
    list: (model) =>
      rows<{ model: string; version: string }>(pool, `SELECT model, version FROM snapshot_versions WHERE complete ${model ? 'AND model = $1' : ''} ORDER BY created_at, version`, model ? [model] : []),
    incomplete: (before) => rows<{ model: string; version: string }>(pool, 'SELECT model, version FROM snapshot_versions WHERE NOT complete AND created_at < $1', [before]),
  };
}
