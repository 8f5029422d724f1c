import { parentPort, workerData } from 'node:worker_threads';
import { buildAnnFile, type AnnBuildInput } from './ann.js';

/** Builds one HNSW index file off the API's event loop (both cores: serving mostly waits meanwhile). */
try {
  buildAnnFile(workerData as AnnBuildInput, 2);
  parentPort!.postMessage({ ok: true });
} catch (err) {
  parentPort!.postMessage({ ok: false, message: (err as Error).message });
}
