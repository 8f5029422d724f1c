import type { Db } from './connection.js';
import { promised } from './promised.js';

export interface ModelVersion {
  model: string;
  version: string;
  path: string;
  createdAt: number;
  validHr10: number;
  metrics: Record<string, unknown>;
  manifest: Record<string, unknown>;
  jobId: string | null;
  active: boolean;
  activatedAt: number | null;
}

export interface ModelRow {
  model: string;
  version: string;
  path: string;
  created_at: number;
  valid_hr10: number;
  metrics: string;
  manifest: string;
  job_id: string | null;
  active: number;
  activated_at: number | null;
}

export const toVersion = (r: ModelRow): ModelVersion => ({
  model: r.model,
  version: r.version,
  path: r.path,
  createdAt: r.created_at,
  validHr10: r.valid_hr10,
  metrics: JSON.parse(r.metrics) as Record<string, unknown>,
  manifest: JSON.parse(r.manifest) as Record<string, unknown>,
  jobId: r.job_id,
  active: r.active === 1,
  activatedAt: r.activated_at,
});

export interface NewVersion {
  model: string;
  version: string;
  path: string;
  validHr10: number;
  metrics: Record<string, unknown>;
  manifest: Record<string, unknown>;
  jobId: string | null;
}

/**
 * The promotion decisions, made inside the registration's transaction so two workers finishing
 * together decide on a consistent state (the rules themselves live in train/promotion.ts).
 */
export interface PromotionPolicy {
  /** Whether the new version becomes its model type's active version. */
  activates(candidate: NewVersion, active: ModelVersion | null): boolean;
  /** In `auto` mode, whether its model type takes over serving from what serves now. */
  serves(candidate: NewVersion, serving: ModelVersion | null): { serve: boolean; reason: string };
}

export interface ServingChoice {
  mode: 'auto' | 'pinned';
  /** The model type serving by default (its active version answers). */
  model: string | null;
  setBy: string;
  updatedAt: number;
}

export interface Registration {
  promoted: boolean;
  previous: ModelVersion | null;
  /** Whether this version now serves by default, and why (or why not). */
  serving: boolean;
  servingReason: string;
}

export interface ModelsRepository {
  /**
   * Registers a complete snapshot and, in the same transaction, activates it when the policy
   * says so (no active version yet, good enough, or forced). Returns whether it was promoted.
   * Throws {@link JobVersionExists} when the job already registered one (one version per job).
   */
  register(v: NewVersion, policy: PromotionPolicy, now: number): Promise<Registration>;
  /** What serves by default. */
  servingChoice(): Promise<ServingChoice>;
  /** The version serving by default: the active version of the serving model type. */
  servingVersion(): Promise<ModelVersion | undefined>;
  setServing(choice: Omit<ServingChoice, 'updatedAt'>, now: number): Promise<void>;
  list(model?: string): Promise<ModelVersion[]>;
  get(model: string, version: string): Promise<ModelVersion | undefined>;
  active(model: string): Promise<ModelVersion | undefined>;
  allActive(): Promise<ModelVersion[]>;
  activate(model: string, version: string, now: number): Promise<boolean>;
  /** Versions beyond the newest `keep` that are not active (for retention). */
  expendable(model: string, keep: number): Promise<ModelVersion[]>;
  remove(model: string, version: string): Promise<void>;
}

export interface ServingRow {
  mode: 'auto' | 'pinned';
  model: string | null;
  set_by: string;
  updated_at: number;
}

/** The stored choice; a database without one serves `auto`. */
export const toChoice = (r: ServingRow | undefined): ServingChoice =>
  r ? { mode: r.mode, model: r.model, setBy: r.set_by, updatedAt: r.updated_at } : { mode: 'auto', model: null, setBy: 'default', updatedAt: 0 };

export const NOT_ACTIVATED = "not activated: it does not validate as well as its model's active version";

/**
 * Whether a just-activated version serves by default: pinned, only a version of the pinned model
 * type; `auto`, as the policy decides against the serving version (the caller then records the
 * new type as serving). Every backend applies this inside its registration transaction.
 */
export function servingAfterPromotion(choice: ServingChoice, v: NewVersion, servingNow: ModelVersion | null, policy: PromotionPolicy): { serve: boolean; reason: string } {
  if (choice.mode === 'pinned') {
    const serve = choice.model === v.model;
    return { serve, reason: serve ? 'a new version of the pinned model' : `serving is pinned to ${choice.model}` };
  }
  return policy.serves(v, servingNow);
}

/** The job already registered a version: a second execution of the same job must not add one. */
export class JobVersionExists extends Error {
  constructor(
    readonly jobId: string,
    readonly version: string,
  ) {
    super(`job ${jobId} already registered version ${version}`);
    this.name = 'JobVersionExists';
  }
}

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
