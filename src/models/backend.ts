import * as tf from '@tensorflow/tfjs-core';

import { BACKEND_CHOICES, type BackendChoice } from './model.js';

export { BACKEND_CHOICES, type BackendChoice };
export type BackendName = Exclude<BackendChoice, 'auto'>;

export interface BackendInfo {
  /** `tensorflow` is tfjs-node (native libtensorflow). */
  name: BackendName;
  /** Why this one: e.g. "tfjs-node not installed". */
  reason: string;
  /** wasm only: SIMD and thread count in use. */
  simd?: boolean;
  threads?: number;
}

interface Logger {
  info(obj: object, msg: string): void;
}

let selected: Promise<BackendInfo> | undefined;

async function tryTfjsNode(): Promise<string | null> {
  try {
    // Optional dependency: its install downloads libtensorflow, which fails without network.
    const spec = '@tensorflow/tfjs-node';
    await import(spec);
    return null;
  } catch (err) {
    return (err as Error).message.split('\n')[0];
  }
}

async function useWasm(): Promise<Pick<BackendInfo, 'simd' | 'threads'>> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialise');
  await tf.ready();
  return {
    simd: Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')),
    threads: wasm.getThreadsCount(),
  };
}

async function useCpu(): Promise<void> {
  await import('@tensorflow/tfjs-backend-cpu');
  if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend failed to initialise');
  await tf.ready();
}

async function select(choice: BackendChoice): Promise<BackendInfo> {
  if (choice === 'tensorflow' || choice === 'auto') {
    const failure = await tryTfjsNode();
    if (failure === null && (await tf.setBackend('tensorflow'))) {
      await tf.ready();
      return { name: 'tensorflow', reason: choice === 'auto' ? 'tfjs-node loaded' : 'TF_BACKEND=tensorflow' };
    }
    if (choice === 'tensorflow') throw new Error(`TF_BACKEND=tensorflow but @tensorflow/tfjs-node did not load: ${failure}`);
    try {
      return { name: 'wasm', reason: `tfjs-node unavailable (${failure})`, ...(await useWasm()) };
    } catch (err) {
      await useCpu();
      return { name: 'cpu', reason: `tfjs-node and wasm unavailable (${(err as Error).message})` };
    }
  }
  if (choice === 'wasm') return { name: 'wasm', reason: 'TF_BACKEND=wasm', ...(await useWasm()) };
  await useCpu();
  return { name: 'cpu', reason: 'TF_BACKEND=cpu' };
}

/**
 * Picks the TensorFlow.js backend once per process: tfjs-node when it loads, else wasm, else
 * cpu; `choice` (TF_BACKEND) overrides. Later calls return the first result.
 */
export function initBackend(choice: BackendChoice = 'auto', log?: Logger): Promise<BackendInfo> {
  if (!selected) {
    selected = select(choice).then((info) => {
      log?.info({ backend: info }, `tensorflow.js backend: ${info.name}`);
      return info;
    });
    selected.catch(() => {
      selected = undefined;
    });
  }
  return selected;
}
