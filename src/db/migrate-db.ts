import { closeDb, openDb } from './sqlite/connection.js';
import { migrate } from './sqlite/migrate.js';
import { migratePostgres } from './postgres/migrate.js';
import { advanceIdentity, insertRows, rowsPerStatement } from './postgres/load.js';
import { countOf, createPool, transaction } from './postgres/pool.js';
import { tableCount, tablePages, withReadSnapshot } from './sqlite/dump.js';
import { TABLES } from './tables.js';

export interface CopiedTable {
  table: string;
  source: number;
  target: number;
}

export class TargetNotEmptyError extends Error {
  constructor(table: string, rows: number) {
    super(`the PostgreSQL database already holds ${rows} rows in ${table}; migrate-db copies into an empty one only`);
    this.name = 'TargetNotEmptyError';
  }
}

/**
 * Copies a SQLite database into an empty PostgreSQL one, keeping every row and id, in one
 * PostgreSQL transaction (a failure leaves the target empty) from one SQLite read snapshot.
 * Both are migrated to this build's schema first. Returns each table's row count on both sides;
 * it throws unless they match.
 */
export async function copySqliteToPostgres(sqlitePath: string, postgresUrl: string, migrationsDir: string, onTable?: (table: string, rows: number) => void): Promise<CopiedTable[]> {
  const source = openDb(sqlitePath, { busyTimeoutMs: 10_000 });
  const pool = createPool(postgresUrl, 2);
  try {
    migrate(source, migrationsDir);
    await migratePostgres(pool, migrationsDir);
    const report = await withReadSnapshot(source, () =>
      transaction(pool, async (client) => {
        for (const table of TABLES) {
          const rows = await countOf(client, table.name);
          if (!table.singleton && rows > 0) throw new TargetNotEmptyError(table.name, rows);
        }
        const report: CopiedTable[] = [];
        for (const table of TABLES) {
          for (const page of tablePages(source, table, rowsPerStatement(table))) await insertRows(client, table, page);
          await advanceIdentity(client, table);
          const copied = { table: table.name, source: tableCount(source, table), target: await countOf(client, table.name) };
          if (copied.source !== copied.target) throw new Error(`${table.name}: ${copied.source} rows in SQLite, ${copied.target} copied`);
          report.push(copied);
          onTable?.(table.name, copied.target);
        }
        return report;
      }),
    );
    // Fresh tables have no statistics: until autovacuum gets to them the planner guesses, and a
    // guess can sort a heavy user's whole history for one request.
    await pool.query(`ANALYZE ${TABLES.map((t) => t.name).join(', ')}`);
    return report;
  } finally {
    await pool.end();
    closeDb(source);
  }
}
