import type { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type { Interactions } from '../../data/interactions.js';
import { siblingModule, spawnThread } from '../../threads/spawn.js';
import type { WasmMemory } from '../../wasm/module.js';
import { kernelMemoryOf } from '../kernels/bag.js';
import { optimizerSettings, type Optimizer, type OptimizerSettings } from '../nn/optimizer.js';
import type { Param } from '../nn/param.js';
import type { LearnerRecipe, PointwiseBatch, PointwiseLearner } from '../nn/train-loop.js';
import { GradientCombiner, GradientRecorder, type GradEntry, type ShardGradients } from './gradients.js';

/** Where a shard thread finds one of the learner's parameters: in a kernel's shared memory, or in a shared buffer. */
export type SharedParamRef = { name: string; length: number; byteOffset: number } & ({ kind: 'kernel'; memory: number } | { kind: 'plain'; buffer: SharedArrayBuffer });

export interface ShardWorkerData {
  recipe: LearnerRecipe;
  /** The training data, for learners built from it (recipe kind `model`). */
  train: Interactions | null;
  params: SharedParamRef[];
  /** The kernels' shared memories, in the order the learner creates its kernels. */
  memories: WasmMemory[];
  /** The TensorFlow.js backend the main thread trains with. */
  backend: string;
  /** The shard's random stream (dropout), 1 and up: the main thread's shard keeps the model's own. */
  stream: number;
  /** The parameters (indices) this thread updates, with a twin of the main thread's optimizer. */
  owned: number[];
  optimizer: OptimizerSettings;
}

export interface ShardBatch {
  user: Int32Array;
  item: Int32Array;
  label: Float32Array;
  explicit: Float32Array;
}
/** `step`: compute a shard's gradients; `apply`: update the thread's own parameters with every shard's. */
export type ShardRequest = ({ type: 'step' } & ShardBatch) | { type: 'apply'; shards: ShardGradients[] };
export type ShardReply = { type: 'ready' } | { type: 'grads'; loss: number; entries: GradEntry[] } | { type: 'applied' } | { type: 'error'; message: string };

let live = 0;
/** Shard threads alive now: tests check that training leaves none behind. */
export function liveShardThreads(): number {
  return live;
}

/** One shard thread: requests are answered in order, one reply each. */
class ShardThread {
  private readonly waiting: { resolve: (m: ShardReply) => void; reject: (e: Error) => void }[] = [];
  private failure: Error | null = null;
  private readonly exited: Promise<void>;

  constructor(private readonly worker: Worker) {
    live++;
    worker.on('message', (m: ShardReply) => this.waiting.shift()?.resolve(m));
    worker.on('error', (err: Error) => this.fail(err));
    this.exited = new Promise((resolve) => {
      worker.once('exit', () => {
        live--;
        this.fail(new Error('a training shard thread exited'));
        resolve();
      });
    });
  }

  /** The next reply (ready, or the gradients of the request posted before). */
  next(): Promise<ShardReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** Posts a request, handing over its arrays' buffers (each belongs to this request alone). */
  post(request: ShardRequest): void {
    const arrays = request.type === 'step' ? [request.user, request.item, request.label, request.explicit] : request.shards.flatMap((s) => entryArrays(s.entries));
    this.worker.postMessage(request, arrays.map((a) => a.buffer as ArrayBuffer));
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

async function expect<T extends ShardReply['type']>(reply: Promise<ShardReply>, type: T): Promise<Extract<ShardReply, { type: T }>> {
  const m = await reply;
  if (m.type === 'error') throw new Error(`training shard thread: ${m.message}`);
  if (m.type !== type) throw new Error(`training shard thread: expected ${type}, got ${m.type}`);
  return m as Extract<ShardReply, { type: T }>;
}

/** The arrays of gradient entries, whose buffers can be handed to another thread. */
export function entryArrays(entries: readonly GradEntry[]): (Int32Array | Float32Array)[] {
  return entries.flatMap((e) => (e.rows ? [e.rows, e.values] : [e.values]));
}

/** Rows [lo, hi) of a batch, copied: they travel to another thread. */
function slice(batch: PointwiseBatch, lo: number, hi: number): ShardRequest {
  return { type: 'step', user: batch.user.slice(lo, hi), item: batch.item.slice(lo, hi), label: batch.label.slice(lo, hi), explicit: batch.explicit.slice(lo, hi) };
}

/** Each shard's entries for the parameters `thread` updates. */
function ownedBy(shards: readonly ShardGradients[], owner: readonly number[], thread: number): ShardGradients[] {
  return shards.map((s) => ({ weight: s.weight, entries: s.entries.filter((e) => owner[e.param] === thread) }));
}

/**
 * Which thread updates each parameter: the largest first, each to the thread with the fewest
 * values so far, so that applying the update is split as evenly as computing the gradients.
 */
function assignOwners(params: readonly Param[], threads: number): number[] {
  const load = new Array<number>(threads).fill(0);
  const owner = new Array<number>(params.length).fill(0);
  const bySize = params.map((p, k) => k).sort((a, b) => params[b].size - params[a].size || a - b);
  for (const k of bySize) {
    const t = load.indexOf(Math.min(...load));
    owner[k] = t;
    load[t] += params[k].size;
  }
  return owner;
}

/**
 * Data-parallel training steps. Each batch is cut into one contiguous shard per thread; every
 * thread computes its shard's gradients on the same shared weights. Then each parameter is
 * updated by the one thread that owns it, from all shards' gradients, weighted by their sizes:
 * the main thread relays to each shard thread the gradients of what it owns, and the step ends
 * when all have applied theirs. The weights never change under a thread that reads them, and a
 * step is the same computation as on one thread, up to the order of floating-point sums and the
 * dropout masks (each shard draws from its own stream). With a fixed seed and thread count,
 * runs repeat exactly.
 */
export class ShardPool {
  private readonly recorder: GradientRecorder;
  private readonly combiner: GradientCombiner;

  constructor(
    private readonly learner: PointwiseLearner,
    private readonly threads: ShardThread[],
    /** The thread (0 = this one, t = threads[t − 1]) that updates each parameter. */
    private readonly owner: readonly number[],
  ) {
    const params = learner.params();
    this.recorder = new GradientRecorder(params);
    this.combiner = new GradientCombiner(params);
  }

  /** One optimisation step on the batch; returns the summed loss of its instances. */
  async step(batch: PointwiseBatch): Promise<number> {
    const n = batch.size;
    const parts = this.threads.length + 1;
    const bound = (k: number): number => Math.round((k * n) / parts);
    const pending: { size: number; reply: Promise<ShardReply> }[] = [];
    for (let t = 1; t < parts; t++) {
      const [lo, hi] = [bound(t), bound(t + 1)];
      if (hi <= lo) continue;
      this.threads[t - 1].post(slice(batch, lo, hi));
      pending.push({ size: hi - lo, reply: this.threads[t - 1].next() });
    }
    const shards: ShardGradients[] = [];
    let loss = bound(1) > 0 ? this.trainOwnShard(batch, bound(1), shards) : 0;
    for (const { size, reply } of pending) {
      const m = await expect(reply, 'grads');
      shards.push({ entries: m.entries, weight: size / n });
      loss += m.loss;
    }
    const applied = this.threads.map((thread, t) => {
      thread.post({ type: 'apply', shards: ownedBy(shards, this.owner, t + 1) });
      return expect(thread.next(), 'applied');
    });
    this.combiner.apply(this.optimizer(), ownedBy(shards, this.owner, 0));
    await Promise.all(applied);
    return loss;
  }

  private trainOwnShard(batch: PointwiseBatch, size: number, shards: ShardGradients[]): number {
    const real = this.optimizer();
    this.learner.optimizer = this.recorder;
    try {
      const own = { size, user: batch.user.subarray(0, size), item: batch.item.subarray(0, size), label: batch.label.subarray(0, size), explicit: batch.explicit.subarray(0, size) };
      const loss = this.learner.trainBatch(own);
      shards.push({ entries: this.recorder.take(), weight: size / batch.size });
      return loss;
    } finally {
      this.learner.optimizer = real;
    }
  }

  private optimizer(): Optimizer {
    const opt = this.learner.optimizer;
    if (!opt || opt.kind === 'record') throw new Error("data-parallel training needs the learner's optimizer set");
    return opt;
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
 * Starts `threads − 1` shard threads for `learner`, each with a twin of it on the same shared
 * weights, or returns null when training runs on one thread (one thread asked for, or a learner
 * without a recipe for its twin or an optimizer a thread can copy).
 */
export async function startShards(learner: PointwiseLearner, train: Interactions, threads: number): Promise<ShardPool | null> {
  const optimizer = learner.optimizer ? optimizerSettings(learner.optimizer) : null;
  if (threads <= 1 || !learner.replica || !optimizer) return null;
  const recipe = learner.replica();
  const params = learner.params();
  const { refs, memories } = shareParams(params);
  const owner = assignOwners(params, threads);
  const started: ShardThread[] = [];
  try {
    for (let stream = 1; stream < threads; stream++) {
      const owned = owner.flatMap((t, k) => (t === stream ? [k] : []));
      const data: ShardWorkerData = { recipe, train: recipe.kind === 'model' ? train : null, params: refs, memories, backend: tf.getBackend(), stream, owned, optimizer };
      started.push(new ShardThread(spawnThread(siblingModule(import.meta.url, 'shard-worker'), data)));
    }
    for (const t of started) await expect(t.next(), 'ready');
  } catch (err) {
    await Promise.all(started.map((t) => t.terminate()));
    throw err;
  }
  return new ShardPool(learner, started, owner);
}
