import type { Db } from './connection.js';
import type { EntitiesRepository, EntityKind } from '../entities-repository.js';

function prepareFor(db: Db, kind: EntityKind) {
  return {
    find: db.prepare<[string], number>(`SELECT id FROM ${kind} WHERE external_id = ?`).pluck(),
    insert: db.prepare<[string, number]>(`INSERT INTO ${kind} (external_id, created_at) VALUES (?, ?)`),
    count: db.prepare<[], number>(`SELECT COUNT(*) FROM ${kind}`).pluck(),
  };
}

export function createEntitiesRepository(db: Db): EntitiesRepository {
  const stmts = { users: prepareFor(db, 'users'), items: prepareFor(db, 'items') };
  return {
    find(kind, externalId) {
      return stmts[kind].find.get(externalId);
    },
    resolve(kind, externalId, now) {
      const existing = stmts[kind].find.get(externalId);
      if (existing !== undefined) return existing;
      return Number(stmts[kind].insert.run(externalId, now).lastInsertRowid);
    },
    count(kind) {
      return stmts[kind].count.get() ?? 0;
    },
  };
}
