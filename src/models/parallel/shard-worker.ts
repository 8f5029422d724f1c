import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../backend.js';
import type { BackendChoice } from '../model.js';
import { createOptimizer } from '../nn/optimizer.js';
import type { PointwiseLearner } from '../nn/train-loop.js';
import { GradientCombiner, GradientRecorder, type ShardGradients } from './gradients.js';
import { buildReplica } from './replica.js';
import { entryArrays, type ShardReply, type ShardRequest, type ShardWorkerData } from './shard-pool.js';

/**
 * A data-parallel training thread: a twin of the main thread's learner on its shared weights. It
 * computes the gradients of the shards it is sent, and updates the parameters it owns with all
 * shards' gradients (shard-pool.ts).
 */
const port = parentPort!;
const data = workerData as ShardWorkerData;
const post = (m: ShardReply, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

function answer(learner: PointwiseLearner, recorder: GradientRecorder, apply: (shards: ShardGradients[]) => void, m: ShardRequest): void {
  if (m.type === 'apply') {
    apply(m.shards);
    post({ type: 'applied' });
    return;
  }
  const loss = learner.trainBatch({ size: m.user.length, user: m.user, item: m.item, label: m.label, explicit: m.explicit });
  const entries = recorder.take();
  post({ type: 'grads', loss, entries }, entryArrays(entries).map((a) => a.buffer as ArrayBuffer));
}

async function start(): Promise<void> {
  await initBackend(data.backend as BackendChoice);
  const learner = buildReplica(data);
  const params = learner.params();
  const recorder = new GradientRecorder(params);
  learner.optimizer = recorder;
  learner.forkRandom?.(data.stream);
  // This thread's parameters get their updates here, with their own optimizer state.
  const optimizer = createOptimizer(data.optimizer.kind, data.optimizer.options);
  const combiner = new GradientCombiner(params);
  const apply = (shards: ShardGradients[]): void => combiner.apply(optimizer, shards);
  port.on('message', (m: ShardRequest) => {
    try {
      answer(learner, recorder, apply, m);
    } catch (err) {
      post({ type: 'error', message: (err as Error).message });
    }
  });
  post({ type: 'ready' });
}

start().catch((err: unknown) => post({ type: 'error', message: (err as Error).message ?? String(err) }));
