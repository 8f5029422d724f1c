
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
