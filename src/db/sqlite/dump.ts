import type { Db } from './connection.js';
import type { TableRow, TableSpec } from '../tables.js';

/** Rows of a table in key order, `size` at a time (keyset paging: each page costs `size` rows). */
export function* tablePages(db: Db, table: TableSpec, size: number): Generator<TableRow[]> {
  const cols = table.columns.join(', ');
  const key = table.key.join(', ');
  const first = db.prepare<[number], TableRow>(`SELECT ${cols} FROM ${table.name} ORDER BY ${key} LIMIT ?`);
  const after = db.prepare<unknown[], TableRow>(`SELECT ${cols} FROM ${table.name} WHERE (${key}) > (${table.key.map(() => '?').join(', ')}) ORDER BY ${key} LIMIT ?`);
  let page = first.all(size);
  while (page.length > 0) {
    yield page;
    if (page.length < size) return;
    const last = page[page.length - 1];
    page = after.all(...table.key.map((k) => last[k]), size);
  }
}

export function tableCount(db: Db, table: TableSpec): number {
  return db.prepare<[], number>(`SELECT COUNT(*) FROM ${table.name}`).pluck().get() ?? 0;
}

/** Holds one read snapshot of the file while `work` runs, so a copy is consistent even if writers continue. */
export async function withReadSnapshot<T>(db: Db, work: () => Promise<T>): Promise<T> {
  db.exec('BEGIN');
  try {
    // The snapshot starts at the first read, not at BEGIN.
    db.prepare('SELECT 1 FROM users LIMIT 1').get();
    return await work();
  } finally {
    db.exec('COMMIT');
  }
}
