import { Command, InvalidArgumentError, Option } from 'commander';
import { issueKey, keyNameProblem, SCOPES, type Scope } from '../auth/keys.js';
import { DuplicateKeyNameError, type ApiKeyRecord, type ApiKeyRepository } from '../db/keys-repository.js';
import { configWithDb, DB_OPTION_HELP, withStore } from './database.js';

const perMinute = (flag: string) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${flag} must be a non-negative integer (0 = unlimited)`);
  return n;
};
const keyName = (v: string): string => {
  const problem = keyNameProblem(v);
  if (problem) throw new InvalidArgumentError(`--name ${problem}`);
  return v;
};
const collectScope = (v: string, previous: Scope[] = []): Scope[] => {
  if (!(SCOPES as readonly string[]).includes(v)) throw new InvalidArgumentError(`--scope must be one of ${SCOPES.join(', ')}`);
  return previous.includes(v as Scope) ? previous : [...previous, v as Scope];
};
const iso = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString());
const row = (k: ApiKeyRecord): string =>
  [k.id, k.name, `${k.prefix}…`, k.scopes.join('+'), `req/min ${k.requestsPerMinute ?? 'default'}`, `bytes/min ${k.bytesPerMinute ?? 'default'}`, `created ${iso(k.createdAt)}`, `last used ${iso(k.lastUsedAt)}`, k.revokedAt ? `revoked ${iso(k.revokedAt)}` : 'active'].join('\t');

/** Opens the configured database (migrated) for one key operation. */
function withKeys<T>(db: string | undefined, run: (keys: ApiKeyRepository) => Promise<T>): Promise<T> {
  return withStore(configWithDb(db), (store) => run(store.keys));
}

/** `recflow keys create|list|revoke`: the same operations as /admin/keys, on the database directly. */
export function keysCommand(): Command {
  const keys = new Command('keys').description('manage API keys (stored hashed; a key is shown once, when created)');
  keys
    .command('create')
    .description('create a key and print it (the only time it is shown)')
    .requiredOption('--name <name>', 'a name for the key (a metrics label: no secrets)', keyName)
    .addOption(new Option('--scope <scope>', 'read, write or admin (repeat for several)').argParser(collectScope).makeOptionMandatory())
    .option('--requests-per-minute <n>', 'request limit for this key (0 = unlimited; default RATE_LIMIT_REQUESTS)', perMinute('--requests-per-minute'))
    .option('--bytes-per-minute <n>', 'request-body byte limit for this key (0 = unlimited; default RATE_LIMIT_BYTES)', perMinute('--bytes-per-minute'))
    .option('--db <path>', DB_OPTION_HELP)
    .action(async (o: { name: string; scope: Scope[]; requestsPerMinute?: number; bytesPerMinute?: number; db?: string }) => {
      try {
        const { record, key } = await withKeys(o.db, (repo) =>
          issueKey(repo, { name: o.name, scopes: o.scope, requestsPerMinute: o.requestsPerMinute ?? null, bytesPerMinute: o.bytesPerMinute ?? null }, Date.now()),
        );
        process.stderr.write(`created key ${record.id} "${record.name}" (${record.scopes.join('+')}); it is not shown again:\n`);
        process.stdout.write(`${key}\n`);
      } catch (err) {
        if (err instanceof DuplicateKeyNameError) throw new Error(`${err.message}; revoke it first or pick another name`);
        throw err;
      }
    });
  keys
    .command('list')
    .description('list keys (never the keys themselves)')
    .option('--all', 'include revoked keys')
    .option('--db <path>', DB_OPTION_HELP)
    .action(async (o: { all?: boolean; db?: string }) => {
      for (const k of await withKeys(o.db, (repo) => repo.list({ includeRevoked: o.all }))) process.stdout.write(`${row(k)}\n`);
    });
  keys
    .command('revoke')
    .description('revoke a key by id or name; it stops working on the next request')
    .argument('<key>', 'the key id or name')
    .option('--db <path>', DB_OPTION_HELP)
    .action(async (which: string, o: { db?: string }) => {
      const target = /^\d+$/.test(which) ? Number(which) : which;
      const revoked = await withKeys(o.db, (repo) => repo.revoke(target, Date.now()));
      if (!revoked) throw new Error(`no active key ${JSON.stringify(which)}`);
      process.stdout.write(`${row(revoked)}\n`);
    });
  return keys;
}
