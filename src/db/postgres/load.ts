import type { TableRow, TableSpec } from '../tables.js';
import { row, type Client } from './pool.js';

/** PostgreSQL binds at most 65,535 parameters per statement. */
const MAX_PARAMS = 60_000;

export const rowsPerStatement = (table: TableSpec): number => Math.floor(MAX_PARAMS / table.columns.length);

/** Inserts rows keeping their ids (identities are BY DEFAULT); a singleton row replaces the migration's default. */
export async function insertRows(client: Client, table: TableSpec, rows: readonly TableRow[]): Promise<void> {
  if (rows.length === 0) return;
  const cols = table.columns;
  const values = rows.map((_, r) => `(${cols.map((__, c) => `$${r * cols.length + c + 1}`).join(', ')})`).join(', ');
  const conflict = table.singleton ? ` ON CONFLICT (id) DO UPDATE SET ${cols.filter((c) => c !== 'id').map((c) => `${c} = excluded.${c}`).join(', ')}` : '';
  await client.query(`INSERT INTO ${table.name} (${cols.join(', ')}) VALUES ${values}${conflict}`, rows.flatMap((r) => cols.map((c) => r[c] ?? null)));
}

/** Moves an identity past the copied ids, so the next row created gets a new one. */
export async function advanceIdentity(client: Client, table: TableSpec): Promise<void> {
  if (!table.columns.includes('id')) return;
  const sequence = (await row<{ s: string | null }>(client, `SELECT pg_get_serial_sequence('${table.name}', 'id') AS s`))?.s;
  if (!sequence) return;
  await client.query(`SELECT setval($1, COALESCE((SELECT MAX(id) FROM ${table.name}), 0) + 1, false)`, [sequence]);
}
