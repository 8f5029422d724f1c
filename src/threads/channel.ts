import type { Worker } from 'node:worker_threads';

/** What every reply of a worker thread has: its `type`; `ready` once started, `error` with the thread's message. */
export interface ThreadReply {
  type: string;
  message?: string;
}

let live = 0;
/** Worker threads started through a {@link ThreadChannel} and alive now: tests check that training leaves none behind. */
export function liveWorkerThreads(): number {
  return live;
}

/**
 * A worker thread that answers requests in order, one reply each. A thread that fails or exits
 * rejects every reply still awaited, and every later one.
 */
export class ThreadChannel<Request, Reply extends ThreadReply> {
  private readonly waiting: { resolve: (m: Reply) => void; reject: (e: Error) => void }[] = [];
  private failure: Error | null = null;
  private readonly exited: Promise<void>;

  constructor(
    private readonly worker: Worker,
    private readonly label: string,
  ) {
    live++;
    worker.on('message', (m: Reply) => this.waiting.shift()?.resolve(m));
    worker.on('error', (err: Error) => this.fail(err));
    this.exited = new Promise((resolve) => {
      worker.once('exit', () => {
        live--;
        this.fail(new Error(`a ${label} thread exited`));
        resolve();
      });
    });
  }

  /** The next reply of type `type`; an `error` reply or any other type rejects. */
  async next<T extends Reply['type']>(type: T): Promise<Extract<Reply, { type: T }>> {
    if (this.failure) throw this.failure;
    const m = await new Promise<Reply>((resolve, reject) => this.waiting.push({ resolve, reject }));
    if (m.type === 'error') throw new Error(`${this.label} thread: ${m.message}`);
    if (m.type !== type) throw new Error(`${this.label} thread: expected ${type}, got ${m.type}`);
    return m as Extract<Reply, { type: T }>;
  }

  /** Posts a request; `transfer` lists buffers handed over (copies made for this thread alone). */
  post(request: Request, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(request, transfer);
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
    await this.exited;
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiting.splice(0)) w.reject(this.failure);
  }
}

/** Starts every thread `start` makes, waiting for each one's `ready`; if one fails, none is left running. */
export async function startChannels<Request, Reply extends ThreadReply>(count: number, start: (k: number) => ThreadChannel<Request, Reply>): Promise<ThreadChannel<Request, Reply>[]> {
  const started: ThreadChannel<Request, Reply>[] = [];
  try {
    for (let k = 0; k < count; k++) started.push(start(k));
    for (const c of started) await c.next('ready' as Reply['type']);
  } catch (err) {
    await Promise.all(started.map((c) => c.terminate()));
    throw err;
  }
  return started;
}
