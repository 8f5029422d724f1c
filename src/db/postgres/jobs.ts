import { JOB_STATES, toRecord, type JobRow, type JobState, type JobsRepository } from '../jobs-repository.js';
import { changes, lockFor, row, rows, transaction, type Pool } from './pool.js';

const MAX_HISTORY = 5000;

export function postgresJobs(pool: Pool): JobsRepository {
  const get = async (id: string) => {
    const r = await row<JobRow>(pool, 'SELECT * FROM jobs WHERE id = $1', [id]);
    return r ? toRecord(r) : undefined;
  };
  return {
    // The model's lock makes check-then-insert atomic across processes: two racing requests create one job.
    createOrReuse: (id, model, request, now) =>
      transaction(pool, async (client) => {
        await lockFor(client, `recflow.jobs.${model}`);
        const existing = await row<JobRow>(client, "SELECT * FROM jobs WHERE model = $1 AND state = 'queued' ORDER BY created_at LIMIT 1", [model]);
        if (existing) return { job: toRecord(existing), reused: true };
        const created = (await row<JobRow>(client, "INSERT INTO jobs (id, model, request, state, created_at) VALUES ($1, $2, $3, 'queued', $4) RETURNING *", [id, model, JSON.stringify(request), now]))!;
        return { job: toRecord(created), reused: false };
      }),
    get,
    list: async (limit, state) =>
      (state
        ? await rows<JobRow>(pool, 'SELECT * FROM jobs WHERE state = $1 ORDER BY created_at DESC, id DESC LIMIT $2', [state, limit])
        : await rows<JobRow>(pool, 'SELECT * FROM jobs ORDER BY created_at DESC, id DESC LIMIT $1', [limit])
      ).map(toRecord),
    // Under the model's lock, so two workers starting jobs of one model cannot both see it free.
    start: async (id, now, staleMs) => {
      const cutoff = now - staleMs;
      const started = await transaction(pool, async (client) => {
        const model = (await row<{ model: string }>(client, 'SELECT model FROM jobs WHERE id = $1', [id]))?.model;
        if (model === undefined) return false;
        await lockFor(client, `recflow.jobs.${model}`);
        return (
          (await changes(
            client,
            `UPDATE jobs SET state = 'active', attempts = attempts + 1, started_at = $2, heartbeat_at = $2, error = NULL, history = NULL
              WHERE id = $1 AND state IN ('queued', 'active')
                AND NOT (state = 'active' AND heartbeat_at > $3)
                AND NOT EXISTS (SELECT 1 FROM jobs other WHERE other.model = jobs.model AND other.id <> jobs.id
                                  AND other.state = 'active' AND other.heartbeat_at > $3)`,
            [id, now, cutoff],
          )) === 1
        );
      });
      if (started) return 'started';
      const r = await get(id);
      if (r?.state === 'active' && (r.heartbeatAt ?? 0) > cutoff) return 'running';
      return r?.state === 'queued' || r?.state === 'active' ? 'busy' : 'gone';
    },
    heartbeat: async (id, now) => void (await pool.query("UPDATE jobs SET heartbeat_at = $1 WHERE id = $2 AND state = 'active'", [now, id])),
    progress: async (id, progress) => void (await pool.query("UPDATE jobs SET progress = $1 WHERE id = $2 AND state = 'active'", [JSON.stringify(progress), id])),
    appendHistory: async (id, entry) =>
      void (await pool.query(
        `UPDATE jobs SET history = (coalesce(history, '[]')::jsonb || jsonb_build_array($1::jsonb))::text
          WHERE id = $2 AND state = 'active' AND jsonb_array_length(coalesce(history, '[]')::jsonb) < $3`,
        [JSON.stringify(entry), id, MAX_HISTORY],
      )),
    complete: async (id, result, now) => void (await pool.query("UPDATE jobs SET state = 'completed', result = $1, finished_at = $2 WHERE id = $3 AND state = 'active'", [JSON.stringify(result), now, id])),
    fail: async (id, error, final, now) =>
      void (await pool.query("UPDATE jobs SET state = $1, error = $2, finished_at = $3 WHERE id = $4 AND state IN ('queued', 'active')", [final ? 'failed' : 'queued', error, final ? now : null, id])),
    cancel: async (id, now) => (await changes(pool, "UPDATE jobs SET state = 'cancelled', finished_at = $1 WHERE id = $2 AND state IN ('queued', 'active')", [now, id])) === 1,
    markRequeued: async (id, note) => void (await pool.query("UPDATE jobs SET requeued = requeued + 1, error = $1 WHERE id = $2 AND state = 'queued'", [note, id])),
    countByState: async () => {
      const out = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
      for (const r of await rows<{ state: JobState; n: number }>(pool, 'SELECT state, COUNT(*) AS n FROM jobs GROUP BY state')) out[r.state] = r.n;
      return out;
    },
  };
}
