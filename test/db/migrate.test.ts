import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_MIGRATIONS_DIR } from '../../src/config.js';
import { openDb } from '../../src/db/sqlite/connection.js';
import { migrate, MigrationError } from '../../src/db/sqlite/migrate.js';
import { startApp, tempDir, testConfig } from '../helpers/app.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

function copyMigrations(to: string): void {
  fs.cpSync(DEFAULT_MIGRATIONS_DIR, to, { recursive: true });
}

const tables = (file: string): string[] => {
  const db = openDb(file);
  const names = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
  db.close();
  return names;
};

describe('migration runner', () => {
  it('migrates a fresh database and records every version', () => {
    const db = openDb(path.join(dir, 'a.db'));
    const result = migrate(db, DEFAULT_MIGRATIONS_DIR);
    expect(result.applied[0]).toBe(1);
    const versions = db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
    expect(versions).toEqual(result.applied);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('does nothing on an already migrated database', () => {
    const db = openDb(path.join(dir, 'a.db'));
    migrate(db, DEFAULT_MIGRATIONS_DIR);
    expect(migrate(db, DEFAULT_MIGRATIONS_DIR).applied).toEqual([]);
    db.close();
  });

  it('refuses to start on a broken migration and leaves the database as it was', async () => {
    const migrations = path.join(dir, 'migrations');
    copyMigrations(migrations);
    const config = testConfig(dir, { MIGRATIONS_DIR: migrations });
    const app = await startApp(config);
    await app.close();
    const before = tables(config.databasePath);

    fs.writeFileSync(
      path.join(migrations, '900_broken.sql'),
      'CREATE TABLE half_done (id INTEGER);\nINSERT INTO no_such_table VALUES (1);\n',
    );
    await expect(startApp(config)).rejects.toThrow(/900_broken\.sql failed and was rolled back: no such table: no_such_table/);
    expect(tables(config.databasePath)).toEqual(before);
    const db = openDb(config.databasePath);
    expect(db.prepare('SELECT MAX(version) FROM schema_migrations').pluck().get()).toBeLessThan(900);
    db.close();
  });

  it('refuses a migration edited after it was applied', () => {
    const migrations = path.join(dir, 'migrations');
    copyMigrations(migrations);
    const db = openDb(path.join(dir, 'a.db'));
    migrate(db, migrations);
    fs.appendFileSync(path.join(migrations, '001_init.sql'), '\n-- edited\n');
    expect(() => migrate(db, migrations)).toThrow(MigrationError);
    expect(() => migrate(db, migrations)).toThrow(/checksum mismatch/);
    db.close();
  });

  it('refuses a database that is newer than the code', () => {
    const migrations = path.join(dir, 'migrations');
    copyMigrations(migrations);
    fs.writeFileSync(path.join(migrations, '950_future.sql'), 'CREATE TABLE future (id INTEGER);');
    const db = openDb(path.join(dir, 'a.db'));
    migrate(db, migrations);
    fs.rmSync(path.join(migrations, '950_future.sql'));
    expect(() => migrate(db, migrations)).toThrow(/does not know/);
    db.close();
  });
});
