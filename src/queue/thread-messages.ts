import type { Config } from '../config.js';
import type { JobResult } from '../train/job-handler.js';

/** What the embedded queue hands a training thread. */
export interface ThreadJobData {
  config: Config;
  jobId: string;
}

/** What a training thread tells the API thread. */
export type ThreadMessage =
  | { type: 'log'; level: 'info' | 'warn' | 'error'; obj: object; msg: string }
  | { type: 'attempt'; model: string; outcome: 'completed' | 'failed' | 'cancelled'; seconds: number }
  | { type: 'done'; result: JobResult }
  | { type: 'error'; kind: 'gone' | 'busy' | 'failed'; message: string };
