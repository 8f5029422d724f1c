import { createJobsRepository } from '../db/jobs-repository.js';
import { siblingModule, spawnThread } from '../threads/spawn.js';
import type { JobResult } from '../train/job-handler.js';
import { JobBusy, JobCancelled, type WorkerDeps } from './execute.js';
import type { ThreadJobData, ThreadMessage } from './thread-messages.js';

const THREAD_MODULE = siblingModule(import.meta.url, 'training-thread');

/**
 * Runs one attempt of a job in a worker thread and settles as `executeJob` would have: the
 * result, or JobCancelled / JobBusy / the failure. Aborting `signal` asks the thread to stop
 * (the job goes back to queued); a thread that dies without answering fails the attempt here,
 * since its own error handling never ran.
 */
export function executeJobInThread(deps: WorkerDeps, id: string, finalAttempt: boolean, signal: AbortSignal): Promise<JobResult> {
  const data: ThreadJobData = { config: deps.config, jobId: id, finalAttempt };
  const thread = spawnThread(THREAD_MODULE, data);
  return new Promise<JobResult>((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = (): void => thread.postMessage({ type: 'abort', reason: String(signal.reason ?? 'shutting down') });
    signal.addEventListener('abort', onAbort);
    if (signal.aborted) onAbort();
    thread.on('message', (m: ThreadMessage) => {
      if (m.type === 'log') deps.log[m.level](m.obj, m.msg);
      else if (m.type === 'attempt') deps.onAttempt?.(m.model, m.outcome, m.seconds);
      else if (m.type === 'done') {
        settle(() => resolve(m.result));
        deps.onCompleted?.(m.result);
      } else settle(() => reject(m.kind === 'cancelled' ? new JobCancelled(id) : m.kind === 'busy' ? new JobBusy(id) : new Error(m.message)));
    });
    const died = (why: string): void =>
      settle(() => {
        const message = `training thread died: ${why}`;
        createJobsRepository(deps.db).fail(id, message, finalAttempt, Date.now());
        deps.log.error({ jobId: id, err: message }, 'training job failed');
        reject(new Error(message));
      });
    thread.on('error', (err) => died(err.message));
    thread.on('exit', (code) => died(`exit code ${code}`));
  });
}
