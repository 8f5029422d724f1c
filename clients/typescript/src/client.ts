import { ndjsonRecords, ndjsonStream, type NdjsonSource } from './ndjson.js';
import { Transport, type ClientOptions, type QueryValue } from './transport.js';
import type { Answer, Body, BulkKind, HistoryEntry, ItemBatchEntry, ItemInput, Job, ListedItem, ListedUser, OperationId, Query, Rating, RatingEvent, RetrainRequest, Shown, WriteCounts } from './types.js';

type Q = Record<string, QueryValue>;
const q = (query: object | undefined): Q | undefined => query as Q | undefined;
const sum = (a: WriteCounts, b: WriteCounts): WriteCounts => ({ inserted: a.inserted + b.inserted, updated: a.updated + b.updated, ignored: a.ignored + b.ignored });
const FINISHED = new Set(['completed', 'failed', 'cancelled']);

/**
 * The recflow API, one method per operation (named by its operationId in openapi.yaml), plus
 * what every integration writes otherwise: batching, cursor iteration, NDJSON streams, waiting
 * for a training job, and the recommendationId round trip.
 */
export class Recflow extends Transport {
  /** Rows per request when a method is given more than one batch's worth. */
  readonly batchSize: number;

  constructor(options: ClientOptions & { batchSize?: number }) {
    super(options);
    this.batchSize = options.batchSize ?? 1000;
  }

  private call<O extends OperationId>(method: string, path: string, send: { path?: Record<string, string | number>; query?: object; body?: Body<O> } = {}): Promise<Answer<O>> {
    return this.json<Answer<O>>(method, path, { path: send.path, query: q(send.query), body: send.body });
  }

  // Health
  health = () => this.call<'health'>('GET', '/healthz');
  ready = () => this.call<'ready'>('GET', '/readyz');

  // Ingest
  /** One rating, or any number (sent in batches of `batchSize`; the counts are summed). */
  async addRatings(ratings: Rating | readonly Rating[]): Promise<WriteCounts> {
    if (!Array.isArray(ratings)) return this.call<'addRatings'>('POST', '/ratings', { body: ratings as Rating });
    return this.inBatches(ratings, (batch) => this.call<'addRatings'>('POST', '/ratings', { body: { ratings: batch } }));
  }
  /** One event, or any number (batched like ratings). Give each the answer's recommendationId to attribute it. */
  async addEvents(events: RatingEvent | readonly RatingEvent[]): Promise<WriteCounts> {
    if (!Array.isArray(events)) return this.call<'addEvents'>('POST', '/events', { body: events as RatingEvent });
    return this.inBatches(events, (batch) => this.call<'addEvents'>('POST', '/events', { body: { events: batch } }));
  }
  reportImpressions = (body: Body<'reportImpressions'>) => this.call<'reportImpressions'>('POST', '/impressions', { body });
  /** Says which items of an answer the client rendered (all of them by default). */
  reportShown = (answer: Shown, itemIds: readonly string[] = answer.items.map((i) => i.itemId)) => this.reportImpressions({ recommendationId: answer.recommendationId, items: [...itemIds] });
  /** An event on an item of an answer, attributed to that answer. */
  feedback = (answer: Shown, event: Omit<RatingEvent, 'recommendationId'>) => this.addEvents({ ...event, recommendationId: answer.recommendationId } as RatingEvent);
  deleteRating = (userId: string, itemId: string) => this.call<'deleteRating'>('DELETE', '/users/{id}/ratings/{itemId}', { path: { id: userId, itemId } });
  deleteEvent = (eventId: string) => this.call<'deleteEvent'>('DELETE', '/events/{eventId}', { path: { eventId } });

  // Recommendations
  getRecommendations = (userId: string, query?: Query<'getRecommendations'>) => this.call<'getRecommendations'>('GET', '/users/{id}/recommendations', { path: { id: userId }, query });
  getSimilarItems = (itemId: string, query?: Query<'getSimilarItems'>) => this.call<'getSimilarItems'>('GET', '/items/{id}/similar', { path: { id: itemId }, query });
  getSimilarUsers = (userId: string, query?: Query<'getSimilarUsers'>) => this.call<'getSimilarUsers'>('GET', '/users/{id}/similar', { path: { id: userId }, query });
  recommendForSession = (body: Body<'recommendForSession'>, query?: Query<'recommendForSession'>) => this.call<'recommendForSession'>('POST', '/recommendations', { body, query });
  getPopular = (query?: Query<'getPopular'>) => this.call<'getPopular'>('GET', '/popular', { query });
  getLeaderboard = (name: string, query?: Query<'getLeaderboard'>) => this.call<'getLeaderboard'>('GET', '/leaderboards/{name}', { path: { name }, query });
  getLatest = (query?: Query<'getLatest'>) => this.call<'getLatest'>('GET', '/latest', { query });

  // Catalogue
  putItem = (itemId: string, item: ItemInput) => this.call<'putItem'>('PUT', '/items/{id}', { path: { id: itemId }, body: item });
  getItem = (itemId: string) => this.call<'getItem'>('GET', '/items/{id}', { path: { id: itemId } });
  hideItem = (itemId: string) => this.call<'hideItem'>('DELETE', '/items/{id}', { path: { id: itemId } });
  /** Any number of items, in batches of `batchSize`. */
  putItems = (items: readonly ItemBatchEntry[]) => this.inBatches(items, (batch) => this.call<'putItems'>('PUT', '/items', { body: { items: batch } }));
  listItems = (query?: Query<'listItems'>) => this.call<'listItems'>('GET', '/items', { query });
  /** Every item (or every item of a category) once, page by page. */
  async *iterateItems(query: Omit<Query<'listItems'>, 'after'> = {}): AsyncGenerator<ListedItem> {
    for (let after: number | null = 0; after !== null; ) {
      const page: Answer<'listItems'> = await this.listItems({ ...query, after });
      yield* page.items;
      after = page.nextCursor;
    }
  }

  // Users
  putUser = (userId: string, user: Body<'putUser'>) => this.call<'putUser'>('PUT', '/users/{id}', { path: { id: userId }, body: user });
  getUser = (userId: string) => this.call<'getUser'>('GET', '/users/{id}', { path: { id: userId } });
  eraseUser = (userId: string) => this.call<'eraseUser'>('DELETE', '/users/{id}', { path: { id: userId } });
  listUsers = (query?: Query<'listUsers'>) => this.call<'listUsers'>('GET', '/users', { query });
  async *iterateUsers(query: Omit<Query<'listUsers'>, 'after'> = {}): AsyncGenerator<ListedUser> {
    for (let after: number | null = 0; after !== null; ) {
      const page: Answer<'listUsers'> = await this.listUsers({ ...query, after });
      yield* page.users;
      after = page.nextCursor;
    }
  }
  getUserHistory = (userId: string, query?: Query<'getUserHistory'>) => this.call<'getUserHistory'>('GET', '/users/{id}/history', { path: { id: userId }, query });
  /** A user's whole history, newest first, page by page. */
  async *iterateHistory(userId: string, query: Omit<Query<'getUserHistory'>, 'cursor'> = {}): AsyncGenerator<HistoryEntry> {
    for (let cursor: string | null | undefined; cursor !== null; ) {
      const page: Answer<'getUserHistory'> = await this.getUserHistory(userId, { ...query, ...(cursor ? { cursor } : {}) });
      yield* page.items;
      cursor = page.nextCursor;
    }
  }

  // Bulk
  /** Streams the body as it is read: records, NDJSON text or bytes (a Node file stream works as it is). Sent once, never retried. */
  importRows = (kind: BulkKind, source: NdjsonSource) => this.json<Answer<'importRows'>>('POST', '/admin/import/{kind}', { path: { kind }, ndjson: ndjsonStream(source) });
  /** Every row of a kind, oldest first, as the server streams it; each carries its `cursor` to resume with `after`. */
  async *exportRows<T = Record<string, unknown>>(kind: BulkKind, query: Query<'exportRows'> = {}): AsyncGenerator<T & { cursor: number }> {
    const response = await this.send('GET', '/admin/export/{kind}', { path: { kind }, query: q(query) });
    yield* ndjsonRecords<T & { cursor: number }>(response.body);
  }

  // Keys
  createKey = (body: Body<'createKey'>) => this.call<'createKey'>('POST', '/admin/keys', { body });
  listKeys = (query?: Query<'listKeys'>) => this.call<'listKeys'>('GET', '/admin/keys', { query });
  revokeKey = (id: number | string) => this.call<'revokeKey'>('DELETE', '/admin/keys/{id}', { path: { id } });

  // Training and models
  retrain = (body: RetrainRequest = {} as RetrainRequest) => this.call<'retrain'>('POST', '/admin/retrain', { body });
  listJobs = (query?: Query<'listJobs'>) => this.call<'listJobs'>('GET', '/admin/jobs', { query });
  getJob = (jobId: string) => this.call<'getJob'>('GET', '/admin/jobs/{id}', { path: { id: jobId } });
  cancelJob = (jobId: string) => this.call<'cancelJob'>('DELETE', '/admin/jobs/{id}', { path: { id: jobId } });
  /** Polls a job until it completes, fails or is cancelled; its final view. */
  async waitForJob(jobId: string, { intervalMs = 1000, signal }: { intervalMs?: number; signal?: AbortSignal } = {}): Promise<Job> {
    for (;;) {
      const job = await this.getJob(jobId);
      if (FINISHED.has(job.state)) return job;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
      signal?.throwIfAborted();
    }
  }
  listModels = (query?: Query<'listModels'>) => this.call<'listModels'>('GET', '/admin/models', { query });
  activateModel = (model: string, version: string) => this.call<'activateModel'>('POST', '/admin/models/{model}/{version}/activate', { path: { model, version } });
  getServing = () => this.call<'getServing'>('GET', '/admin/serving');
  setServing = (body: Body<'setServing'>) => this.call<'setServing'>('POST', '/admin/serving', { body });
  getConfig = () => this.call<'getConfig'>('GET', '/admin/config');

  // Stats
  getStats = () => this.call<'getStats'>('GET', '/admin/stats');
  getIngestStats = (query?: Query<'getIngestStats'>) => this.call<'getIngestStats'>('GET', '/admin/stats/ingest', { query });
  getServingStats = () => this.call<'getServingStats'>('GET', '/admin/stats/serving');
  getPipelineStats = () => this.call<'getPipelineStats'>('GET', '/admin/stats/pipeline');
  getOnlineStats = (query?: Query<'getOnlineStats'>) => this.call<'getOnlineStats'>('GET', '/stats/online', { query });

  // Experiments
  listExperiments = () => this.call<'listExperiments'>('GET', '/admin/experiments');
  createExperiment = (body: Body<'createExperiment'>) => this.call<'createExperiment'>('POST', '/admin/experiments', { body });
  getExperiment = (id: string) => this.call<'getExperiment'>('GET', '/admin/experiments/{id}', { path: { id } });
  stopExperiment = (id: string) => this.call<'stopExperiment'>('POST', '/admin/experiments/{id}/stop', { path: { id } });
  concludeExperiment = (id: string, body: Body<'concludeExperiment'>) => this.call<'concludeExperiment'>('POST', '/admin/experiments/{id}/conclude', { path: { id }, body });
  promoteVariant = (id: string, body: Body<'promoteVariant'>) => this.call<'promoteVariant'>('POST', '/admin/experiments/{id}/promote', { path: { id }, body });
  estimateOffPolicy = (query: Query<'estimateOffPolicy'>) => this.call<'estimateOffPolicy'>('GET', '/admin/offpolicy', { query });

  private async inBatches<T>(rows: readonly T[], send: (batch: T[]) => Promise<WriteCounts>): Promise<WriteCounts> {
    let total: WriteCounts = { inserted: 0, updated: 0, ignored: 0 };
    for (let start = 0; start < rows.length; start += this.batchSize) total = sum(total, await send(rows.slice(start, start + this.batchSize)));
    return total;
  }
}
