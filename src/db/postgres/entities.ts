import type { EntityKind } from '../entities-repository.js';
import { rows, type Queryable } from './pool.js';

/**
 * Sequences hand out ids before their transactions commit, and transactions commit in any order:
 * a page of an id-cursor walk (the export) could see id 101 committed while 100 is still in flight,
 * and the next page would start after 101 and never see 100. So every transaction that may
 * create users, items, ratings or events holds this lock shared until it commits, and a cursor
 * page takes it exclusively: it waits for the writes in flight, and every id below what it reads
 * is settled. A page is one bounded query, so writers wait for milliseconds.
 */
const ID_ALLOCATION_LOCK = "hashtext('recflow.ids.' || current_schema())";

export async function holdIdAllocation(db: Queryable): Promise<void> {
  await db.query(`SELECT pg_advisory_xact_lock_shared(${ID_ALLOCATION_LOCK})`);
}

export async function settleIdAllocation(db: Queryable): Promise<void> {
  await db.query(`SELECT pg_advisory_xact_lock(${ID_ALLOCATION_LOCK})`);
}

/**
 * Internal ids for external ids, creating the missing rows, inside the caller's transaction (a
 * rolled-back batch creates none). Ids are inserted in sorted order so two batches that create
 * the same new ids take their row locks in the same order and cannot deadlock.
 */
export async function resolveIds(db: Queryable, kind: EntityKind, externalIds: readonly string[], now: number): Promise<Map<string, number>> {
  const unique = [...new Set(externalIds)].sort();
  if (unique.length === 0) return new Map();
  await holdIdAllocation(db);
  await db.query(`INSERT INTO ${kind} (external_id, created_at) SELECT x, $2 FROM unnest($1::text[]) AS x ON CONFLICT (external_id) DO NOTHING`, [unique, now]);
  return findIds(db, kind, unique);
}

/** Like {@link resolveIds}, and how many distinct ids it had to create (the batch's new entities). */
export async function resolveCounting(db: Queryable, kind: EntityKind, externalIds: readonly string[], now: number): Promise<{ ids: Map<string, number>; created: number }> {
  const known = await findIds(db, kind, externalIds);
  const ids = await resolveIds(db, kind, externalIds, now);
  return { ids, created: ids.size - known.size };
}

/** Internal ids of the external ids that exist. */
export async function findIds(db: Queryable, kind: EntityKind, externalIds: readonly string[]): Promise<Map<string, number>> {
  const found = await rows<{ id: number; external_id: string }>(db, `SELECT id, external_id FROM ${kind} WHERE external_id = ANY($1::text[])`, [externalIds]);
  return new Map(found.map((r) => [r.external_id, r.id]));
}

export async function findId(db: Queryable, kind: EntityKind, externalId: string): Promise<number | undefined> {
  return (await findIds(db, kind, [externalId])).get(externalId);
}
