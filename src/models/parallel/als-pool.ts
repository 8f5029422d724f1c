import { startChannels, ThreadChannel } from '../../threads/channel.js';
import { siblingModule, spawnThread } from '../../threads/spawn.js';
import type { AlsRows, AlsSettings } from '../als.js';

/** What an ALS thread holds for a whole fit: both factor matrices and both sides' rows, all in shared memory. */
export interface AlsWorkerData {
  settings: AlsSettings;
  users: { factors: Float32Array; rows: AlsRows };
  items: { factors: Float32Array; rows: AlsRows };
}

export type AlsSide = 'users' | 'items';
export interface AlsRequest {
  type: 'solve';
  /** The side solved; the other one is held. */
  side: AlsSide;
  base: Float64Array;
  from: number;
  to: number;
}
export type AlsReply = { type: 'ready' } | { type: 'solved' } | { type: 'error'; message: string };

/**
 * Threads beside the main one solving ALS rows. Every row's solve reads only the held side, so
 * rows split across threads give exactly the factors one thread would: a run is repeatable
 * whatever the thread count.
 */
export class AlsPool {
  constructor(private readonly threads: ThreadChannel<AlsRequest, AlsReply>[]) {}

  /** Threads in all, the main one included. */
  get size(): number {
    return this.threads.length + 1;
  }

  /** Hands range k to thread k; resolves once every thread has written its rows. */
  async solve(side: AlsSide, base: Float64Array, ranges: readonly [number, number][]): Promise<void> {
    const replies = this.threads.map((thread, k) => {
      thread.post({ type: 'solve', side, base, from: ranges[k][0], to: ranges[k][1] });
      return thread.next('solved');
    });
    await Promise.all(replies);
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.terminate()));
  }
}

/** Starts `threads − 1` ALS threads on `data` (its arrays already in shared memory), or null for one thread. */
export async function startAlsPool(threads: number, data: AlsWorkerData): Promise<AlsPool | null> {
  if (threads <= 1) return null;
  const module = siblingModule(import.meta.url, 'als-worker');
  return new AlsPool(await startChannels(threads - 1, () => new ThreadChannel<AlsRequest, AlsReply>(spawnThread(module, data), 'ALS')));
}
