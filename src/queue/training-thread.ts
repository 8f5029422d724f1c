import { parentPort, workerData } from 'node:worker_threads';
import { openStore, type Store } from '../db/store.js';
import { initBackend } from '../models/backend.js';
import { installSnapshotFaults } from '../serving/snapshots.js';
import { executeJob, JobBusy, JobGone } from './execute.js';
import type { ThreadJobData, ThreadMessage } from './thread-messages.js';

/**
 * One attempt of one training job, in a worker thread of the API process (the embedded queue):
 * its own database connection and TensorFlow.js backend, so reading the training data and the
 * training itself never run on the event loop that answers requests.
 */
const port = parentPort!;
const { config, jobId } = workerData as ThreadJobData;
const post = (m: ThreadMessage): void => port.postMessage(m);
const controller = new AbortController();
port.on('message', (m: { type: 'abort'; reason: string }) => {
  if (m.type === 'abort') controller.abort(m.reason);
});

const log = {
  info: (obj: object, msg: string) => post({ type: 'log', level: 'info', obj, msg }),
  warn: (obj: object, msg: string) => post({ type: 'log', level: 'warn', obj, msg }),
  error: (obj: object, msg: string) => post({ type: 'log', level: 'error', obj, msg }),
};

async function run(): Promise<void> {
  let store: Store | null = null;
  try {
    // Two connections are plenty for one job: its reads, and its progress writes.
    store = await openStore(config, { poolSize: 2 });
    installSnapshotFaults(config);
    const backend = await initBackend(config.tfBackend);
    // The API answers requests from this process: leave it a core (TRAIN_THREADS=auto).
    const deps = { store, config, backend, log, spareCores: 1, onAttempt: (model: string, outcome: 'completed' | 'failed' | 'cancelled', seconds: number) => post({ type: 'attempt', model, outcome, seconds }) };
    const result = await executeJob(deps, jobId, controller.signal);
    post({ type: 'done', result });
  } catch (err) {
    const kind = err instanceof JobGone ? 'gone' : err instanceof JobBusy ? 'busy' : 'failed';
    post({ type: 'error', kind, message: (err as Error).message ?? String(err) });
  } finally {
    await store?.close();
    // Nothing more will come: without the abort listener the thread can exit.
    port.close();
  }
}

void run();
