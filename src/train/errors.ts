/**
 * A job failure that another attempt cannot fix (too little data, invalid hyperparameters, an
 * unknown model, a version already registered for the job): the job fails at once, without the
 * retries and backoff meant for transient faults.
 */
export class PermanentJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentJobError';
  }
}
