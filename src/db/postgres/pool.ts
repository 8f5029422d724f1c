import pg from 'pg';

/** BIGINT columns and COUNT(*) come back as numbers: every value recflow stores is below 2^53. */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === pg.types.builtins.INT8 || oid === pg.types.builtins.NUMERIC) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

export type Pool = pg.Pool;
export type Client = pg.PoolClient;
/** A pool or a transaction's client: what a query runs on. */
export type Queryable = Pick<pg.Pool, 'query'>;

export function createPool(url: string, max: number): Pool {
  const pool = new pg.Pool({ connectionString: url, max, types: TYPES, connectionTimeoutMillis: 10_000, idleTimeoutMillis: 30_000 });
  // An idle client losing its connection (a server restart) is replaced by the pool; the error must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}

export async function rows<T>(db: Queryable, sql: string, params: unknown[] = []): Promise<T[]> {
  return (await db.query(sql, params)).rows as T[];
}

export async function row<T>(db: Queryable, sql: string, params: unknown[] = []): Promise<T | undefined> {
  return (await db.query(sql, params)).rows[0] as T | undefined;
}

export async function changes(db: Queryable, sql: string, params: unknown[] = []): Promise<number> {
  return (await db.query(sql, params)).rowCount ?? 0;
}

type Isolation = 'READ COMMITTED' | 'REPEATABLE READ';

/**
 * Runs `work` in one transaction on one client: committed when it resolves, rolled back when it
 * throws (the error is rethrown), so a batch is all-or-nothing as in SQLite.
 */
export async function transaction<T>(pool: Pool, work: (client: Client) => Promise<T>, isolation: Isolation = 'READ COMMITTED', readOnly = false): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(`BEGIN ISOLATION LEVEL ${isolation}${readOnly ? ' READ ONLY' : ''}`);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Serialises transactions that take the same named lock (released at commit or rollback). */
export async function lockFor(client: Client, name: string): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [name]);
}
