import type { Worker } from 'node:worker_threads';
import type { CatalogueRows } from '../db/catalogue-repository.js';
import { siblingModule, spawnThread } from '../threads/spawn.js';
import type { PopularityOptions, PopularitySource, Ranking } from './popularity.js';

type ReaderAsk = { op: 'popularity'; options: PopularityOptions; now: number } | { op: 'catalogue' };
export type ReaderRequest = ReaderAsk & { id: number };
export type ReaderResponse = { id: number; ok: true; value: Ranking | CatalogueRows } | { id: number; ok: false; message: string };

const THREAD_MODULE = siblingModule(import.meta.url, 'database-thread-worker');

/**
 * The API side of a database thread: O(data) reads as promises, answered in order by one
 * long-lived thread. Requests only ever read what these promises delivered earlier.
 */
export class DatabaseThread implements PopularitySource {
  private readonly thread: Worker;
  private readonly waiting = new Map<number, { resolve: (v: Ranking | CatalogueRows) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private closed = false;
  /** Reads answered so far, by operation (tests check what ran where). */
  readonly counts = { popularity: 0, catalogue: 0 };

  constructor(databasePath: string, busyTimeoutMs: number) {
    this.thread = spawnThread(THREAD_MODULE, { databasePath, busyTimeoutMs });
    this.thread.on('message', (res: ReaderResponse) => {
      const w = this.waiting.get(res.id);
      this.waiting.delete(res.id);
      if (res.ok) w?.resolve(res.value);
      else w?.reject(new Error(res.message));
    });
    this.thread.on('error', (err) => this.failAll(err));
    this.thread.on('exit', () => this.failAll(new Error('background reader stopped')));
  }

  private failAll(err: Error): void {
    this.closed = true;
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }

  private ask<T extends Ranking | CatalogueRows>(req: ReaderAsk): Promise<T> {
    if (this.closed) return Promise.reject(new Error('background reader closed'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: Ranking | CatalogueRows) => void, reject });
      this.thread.postMessage({ ...req, id });
    });
  }

  ranking(options: PopularityOptions, now: number): Promise<Ranking> {
    this.counts.popularity++;
    return this.ask<Ranking>({ op: 'popularity', options, now });
  }

  catalogueRows(): Promise<CatalogueRows> {
    this.counts.catalogue++;
    return this.ask<CatalogueRows>({ op: 'catalogue' });
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
