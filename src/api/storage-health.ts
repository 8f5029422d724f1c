import type { FastifyInstance } from 'fastify';
import { storageProblemOf, type StorageProblem } from '../db/errors.js';

const SAYS: Record<StorageProblem, string> = {
  full: 'the disk (or quota) is full: writes answer 507 until space is freed',
  read_only: 'the database is read-only: writes answer 503 until it is writable again',
};

/**
 * What /readyz says about writes: a write that failed for want of room or because the database
 * went read-only makes the process unready (reads still answer) until a later write succeeds, so
 * a load balancer and an operator see why instead of a stream of errors.
 */
export class StorageHealth {
  private problem: { kind: StorageProblem; at: number } | null = null;

  note(kind: StorageProblem, at = Date.now()): void {
    this.problem = { kind, at };
  }

  clear(): void {
    this.problem = null;
  }

  problems(): string[] {
    return this.problem ? [`storage: ${SAYS[this.problem.kind]} (since ${new Date(this.problem.at).toISOString()})`] : [];
  }
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Notes storage failures from every route's errors, and clears them on the next successful write. */
export function registerStorageHealth(app: FastifyInstance): StorageHealth {
  const health = new StorageHealth();
  app.addHook('onError', async (_request, _reply, err) => {
    const kind = storageProblemOf(err);
    if (kind) health.note(kind);
  });
  app.addHook('onResponse', async (request, reply) => {
    if (WRITES.has(request.method) && reply.statusCode < 300) health.clear();
  });
  return health;
}
