import type { Worker } from 'node:worker_threads';
import { siblingModule, spawnThread } from '../../threads/spawn.js';
import type { CatalogueRows, ItemMeta } from '../catalogue-repository.js';
import type { LeaderboardRanking, LeaderboardSpec } from '../leaderboards.js';
import type { ExperimentMode, ExplorationLog, FeedbackRecord, OnlineBatchResult, SeenReport, OnlineDays, VariantSums } from '../online-repository.js';
import type { EventRecord, RatingRecord, WriteCounts } from '../ingest-types.js';
import type { LatestItem } from '../serving-repository.js';
import type { DataStats } from '../stats-repository.js';
import type { StoreLocation } from '../store.js';

/** Every leaderboard and the newest items, computed together. */
export interface Leaderboards {
  boards: LeaderboardRanking[];
  latest: LatestItem[];
  /** When they were computed (epoch ms). */
  at: number;
}

type ReaderAsk =
  | { op: 'leaderboards'; specs: readonly LeaderboardSpec[]; dislikeAt: number; latest: number; now: number }
  | { op: 'catalogue' }
  | { op: 'stats'; now: number }
  | { op: 'putItems'; items: readonly ItemMeta[]; now: number }
  | { op: 'hideItem'; itemId: string; now: number }
  | { op: 'upsertRatings'; ratings: readonly RatingRecord[] }
  | { op: 'insertEvents'; events: readonly EventRecord[] }
  | { op: 'onlineRecord'; batch: EncodedOnlineBatch }
  | { op: 'onlineDays'; since: number; k: number }
  | { op: 'variantSums'; experimentId: string; mode: ExperimentMode; metric: string; first: string }
  | { op: 'explorationLogs'; since: number; limit: number }
  | { op: 'onlinePurge'; before: number };

/** Impressions cross serialised (one string copies faster than a tree of objects); the thread parses them. */
export interface EncodedOnlineBatch {
  impressions: string[];
  feedback: FeedbackRecord[];
  reports: SeenReport[];
  windowMs: number;
}
export type PutItemsResult = { inserted: number; updated: number; version: number };
export type ReaderAnswer = Leaderboards | CatalogueRows | PutItemsResult | WriteCounts | DataStats | OnlineBatchResult | OnlineDays | VariantSums[] | ExplorationLog[] | number | null;
type Answer = ReaderAnswer;
export type ReaderRequest = ReaderAsk & { id: number };
export type ReaderResponse = { id: number; ok: true; value: Answer } | { id: number; ok: false; message: string; code?: string };

/** Catalogue writes, answered once committed (by a {@link DatabaseThread} off the event loop). */
export interface CatalogueWrites {
  /** Creates or replaces items' metadata, all-or-nothing; the catalogue version after the write. */
  putItems(items: readonly ItemMeta[], now: number): Promise<PutItemsResult>;
  /** Hides an item; the catalogue version after the write, null for an unknown item. */
  hideItem(itemId: string, now: number): Promise<number | null>;
}

const THREAD_MODULE = siblingModule(import.meta.url, 'database-thread-worker');

/**
 * The API side of a database thread: O(data) reads and batch writes as promises, answered in order
 * by one long-lived thread with its own connection. Requests only ever read what these promises
 * delivered earlier. The API runs two: a reader for slow aggregates and a writer, so a write never
 * queues behind a leaderboard scan.
 */
export class DatabaseThread implements CatalogueWrites {
  private readonly thread: Worker;
  private readonly waiting = new Map<number, { resolve: (v: Answer) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private closed = false;
  /** Reads answered so far, by operation (tests check what ran where). */
  readonly counts = { leaderboards: 0, catalogue: 0, writes: 0, stats: 0 };

  /** `checkpointEveryMs`: this thread checkpoints the WAL for the API's connection (0: it does not). */
  constructor(location: StoreLocation, checkpointEveryMs = 0) {
    this.thread = spawnThread(THREAD_MODULE, { location, checkpointEveryMs });
    this.thread.on('message', (res: ReaderResponse) => {
      const w = this.waiting.get(res.id);
      this.waiting.delete(res.id);
      if (res.ok) w?.resolve(res.value);
      else w?.reject(Object.assign(new Error(res.message), res.code ? { code: res.code } : {}));
    });
    this.thread.on('error', (err) => this.failAll(err));
    this.thread.on('exit', () => this.failAll(new Error('database thread stopped')));
  }

  private failAll(err: Error): void {
    this.closed = true;
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }

  private ask<T extends Answer>(req: ReaderAsk): Promise<T> {
    if (this.closed) return Promise.reject(new Error('database thread closed'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: Answer) => void, reject });
      this.thread.postMessage({ ...req, id });
    });
  }

  /** Every leaderboard of `specs` and the `latest` newest visible items. */
  leaderboards(specs: readonly LeaderboardSpec[], dislikeAt: number, latest: number, now: number): Promise<Leaderboards> {
    this.counts.leaderboards++;
    return this.ask<Leaderboards>({ op: 'leaderboards', specs, dislikeAt, latest, now });
  }

  catalogueRows(): Promise<CatalogueRows> {
    this.counts.catalogue++;
    return this.ask<CatalogueRows>({ op: 'catalogue' });
  }

  dataStats(now: number): Promise<DataStats> {
    this.counts.stats++;
    return this.ask<DataStats>({ op: 'stats', now });
  }

  putItems(items: readonly ItemMeta[], now: number): Promise<PutItemsResult> {
    this.counts.writes++;
    return this.ask<PutItemsResult>({ op: 'putItems', items, now });
  }

  hideItem(itemId: string, now: number): Promise<number | null> {
    this.counts.writes++;
    return this.ask<number | null>({ op: 'hideItem', itemId, now });
  }

  /**
   * Stores a batch of ratings, all-or-nothing, off the event loop: a 10,000-row batch took the
   * API's loop 0.1 s on an empty SQLite file and 0.8 s on 1M rows (bench/lag.ts scenario 8).
   */
  upsertRatings(ratings: readonly RatingRecord[]): Promise<WriteCounts> {
    this.counts.writes++;
    return this.ask<WriteCounts>({ op: 'upsertRatings', ratings });
  }

  /** Stores a batch of events, all-or-nothing, off the event loop (as {@link upsertRatings}). */
  insertEvents(events: readonly EventRecord[]): Promise<WriteCounts> {
    this.counts.writes++;
    return this.ask<WriteCounts>({ op: 'insertEvents', events });
  }

  /** Stores a batch of impressions, seen reports and feedback to attribute (one transaction). */
  recordOnline(batch: EncodedOnlineBatch): Promise<OnlineBatchResult> {
    return this.ask<OnlineBatchResult>({ op: 'onlineRecord', batch });
  }

  onlineDays(since: number, k: number): Promise<OnlineDays> {
    return this.ask<OnlineDays>({ op: 'onlineDays', since, k });
  }

  variantSums(experimentId: string, mode: ExperimentMode, metric: string, first: string): Promise<VariantSums[]> {
    return this.ask<VariantSums[]>({ op: 'variantSums', experimentId, mode, metric, first });
  }

  explorationLogs(since: number, limit: number): Promise<ExplorationLog[]> {
    return this.ask<ExplorationLog[]>({ op: 'explorationLogs', since, limit });
  }

  purgeImpressions(before: number): Promise<number> {
    return this.ask<number>({ op: 'onlinePurge', before });
  }

  /** Stops the thread after the reads already asked for; safe twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const exited = new Promise((r) => this.thread.once('exit', r));
    this.thread.postMessage({ op: 'close' });
    await exited;
  }
}
