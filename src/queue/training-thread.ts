import { parentPort, workerData } from 'node:worker_threads';
import { closeDb, openDb } from '../db/connection.js';
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
  const db = openDb(config.databasePath, { busyTimeoutMs: config.sqliteBusyTimeoutMs, synchronous: config.sqliteSynchronous });
  try {
    installSnapshotFaults(config);
    const backend = await initBackend(config.tfBackend);
    const deps = { db, config, backend, log, onAttempt: (model: string, outcome: 'completed' | 'failed' | 'cancelled', seconds: number) => post({ type: 'attempt', model, outcome, seconds }) };
    const result = await executeJob(deps, jobId, controller.signal);
    post({ type: 'done', result });
  } catch (err) {
    const kind = err instanceof JobGone ? 'gone' : err instanceof JobBusy ? 'busy' : 'failed';
    post({ type: 'error', kind, message: (err as Error).message ?? String(err) });
  } finally {
    closeDb(db);
    // Nothing more will come: without the abort listener the thread can exit.
    port.close();
  }
}

void run();
