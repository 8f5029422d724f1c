import { parentPort, workerData } from 'node:worker_threads';
import { buildAnnFile, type AnnBuildInput } from './ann.js';

/** Builds one HNSW index file off the API's event loop (both cores: serving mostly waits meanwhile), and the neighbour lists asked for. */
try {
  const lists = buildAnnFile(workerData as AnnBuildInput, 2);
  parentPort!.postMessage({ ok: true, lists }, lists ? [lists.indptr.buffer as ArrayBuffer, lists.indices.buffer as ArrayBuffer, lists.values.buffer as ArrayBuffer] : []);
} catch (err) {
  parentPort!.postMessage({ ok: false, message: (err as Error).message });
}
