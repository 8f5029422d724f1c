import { Command, InvalidArgumentError } from 'commander';
import { loadConfig, POSTGRES_URL } from '../config.js';
import { copySqliteToPostgres } from '../db/migrate-db.js';

const sqliteSource = (v: string): string => {
  const file = v.replace(/^sqlite:(\/\/)?/, '');
  if (!file || /^postgres(ql)?:/.test(v)) throw new InvalidArgumentError('a SQLite file, as sqlite:./data/recflow.db or a path');
  return file;
};
const postgresTarget = (v: string): string => {
  if (!POSTGRES_URL.test(v)) throw new InvalidArgumentError('a postgres:// URL');
  return v;
};

/** `recflow migrate-db`: moves an embedded deployment's SQLite database into PostgreSQL, ids and all. */
export function migrateDbCommand(): Command {
  return new Command('migrate-db')
    .description('copy a SQLite database into an empty PostgreSQL database, keeping every row and id (stop the API and worker first)')
    .requiredOption('--from <sqlite>', 'the SQLite database, e.g. sqlite:./data/recflow.db', sqliteSource)
    .requiredOption('--to <url>', 'the PostgreSQL database, e.g. postgres://recflow@db:5432/recflow', postgresTarget)
    .action(async (o: { from: string; to: string }) => {
      const started = Date.now();
      const report = await copySqliteToPostgres(o.from, o.to, loadConfig().migrationsDir, (table, rows) => process.stderr.write(`  ${table.padEnd(18)} ${rows}\n`));
      const total = report.reduce((n, t) => n + t.target, 0);
      process.stderr.write(`copied ${total} rows in ${((Date.now() - started) / 1000).toFixed(1)} s; every table's count matches\n`);
      process.stdout.write(`${JSON.stringify(Object.fromEntries(report.map((t) => [t.table, t.target])))}\n`);
    });
}
