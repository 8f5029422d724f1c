import type { Db } from './connection.js';

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

interface ModelRow {
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

const toVersion = (r: ModelRow): ModelVersion => ({
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

export interface PromotionPolicy {
  /** Promote when validHr10 ≥ active's − tolerance. */
  tolerance: number;
  force: boolean;
}

export interface ModelsRepository {
  /**
   * Registers a complete snapshot and, in the same transaction, activates it when the policy
   * says so (no active version yet, good enough, or forced). Returns whether it was promoted.
   * Throws {@link JobVersionExists} when the job already registered one (one version per job).
   */
  register(v: NewVersion, policy: PromotionPolicy, now: number): { promoted: boolean; previous: ModelVersion | null };
  list(model?: string): ModelVersion[];
  get(model: string, version: string): ModelVersion | undefined;
  active(model: string): ModelVersion | undefined;
  /** The active version that was activated last, across model types: what serving answers with by default. */
  latestActive(): ModelVersion | undefined;
  allActive(): ModelVersion[];
  activate(model: string, version: string, now: number): boolean;
  /** Versions beyond the newest `keep` that are not active (for retention). */
  expendable(model: string, keep: number): ModelVersion[];
  remove(model: string, version: string): void;
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
  const register = db.transaction((v: NewVersion, policy: PromotionPolicy, now: number) => {
    const earlier = v.jobId === null ? undefined : byJob.get(v.jobId);
    if (earlier) throw new JobVersionExists(v.jobId!, earlier.version);
    const currentRow = active.get(v.model);
    const current = currentRow ? toVersion(currentRow) : null;
    insert.run({ ...v, createdAt: now, metrics: JSON.stringify(v.metrics), manifest: JSON.stringify(v.manifest) });
    const promoted = policy.force || !current || v.validHr10 >= current.validHr10 - policy.tolerance;
    if (promoted) {
      deactivate.run(v.model);
      setActive.run(now, v.model, v.version);
    }
    return { promoted, previous: current };
  });
  const activate = db.transaction((model: string, version: string, now: number) => {
    if (!get.get(model, version)) return false;
    deactivate.run(model);
    setActive.run(now, model, version);
    return true;
  });
  return {
    register: (v, policy, now) => register.immediate(v, policy, now),
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
    latestActive: () => {
      const r = db.prepare<[], ModelRow>('SELECT * FROM models WHERE active = 1 ORDER BY activated_at DESC, id DESC LIMIT 1').get();
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
  };
}
