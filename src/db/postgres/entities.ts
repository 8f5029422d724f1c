import type { EntityKind } from '../entities-repository.js';
import { rows, type Queryable } from './pool.js';

/**
 * Internal ids for external ids, creating the missing rows, inside the caller's transaction (a
 * rolled-back batch creates none). Ids are inserted in sorted order so two batches that create
 * the same new ids take their row locks in the same order and cannot deadlock.
 */
export async function resolveIds(db: Queryable, kind: EntityKind, externalIds: readonly string[], now: number): Promise<Map<string, number>> {
  const unique = [...new Set(externalIds)].sort();
  if (unique.length === 0) return new Map();
  await db.query(`INSERT INTO ${kind} (external_id, created_at) SELECT x, $2 FROM unnest($1::text[]) AS x ON CONFLICT (external_id) DO NOTHING`, [unique, now]);
  return findIds(db, kind, unique);
}

/** Internal ids of the external ids that exist. */
export async function findIds(db: Queryable, kind: EntityKind, externalIds: readonly string[]): Promise<Map<string, number>> {
  const found = await rows<{ id: number; external_id: string }>(db, `SELECT id, external_id FROM ${kind} WHERE external_id = ANY($1::text[])`, [externalIds]);
  return new Map(found.map((r) => [r.external_id, r.id]));
}

export async function findId(db: Queryable, kind: EntityKind, externalId: string): Promise<number | undefined> {
  return (await findIds(db, kind, [externalId])).get(externalId);
}
