import * as tf from '@tensorflow/tfjs-core';
import type { Interactions } from '../../data/interactions.js';
import type { PointwiseInstances } from '../../data/negatives.js';
import { startChannels, ThreadChannel } from '../../threads/channel.js';
import { siblingModule, spawnThread } from '../../threads/spawn.js';
import type { WasmMemory } from '../../wasm/module.js';
import { kernelMemoryOf } from '../kernels/bag.js';
import { shareOptimizer, type SharedOptimizer } from '../nn/optimizer.js';
import type { Param } from '../nn/param.js';
import type { LearnerRecipe, PointwiseLearner } from '../nn/train-loop.js';

/** Where a shard thread finds one of the learner's parameters: in a kernel's shared memory, or in a shared buffer. */
export type SharedParamRef = { name: string; length: number; byteOffset: number } & ({ kind: 'kernel'; memory: number } | { kind: 'plain'; buffer: SharedArrayBuffer });

/** What a thread needs to build a twin of a learner on the learner's shared weights and optimizer state. */
export interface TwinData {
  recipe: LearnerRecipe;
  /** The training data, for learners built from it (recipe kind `model`). */
  train: Interactions | null;
  params: SharedParamRef[];
  /** The kernels' shared memories, in the order the learner creates its kernels. */
  memories: WasmMemory[];
  /** The TensorFlow.js backend the main thread trains with. */
  backend: string;
  /** The main thread's optimizer, its state shared: every thread updates the weights with it. */
  optimizer: SharedOptimizer;
}

export interface ShardWorkerData extends TwinData {
  /** The thread's random stream (dropout), 1 and up: the main thread keeps the model's own. */
  stream: number;
}

/** A thread's share of an epoch's instances: consecutive batches of `sizes[b]` instances. */
export interface ShardBatches extends PointwiseInstances {
  sizes: Int32Array;
}
export type ShardRequest = { type: 'epoch' } & ShardBatches;
export type ShardReply = { type: 'ready' } | { type: 'trained'; loss: number } | { type: 'error'; message: string };

type ShardThread = ThreadChannel<ShardRequest, ShardReply>;

/** Posts a share of an epoch, handing over its arrays' buffers (copies made for this thread alone). */
function postShare(thread: ShardThread, request: ShardRequest): void {
  thread.post(request, [request.user, request.item, request.label, request.explicit, request.sizes].map((a) => a.buffer as ArrayBuffer));
}

/**
 * Thread `t`'s share of an epoch of `n` instances in batches of `batchSize`: batches t, t + T,
 * t + 2T… (T threads), copied into arrays of its own.
 */
export function shareOf(inst: PointwiseInstances, batchSize: number, t: number, T: number): ShardBatches {
  const n = inst.user.length;
  const starts: number[] = [];
  for (let b = t; b * batchSize < n; b += T) starts.push(b * batchSize);
  const sizes = Int32Array.from(starts, (s) => Math.min(batchSize, n - s));
  const total = sizes.reduce((a, b) => a + b, 0);
  const out = { user: new Int32Array(total), item: new Int32Array(total), label: new Float32Array(total), explicit: new Float32Array(total), sizes };
  let at = 0;
  starts.forEach((s, k) => {
    const e = s + sizes[k];
    out.user.set(inst.user.subarray(s, e), at);
    out.item.set(inst.item.subarray(s, e), at);
    out.label.set(inst.label.subarray(s, e), at);
    out.explicit.set(inst.explicit.subarray(s, e), at);
    at += sizes[k];
  });
  return out;
}

/**
 * Training threads beside the main one, each with a twin of the learner on the same shared
 * weights and optimizer state (Hogwild, Recht et al. 2011): in an epoch, thread t of T trains
 * batches t, t + T, t + 2T… and applies its updates at once, without locks, while the others do
 * the same. Each step reads weights (and Adam moments) that other threads may be updating;
 * sparse rows rarely collide, dense ones (towers) take small concurrent steps. Runs are
 * therefore not bit-for-bit repeatable with more than one thread; with one, they are.
 */
export class ShardPool {
  constructor(private readonly threads: ShardThread[]) {}

  /** Threads in all, the main one included. */
  get size(): number {
    return this.threads.length + 1;
  }

  /** Hands every shard thread its batches of the epoch; resolves with their summed loss once all are trained. */
  async trainShares(inst: PointwiseInstances, batchSize: number): Promise<number> {
    const losses = this.threads.map((thread, k) => {
      postShare(thread, { type: 'epoch', ...shareOf(inst, batchSize, k + 1, this.size) });
      return thread.next('trained');
    });
    return (await Promise.all(losses)).reduce((sum, m) => sum + m.loss, 0);
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.terminate()));
  }
}

/** Where each parameter lives, moving plain ones into shared memory; kernels' memories listed in order. */
function shareParams(params: readonly Param[]): { refs: SharedParamRef[]; memories: WasmMemory[] } {
  const memories: WasmMemory[] = [];
  const refs = params.map((p): SharedParamRef => {
    const base = { name: p.name, length: p.size };
    const memory = kernelMemoryOf(p.data);
    if (memory) {
      if (!memories.includes(memory)) memories.push(memory);
      return { ...base, byteOffset: p.data.byteOffset, kind: 'kernel', memory: memories.indexOf(memory) };
    }
    p.share();
    return { ...base, byteOffset: p.data.byteOffset, kind: 'plain', buffer: p.data.buffer as SharedArrayBuffer };
  });
  return { refs, memories };
}

/**
 * What a thread needs to build a twin of `learner` for training on `threads` threads, moving the
 * weights and the optimizer's state into shared memory; null, with nothing moved or changed, when
 * the learner cannot train on several threads (no recipe for its twin, or an optimizer a thread
 * cannot share).
 */
export function twinData(learner: PointwiseLearner, train: Interactions, threads: number): TwinData | null {
  if (!learner.replica || !learner.optimizer) return null;
  const params = learner.params();
  const optimizer = shareOptimizer(learner.optimizer, params, threads);
  if (!optimizer) return null;
  const recipe = learner.replica();
  const { refs, memories } = shareParams(params);
  return { recipe, train: recipe.kind === 'model' ? train : null, params: refs, memories, backend: tf.getBackend(), optimizer };
}

/**
 * Starts `threads − 1` shard threads for `learner`, each with a twin of it on the same shared
 * weights, or returns null when training runs on one thread (one asked for, or a learner that
 * cannot train on several).
 */
export async function startShards(learner: PointwiseLearner, train: Interactions, threads: number): Promise<ShardPool | null> {
  const twin = threads > 1 ? twinData(learner, train, threads) : null;
  if (!twin) return null;
  const module = siblingModule(import.meta.url, 'shard-worker');
  const started = await startChannels(threads - 1, (k): ShardThread => new ThreadChannel(spawnThread(module, { ...twin, stream: k + 1 } satisfies ShardWorkerData), 'training shard'));
  return new ShardPool(started);
}
