import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../backend.js';
import type { BackendChoice } from '../model.js';
import { batchOf, type PointwiseLearner } from '../nn/train-loop.js';
import { buildReplica } from './replica.js';
import type { ShardBatches, ShardReply, ShardRequest, ShardWorkerData } from './shard-pool.js';

/**
 * A training thread: a twin of the main thread's learner on its shared weights and optimizer
 * state, training the batches it is sent (Hogwild; shard-pool.ts).
 */
const port = parentPort!;
const data = workerData as ShardWorkerData;
const post = (m: ShardReply): void => port.postMessage(m);

/** Trains the thread's share of an epoch, batch after batch; returns the summed loss. */
function trainShare(learner: PointwiseLearner, m: ShardBatches): number {
  let loss = 0;
  let at = 0;
  for (const size of m.sizes) {
    const end = at + size;
    loss += learner.trainBatch(batchOf(m, at, end));
    at = end;
  }
  return loss;
}

async function start(): Promise<void> {
  await initBackend(data.backend as BackendChoice);
  const learner = buildReplica(data);
  learner.forkRandom?.(data.stream);
  port.on('message', (m: ShardRequest) => {
    try {
      post({ type: 'trained', loss: trainShare(learner, m) });
    } catch (err) {
      post({ type: 'error', message: (err as Error).message });
    }
  });
  post({ type: 'ready' });
}

start().catch((err: unknown) => post({ type: 'error', message: (err as Error).message ?? String(err) }));
