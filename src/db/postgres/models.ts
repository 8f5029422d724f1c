import { JobVersionExists, NOT_ACTIVATED, servingAfterPromotion, toChoice, toVersion, type ModelRow, type ModelsRepository, type NewVersion, type PromotionPolicy, type Registration, type ServingRow } from '../models-repository.js';
import { changes, lockFor, row, rows, transaction, type Client, type Pool, type Queryable } from './pool.js';

/** Registrations, activations and serving choices of every process queue on this lock. */
const REGISTRY_LOCK = 'recflow.models';

const activeRow = (db: Queryable, model: string) => row<ModelRow>(db, 'SELECT * FROM models WHERE model = $1 AND active = 1', [model]);
const readChoice = async (db: Queryable) => toChoice(await row<ServingRow>(db, 'SELECT mode, model, set_by, updated_at FROM serving WHERE id = 1'));

async function writeChoice(db: Queryable, mode: string, model: string | null, setBy: string, now: number): Promise<void> {
  await db.query(
    'INSERT INTO serving (id, mode, model, set_by, updated_at) VALUES (1, $1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET mode = excluded.mode, model = excluded.model, set_by = excluded.set_by, updated_at = excluded.updated_at',
    [mode, model, setBy, now],
  );
}

async function activateIn(client: Client, model: string, version: string, now: number): Promise<void> {
  await client.query('UPDATE models SET active = 0 WHERE model = $1 AND active = 1', [model]);
  await client.query('UPDATE models SET active = 1, activated_at = $1 WHERE model = $2 AND version = $3', [now, model, version]);
}

/** The SQLite registration's steps in one transaction, under the registry lock (two workers finishing together decide in turn). */
async function register(client: Client, v: NewVersion, policy: PromotionPolicy, now: number): Promise<Registration> {
  await lockFor(client, REGISTRY_LOCK);
  const earlier = v.jobId === null ? undefined : await row<{ version: string }>(client, 'SELECT version FROM models WHERE job_id = $1', [v.jobId]);
  if (earlier) throw new JobVersionExists(v.jobId!, earlier.version);
  const currentRow = await activeRow(client, v.model);
  const current = currentRow ? toVersion(currentRow) : null;
  await client.query(
    'INSERT INTO models (model, version, path, created_at, valid_hr10, metrics, manifest, job_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
    [v.model, v.version, v.path, now, v.validHr10, JSON.stringify(v.metrics), JSON.stringify(v.manifest), v.jobId],
  );
  const promoted = policy.activates(v, current);
  if (!promoted) return { promoted, previous: current, serving: false, servingReason: NOT_ACTIVATED };
  await activateIn(client, v.model, v.version, now);
  const choice = await readChoice(client);
  const servingNow = choice.mode === 'auto' && choice.model ? await activeRow(client, choice.model) : undefined;
  const decision = servingAfterPromotion(choice, v, servingNow ? toVersion(servingNow) : null, policy);
  if (decision.serve && choice.mode === 'auto') await writeChoice(client, 'auto', v.model, 'promotion', now);
  return { promoted, previous: current, serving: decision.serve, servingReason: decision.reason };
}

export function postgresModels(pool: Pool): ModelsRepository {
  return {
    register: (v, policy, now) => transaction(pool, (client) => register(client, v, policy, now)),
    servingChoice: () => readChoice(pool),
    servingVersion: async () => {
      const model = (await readChoice(pool)).model;
      const r = model ? await activeRow(pool, model) : undefined;
      return r ? toVersion(r) : undefined;
    },
    setServing: (c, now) => writeChoice(pool, c.mode, c.model, c.setBy, now),
    list: async (model) =>
      (model
        ? await rows<ModelRow>(pool, 'SELECT * FROM models WHERE model = $1 ORDER BY created_at DESC, id DESC', [model])
        : await rows<ModelRow>(pool, 'SELECT * FROM models ORDER BY created_at DESC, id DESC')
      ).map(toVersion),
    get: async (model, version) => {
      const r = await row<ModelRow>(pool, 'SELECT * FROM models WHERE model = $1 AND version = $2', [model, version]);
      return r ? toVersion(r) : undefined;
    },
    active: async (model) => {
      const r = await activeRow(pool, model);
      return r ? toVersion(r) : undefined;
    },
    allActive: async () => (await rows<ModelRow>(pool, 'SELECT * FROM models WHERE active = 1')).map(toVersion),
    activate: (model, version, now) =>
      transaction(pool, async (client) => {
        await lockFor(client, REGISTRY_LOCK);
        if (!(await row(client, 'SELECT 1 FROM models WHERE model = $1 AND version = $2', [model, version]))) return false;
        await activateIn(client, model, version, now);
        return true;
      }),
    expendable: async (model, keep) =>
      (await rows<ModelRow>(pool, 'SELECT * FROM models WHERE model = $1 ORDER BY created_at DESC, id DESC OFFSET $2', [model, keep])).filter((r) => r.active === 0).map(toVersion),
    remove: async (model, version) => void (await changes(pool, 'DELETE FROM models WHERE model = $1 AND version = $2 AND active = 0', [model, version])),
  };
}
