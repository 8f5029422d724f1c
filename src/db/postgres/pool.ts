import pg from 'pg';
import { DatabaseUnavailableError } from '../errors.js';

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

/**
 * Socket errors, SQLSTATE class 08 (connection exception), shutdowns, "too many connections",
 * and a database or role the server does not know (3D000, 28000, 28P01): a deployment whose
 * database is missing or being restored is unavailable, not a failed request.
 */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', '57P01', '57P02', '57P03', '53300', '3D000', '28000', '28P01']);
const UNAVAILABLE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection closed|not queryable/i;

/** Whether an error means the server could not be reached (retry later), not that a statement failed. */
export function isUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
  return err instanceof Error && UNAVAILABLE_MESSAGES.test(err.message);
}

const mapped = (err: unknown): never => {
  throw isUnavailable(err) ? new DatabaseUnavailableError(err) : err;
};
/** Promise results reject with DatabaseUnavailableError for connection failures; a Cursor passes through. */
const guarded = <T>(result: T): T => (result instanceof Promise ? (result.catch(mapped) as T) : result);

/**
 * Every query and connect of the pool, and of the clients it lends, reports a lost or refused
 * connection as {@link DatabaseUnavailableError}, so every repository tells callers "retry"
 * the same way without wrapping each statement.
 */
function guardConnectionErrors(pool: pg.Pool): pg.Pool {
  const guardedClients = new WeakSet<pg.PoolClient>();
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  const connect = pool.connect.bind(pool) as (callback?: unknown) => Promise<pg.PoolClient> | undefined;
  const connectGuarded = async (): Promise<pg.PoolClient> => {
    const client = await (connect() as Promise<pg.PoolClient>).catch(mapped);
    if (!guardedClients.has(client)) {
      const clientQuery = client.query.bind(client) as (...args: unknown[]) => unknown;
      Object.assign(client, { query: (...args: unknown[]) => guarded(clientQuery(...args)) });
      guardedClients.add(client);
    }
    return client;
  };
  Object.assign(pool, {
    query: (...args: unknown[]) => guarded(query(...args)),
    // pg-pool's own query() connects with a callback: that form goes through untouched.
    connect: (callback?: unknown) => (typeof callback === 'function' ? connect(callback) : connectGuarded()),
  });
  return pool;
}

export function createPool(url: string, max: number): Pool {
  const pool = new pg.Pool({ connectionString: url, max, types: TYPES, connectionTimeoutMillis: 10_000, idleTimeoutMillis: 30_000 });
  // An idle client losing its connection (a server restart) is replaced by the pool; the error must not crash the process.
  pool.on('error', () => undefined);
  // A lent client's socket error is emitted on the client, where pg-pool listens only while it is
  // idle: unheard, one reset mid-transaction ended the process. Its query rejects with the same
  // error, which the transaction layer maps to 503 and uses to discard the client.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return guardConnectionErrors(pool);
}

export async function rows<T>(db: Queryable, sql: string, params: unknown[] = []): Promise<T[]> {
  return (await db.query(sql, params)).rows as T[];
}

export async function row<T>(db: Queryable, sql: string, params: unknown[] = []): Promise<T | undefined> {
  return (await db.query(sql, params)).rows[0] as T | undefined;
}

/** Rows of a table (optionally those matching `where`): one statement, a number back. */
export async function countOf(db: Queryable, table: string, where = ''): Promise<number> {
  return (await row<{ n: number }>(db, `SELECT COUNT(*) AS n FROM ${table}${where ? ` WHERE ${where}` : ''}`))!.n;
}

export async function changes(db: Queryable, sql: string, params: unknown[] = []): Promise<number> {
  return (await db.query(sql, params)).rowCount ?? 0;
}

type Isolation = 'READ COMMITTED' | 'REPEATABLE READ';

/**
 * Races between replicas that a second try resolves: a deadlock (PostgreSQL aborts one side), a
 * serialization failure, and a reference to a row another transaction deleted meanwhile (a user
 * erased while their batch was being written: the retry creates them anew, as SQLite's order would).
 */
const RETRYABLE = new Set(['40P01', '40001', '23503']);
const ATTEMPTS = 3;

/**
 * Runs `work` in one transaction on one client: committed when it resolves, rolled back when it
 * throws (the error is rethrown), so a batch is all-or-nothing as in SQLite. A transaction that
 * lost a race (see RETRYABLE) is run again from the start, up to three times in all.
 */
export async function transaction<T>(pool: Pool, work: (client: Client) => Promise<T>, isolation: Isolation = 'READ COMMITTED', readOnly = false): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transactionOnce(pool, work, isolation, readOnly);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (attempt >= ATTEMPTS || typeof code !== 'string' || !RETRYABLE.has(code)) throw err;
    }
  }
}

async function transactionOnce<T>(pool: Pool, work: (client: Client) => Promise<T>, isolation: Isolation, readOnly: boolean): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query(`BEGIN ISOLATION LEVEL ${isolation}${readOnly ? ' READ ONLY' : ''}`);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    if (err instanceof DatabaseUnavailableError) broken = err;
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    // A client whose connection broke is destroyed, not lent again.
    client.release(broken);
  }
}

/** Serialises transactions that take the same named lock (released at commit or rollback). */
export async function lockFor(client: Client, name: string): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [name]);
}
