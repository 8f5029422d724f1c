import { type ModelRow, toVersion, type NewVersion, type PromotionPolicy, type ServingChoice, type Registration, type ModelsRepository, type ServingRow, toChoice, NOT_ACTIVATED, servingAfterPromotion, JobVersionExists } from '../models-repository.js';
import type { Db } from './connection.js';
import { promised } from './promised.js';

export function createModelsRepository(db: Db): ModelsRepository {
  const byJob = db.prepare<[string], { version: string }>('SELECT version FROM models WHERE job_id = ?');
  const get = db.prepare<[string, string], ModelRow>('SELECT * FROM models WHERE model = ? AND version = ?');
  const active = db.prepare<[string], ModelRow>('SELECT * FROM models WHERE model = ? AND active = 1');
  const deactivate = db.prepare<[string]>('UPDATE models SET active = 0 WHERE model = ? AND active = 1');
  const setActive = db.prepare<[number, string, string]>('UPDATE models SET active = 1, activated_at = ? WHERE model = ? AND version = ?');
  const insert = db.prepare(
    `INSERT INTO models (model, version, path, created_at, valid_hr10, metrics, manifest, job_id)
     VALUES (@model, @version, @path, @createdAt, @validHr10, @metrics, @manifest, @jobId)`,
  );
  const choiceRow = db.prepare<[], ServingRow>('SELECT mode, model, set_by, updated_at FROM serving WHERE id = 1');
  const writeChoice = db.prepare<[string, string | null, string, number]>(
    'INSERT INTO serving (id, mode, model, set_by, updated_at) VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET mode = excluded.mode, model = excluded.model, set_by = excluded.set_by, updated_at = excluded.updated_at',
  );
  const readChoice = (): ServingChoice => toChoice(choiceRow.get());
  const register = db.transaction((v: NewVersion, policy: PromotionPolicy, now: number): Registration => {
    const earlier = v.jobId === null ? undefined : byJob.get(v.jobId);
    if (earlier) throw new JobVersionExists(v.jobId!, earlier.version);
    const currentRow = active.get(v.model);
    const current = currentRow ? toVersion(currentRow) : null;
    insert.run({ ...v, createdAt: now, metrics: JSON.stringify(v.metrics), manifest: JSON.stringify(v.manifest) });
    const promoted = policy.activates(v, current);
    if (!promoted) return { promoted, previous: current, serving: false, servingReason: NOT_ACTIVATED };
    deactivate.run(v.model);
    setActive.run(now, v.model, v.version);
    const choice = readChoice();
    const servingNow = choice.mode === 'auto' && choice.model ? active.get(choice.model) : undefined;
    const decision = servingAfterPromotion(choice, v, servingNow ? toVersion(servingNow) : null, policy);
    if (decision.serve && choice.mode === 'auto') writeChoice.run('auto', v.model, 'promotion', now);
    return { promoted, previous: current, serving: decision.serve, servingReason: decision.reason };
  });
  const activate = db.transaction((model: string, version: string, now: number) => {
    if (!get.get(model, version)) return false;
    deactivate.run(model);
    setActive.run(now, model, version);
    return true;
  });
  return promised<ModelsRepository>({
    register: (v, policy, now) => register.immediate(v, policy, now),
    servingChoice: readChoice,
    servingVersion: () => {
      const model = readChoice().model;
      const r = model ? active.get(model) : undefined;
      return r ? toVersion(r) : undefined;
    },
    setServing: (c, now) => void writeChoice.run(c.mode, c.model, c.setBy, now),
    list: (model) =>
      (model
        ? db.prepare<[string], ModelRow>('SELECT * FROM models WHERE model = ? ORDER BY created_at DESC, id DESC').all(model)
        : db.prepare<[], ModelRow>('SELECT * FROM models ORDER BY created_at DESC, id DESC').all()
      ).map(toVersion),
    get: (model, version) => {
      const r = get.get(model, version);
      return r ? toVersion(r) : undefined;
    },
    active: (model) => {
      const r = active.get(model);
      return r ? toVersion(r) : undefined;
    },
    allActive: () => db.prepare<[], ModelRow>('SELECT * FROM models WHERE active = 1').all().map(toVersion),
    activate: (model, version, now) => activate.immediate(model, version, now),
    expendable: (model, keep) =>
      db
        .prepare<[string, number], ModelRow>('SELECT * FROM models WHERE model = ? ORDER BY created_at DESC, id DESC LIMIT -1 OFFSET ?')
        .all(model, keep)
        .filter((r) => r.active === 0)
        .map(toVersion),
    remove: (model, version) => void db.prepare('DELETE FROM models WHERE model = ? AND version = ? AND active = 0').run(model, version),
  });
}
