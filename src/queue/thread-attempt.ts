import { siblingModule, spawnThread } from '../threads/spawn.js';
import type { JobResult } from '../train/job-handler.js';
import { JobBusy, JobGone, settleDeadAttempt, type WorkerDeps } from './execute.js';
import type { ThreadJobData, ThreadMessage } from './thread-messages.js';

const THREAD_MODULE = siblingModule(import.meta.url, 'training-thread');
const THREAD_GRACE_MS = 5000;

/**
 * Runs one attempt of a job in a worker thread and settles as `executeJob` would have: the
 * result, or JobGone / JobBusy / the failure. Aborting `signal` asks the thread to stop
 * (the job goes back to queued); a thread that dies without answering has its attempt settled
 * here (counted; the job fails if it was the last), since its own error handling never ran.
 */
export function executeJobInThread(deps: WorkerDeps, id: string, signal: AbortSignal): Promise<JobResult> {
  const data: ThreadJobData = { config: deps.config, jobId: id };
  const thread = spawnThread(THREAD_MODULE, data);
  return new Promise<JobResult>((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      fn();
      // The attempt has answered; the thread closes its port and exits after its cleanup. A thread
      // still there after a grace period is ended, or every job could leave one behind.
      setTimeout(() => void thread.terminate(), THREAD_GRACE_MS).unref();
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
      } else if (m.kind === 'gone') {
        void deps.store.jobs.get(id).then(
          (record) => settle(() => reject(new JobGone(id, record))),
          () => settle(() => reject(new JobGone(id, undefined))),
        );
      } else {
        settle(() => reject(m.kind === 'busy' ? new JobBusy(id, m.message) : new Error(m.message)));
      }
    });
    const settleDied = async (why: string): Promise<string> => {
      const jobs = deps.store.jobs;
      const record = await jobs.get(id);
      const after = record?.state === 'active' ? await settleDeadAttempt(jobs, record, deps.config.jobAttempts, Date.now(), `training thread (${why})`) : record;
      deps.log.error({ jobId: id, err: after?.error ?? why }, 'training thread died');
      return after?.error ?? `training thread died: ${why}`;
    };
    const died = (why: string): void => {
      if (settled) return;
      void settleDied(why).then(
        (message) => settle(() => reject(new Error(message))),
        (err: unknown) => settle(() => reject(err instanceof Error ? err : new Error(String(err)))),
      );
    };
    thread.on('error', (err) => died(err.message));
    thread.on('exit', (code) => died(`exit code ${code}`));
  });
}
