import { parentPort, workerData } from 'node:worker_threads';
import { alsScratch, solveAlsRows } from '../als.js';
import type { AlsReply, AlsRequest, AlsWorkerData } from './als-pool.js';

/** An ALS thread: solves the rows it is sent into the shared factors (als-pool.ts). */
const port = parentPort!;
const data = workerData as AlsWorkerData;
const post = (m: AlsReply): void => port.postMessage(m);
const scratch = alsScratch(data.settings.factors);

port.on('message', (m: AlsRequest) => {
  try {
    const [solved, held] = m.side === 'users' ? [data.users, data.items] : [data.items, data.users];
    solveAlsRows(data.settings, { target: solved.factors, fixed: held.factors, rows: solved.rows, otherSize: held.factors.length / data.settings.factors, base: m.base }, m.from, m.to, scratch);
    post({ type: 'solved' });
  } catch (err) {
    post({ type: 'error', message: (err as Error).message });
  }
});
post({ type: 'ready' });
