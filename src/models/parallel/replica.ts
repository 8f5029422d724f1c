import type { Interactions } from '../../data/interactions.js';
import { Rng } from '../../data/rng.js';
import { adoptingKernels, kernelMemoryOf } from '../kernels/bag.js';
import type { RecModel } from '../model.js';
import { NcfNetwork } from '../nn/ncf-network.js';
import { optimizerFromShared } from '../nn/optimizer.js';
import type { Param } from '../nn/param.js';
import type { LearnerRecipe, PointwiseLearner } from '../nn/train-loop.js';
import { createModel } from '../registry.js';
import type { SharedParamRef, TwinData } from './shard-pool.js';

type AttachableLearner = RecModel & PointwiseLearner & { attach(train: Interactions): void };

function isAttachableLearner(model: RecModel): model is AttachableLearner {
  const m = model as Partial<AttachableLearner>;
  return typeof m.attach === 'function' && typeof m.trainBatch === 'function';
}

function build(recipe: LearnerRecipe, train: Interactions | null): PointwiseLearner {
  // The twin's own initial weights are replaced by the shared ones: any seed will do.
  if (recipe.kind === 'ncf') return new NcfNetwork(recipe.config, new Rng(0));
  const model = createModel(recipe.name, recipe.nUsers, recipe.nItems, recipe.hyper);
  if (!isAttachableLearner(model)) throw new Error(`${recipe.name} cannot train in shards`);
  if (!train) throw new Error(`${recipe.name}: a shard needs the training data`);
  model.attach(train);
  return model;
}

/** Points the twin's parameters at the main thread's, checking that they are the same ones. */
function bindShared(params: readonly Param[], refs: readonly SharedParamRef[]): void {
  if (params.length !== refs.length) throw new Error(`shard: ${params.length} parameters, the main thread has ${refs.length}`);
  params.forEach((p, k) => {
    const ref = refs[k];
    if (p.name !== ref.name || p.size !== ref.length) throw new Error(`shard: parameter ${k} is ${p.name} (${p.size}), the main thread's is ${ref.name} (${ref.length})`);
    const inKernel = kernelMemoryOf(p.data) !== null;
    if (ref.kind === 'kernel') {
      // Adopted kernels lay out the shared memory as the main thread's did.
      if (!inKernel || p.data.byteOffset !== ref.byteOffset) throw new Error(`shard: ${p.name} is not where the main thread's kernel keeps it`);
    } else {
      if (inKernel) throw new Error(`shard: ${p.name} is in a kernel here and in plain memory in the main thread`);
      p.bind(new Float32Array(ref.buffer, ref.byteOffset, ref.length));
    }
  });
}

/** The main thread's learner, rebuilt in a shard thread on the shared weights, kernel memories and optimizer state. */
export function buildReplica(data: TwinData): PointwiseLearner {
  const learner = adoptingKernels(data.memories, () => build(data.recipe, data.train));
  bindShared(learner.params(), data.params);
  learner.optimizer = optimizerFromShared(data.optimizer, learner.params());
  return learner;
}
