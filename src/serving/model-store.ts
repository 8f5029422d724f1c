import type { ModelsRepository, ModelVersion } from '../db/models-repository.js';
import { ServingIndex, type ServingIndexOptions } from './index.js';
import { readSnapshot } from './snapshots.js';
import { verifyFolder } from '../snapshots/files.js';

interface Log {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * The active model versions held in memory, one {@link ServingIndex} per model type, and which
 * of them serves by default (the `serving` choice in the database, so every process agrees). A poll
 * (or `refresh()` after an activation) notices a new active version, loads and verifies it in
 * the background and swaps the reference in one assignment: requests hold the index they
 * started with, so none ever sees a half-loaded model, and serving never pauses for a load.
 * Memory is bounded: one index per model type, the replaced one is dropped.
 */
export class ModelStore {
  private readonly indexes = new Map<string, ServingIndex>();
  private defaultModel: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  private again = false;
  private readonly failed = new Set<string>();
  /** Called after every swap (caches keyed on the model drop their entries). */
  onSwap: (() => void) | null = null;

  constructor(
    private readonly models: ModelsRepository,
    private readonly log: Log,
    private readonly indexOptions: ServingIndexOptions = { annMinItems: 0 },
    /** The local folder of a version, its files checked: a copy fetched from the snapshot store (src/snapshots), or its path checked here. */
    private readonly localCopy: (v: ModelVersion) => Promise<string> = (v) => verifyFolder(v.path),
    /** Drops the local copy of a version no longer served (a download cache would otherwise keep every version). */
    private readonly release: (model: string, version: string) => Promise<void> = async () => undefined,
  ) {}

  /** The index for a model type, or the default: the serving model's (SERVING_MODEL, POST /admin/serving, promotion). */
  current(model?: string): ServingIndex | null {
    const name = model ?? this.defaultModel;
    return name ? (this.indexes.get(name) ?? null) : null;
  }

  /** Every loaded index (one per model type). */
  loaded(): ServingIndex[] {
    return [...this.indexes.values()];
  }

  get servingVersion(): string | null {
    return this.current()?.version ?? null;
  }

  start(pollMs: number): void {
    this.timer = setInterval(() => void this.refresh(), pollMs);
    this.timer.unref();
  }

  /** Brings the in-memory indexes in line with the active versions; concurrent calls coalesce. */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = this.sync().finally(() => {
      this.refreshing = null;
      if (this.again) {
        this.again = false;
        void this.refresh();
      }
    });
    return this.refreshing;
  }

  private async sync(): Promise<void> {
    let active: ModelVersion[];
    let serving: string | null;
    try {
      active = await this.models.allActive();
      serving = (await this.models.servingChoice()).model;
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'reading active models failed');
      return;
    }
    for (const v of active) {
      if (this.indexes.get(v.model)?.version === v.version || this.failed.has(`${v.model}/${v.version}`)) continue;
      try {
        const started = performance.now();
        const index = await ServingIndex.build(await readSnapshot(await this.localCopy(v), { verified: true }), this.indexOptions);
        const replaced = this.indexes.get(v.model)?.version;
        this.indexes.set(v.model, index);
        if (replaced && replaced !== v.version) await this.release(v.model, replaced);
        this.log.info({ model: v.model, version: v.version, approximate: index.approximate, ms: Math.round(performance.now() - started) }, 'model version loaded for serving');
        this.onSwap?.();
      } catch (err) {
        // Keep serving the previous version; do not retry a broken snapshot on every poll.
        this.failed.add(`${v.model}/${v.version}`);
        this.log.error({ model: v.model, version: v.version, err: (err as Error).message }, 'loading model version failed; previous version keeps serving');
      }
    }
    for (const name of [...this.indexes.keys()]) if (!active.some((v) => v.model === name)) this.indexes.delete(name);
    // The serving model type once its version is loaded; until then (or if it failed) the previous one.
    const nextDefault = serving && this.indexes.has(serving) ? serving : this.defaultModel && this.indexes.has(this.defaultModel) ? this.defaultModel : null;
    if (nextDefault !== this.defaultModel) {
      this.defaultModel = nextDefault;
      this.onSwap?.();
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
