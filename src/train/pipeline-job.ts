import type { PipelineConfig } from '../config/pipeline.js';
import type { Interactions } from '../data/interactions.js';
import type { CatalogueRepository } from '../db/catalogue-repository.js';
import { throwIfAborted, type RecModel } from '../models/model.js';
import type { LearnedRanker } from '../pipeline/ranker/rankers.js';
import type { Retrieval } from '../serving/retrieval.js';
import type { SnapshotArtifacts } from '../serving/artifacts.js';
import { cooccurrenceLists, indexForModel, recentPositives, scoreReference } from './artifacts.js';
import { fitRanker, type LabelFacts, type RankerReport } from './ranker-fit.js';
import type { Evaluated } from './trainer.js';

/** Whether a source of the pipeline reads co-occurrence lists (only then does the job compute them). */
export const needsCooccurrence = (p: PipelineConfig): boolean => Object.values(p.sources).some((s) => s.type === 'item-to-item' && s.method === 'cooccurrence');

/** The catalogue's categories and labels and the users' labels, read once per job. */
export async function labelFacts(catalogue: CatalogueRepository | null): Promise<LabelFacts> {
  const rows = catalogue ? await catalogue.rows() : { categories: [], labels: [] };
  const users = catalogue ? await catalogue.userLabels() : [];
  const categories = new Map<string, string[]>();
  for (const { itemId, category } of rows.categories) (categories.get(itemId) ?? categories.set(itemId, []).get(itemId)!).push(category);
  const labels = new Map(rows.labels.map((r) => [r.itemId, r.labels]));
  const userLabels = new Map(users.map((u) => [u.userId, u.labels]));
  return { categoriesOf: (id) => categories.get(id) ?? [], labelsOf: (id) => labels.get(id) ?? {}, userLabelsOf: (id) => userLabels.get(id) ?? {} };
}

/**
 * The pipeline's part of a retrain job: once the model is evaluated (before the refit) the
 * ranker is fit and judged on the same split; once the model to save is known, the artifacts
 * serving reads are built from all the data (recent items, co-occurrence, the score reference)
 * and the kept ranker joins them.
 */
export class PipelineJob {
  private ranker: LearnedRanker | null = null;
  private rankerReport: RankerReport | null = null;

  constructor(
    private readonly data: Interactions,
    private readonly pipeline: PipelineConfig,
    private readonly facts: LabelFacts,
    private readonly options: { annMinItems: number; signal?: AbortSignal },
  ) {}

  get report(): RankerReport | null {
    return this.rankerReport;
  }

  /** TrainHooks.onEvaluated: artifacts over the training split, the evaluated model as serving would load it, then the ranker. */
  readonly onEvaluated = async (e: Evaluated): Promise<void> => {
    const train = e.split.train;
    const cooccurrence = needsCooccurrence(this.pipeline) ? await cooccurrenceLists(train, this.options.signal) : null;
    const index = await indexForModel(e.model, train, { recent: recentPositives(train), cooccurrence, reference: null, ranker: null }, this.options.annMinItems);
    index.artifacts = { ...index.artifacts, reference: scoreReference(index) };
    throwIfAborted(this.options.signal);
    const { state, report } = fitRanker({ index, split: e.split, validSet: e.validSet, testSet: e.testSet, pipeline: this.pipeline, facts: this.facts, modelTest: e.test, seed: e.seed });
    this.ranker = state;
    this.rankerReport = report;
  };

  /**
   * What the snapshot of `model` carries for the pipeline, built from all the data, and the
   * approximate-retrieval indexes built over it (saved with it: serving maps them, builds nothing).
   */
  async artifactsFor(model: RecModel): Promise<{ artifacts: SnapshotArtifacts; retrieval: Retrieval; itemGram: Float64Array | null }> {
    const recent = recentPositives(this.data);
    const cooccurrence = needsCooccurrence(this.pipeline) ? await cooccurrenceLists(this.data, this.options.signal) : null;
    const index = await indexForModel(model, this.data, { recent, cooccurrence, reference: null, ranker: null }, this.options.annMinItems);
    return { artifacts: { recent, cooccurrence, reference: scoreReference(index), ranker: this.ranker ? { ...this.ranker } : null }, retrieval: index.retrieval, itemGram: index.itemGram };
  }
}
