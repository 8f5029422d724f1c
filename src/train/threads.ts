import { availableParallelism } from 'node:os';

/** `TRAIN_THREADS`: a thread count, or `auto`. */
export type ThreadSetting = number | 'auto';

/**
 * Below this many training pairs, `auto` trains on one thread: starting a training thread (its
 * own TensorFlow.js backend and copy of the model, 0.3–1 s) costs more than an epoch this small.
 */
export const MIN_PAIRS_FOR_THREADS = 20_000;

/**
 * How many threads train the neural models. A number is taken as given. `auto` uses every core
 * but `spareCores` (the embedded setup leaves one to the API process it shares the host with),
 * and one thread for small data.
 */
export function trainingThreads(setting: ThreadSetting, pairs: number, spareCores = 0, cores = availableParallelism()): number {
  if (setting !== 'auto') return setting;
  if (pairs < MIN_PAIRS_FOR_THREADS) return 1;
  return Math.max(1, cores - spareCores);
}
