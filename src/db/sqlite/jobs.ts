import { type JobState, type JobRow, toRecord, type JobsRepository } from '../jobs-repository.js';
import type { Db } from './connection.js';
import { promised } from './promised.js';

export function createJobsRepository(db: Db): JobsRepository {
  const byId = db.prepare<[string], JobRow>('SELECT * FROM jobs WHERE id = ?');
  const queuedFor = db.prepare<[string], JobRow>("SELECT * FROM jobs WHERE model = ? AND state = 'queued' ORDER BY created_at LIMIT 1");
  const insert = db.prepare<[string, string, string, number]>("INSERT INTO jobs (id, model, request, state, created_at) VALUES (?, ?, ?, 'queued', ?)");
  const createOrReuse = db.transaction((id: string, model: string, request: Record<string, unknown>, now: number) => {
    const existing = queuedFor.get(model);
    if (existing) return { job: toRecord(existing), reused: true };
    insert.run(id, model, JSON.stringify(request), now);
    return { job: toRecord(byId.get(id)!), reused: false };
  });
  // One statement, so two workers starting jobs of the same model are serialised by SQLite's lock.
  const startStmt = db.prepare<{ id: string; now: number; cutoff: number }>(
    `UPDATE jobs SET state = 'active', attempts = attempts + 1, started_at = @now, heartbeat_at = @now, error = NULL, history = NULL
      WHERE id = @id AND state IN ('queued', 'active')
        AND NOT (state = 'active' AND heartbeat_at > @cutoff)
        AND NOT EXISTS (SELECT 1 FROM jobs other WHERE other.model = jobs.model AND other.id != jobs.id
                          AND other.state = 'active' AND other.heartbeat_at > @cutoff)`,
  );
  const heartbeatStmt = db.prepare<[number, string]>("UPDATE jobs SET heartbeat_at = ? WHERE id = ? AND state = 'active'");
  const historyStmt = db.prepare<[string, string]>(
    "UPDATE jobs SET history = json_insert(coalesce(history, '[]'), '$[#]', json(?)) WHERE id = ? AND state = 'active' AND json_array_length(coalesce(history, '[]')) < 5000",
  );
  const progressStmt = db.prepare<[string, string]>("UPDATE jobs SET progress = ? WHERE id = ? AND state = 'active'");
  const completeStmt = db.prepare<[string, number, string]>("UPDATE jobs SET state = 'completed', result = ?, finished_at = ? WHERE id = ? AND state = 'active'");
  const failStmt = db.prepare<[string, string, number | null, string]>(
    "UPDATE jobs SET state = ?, error = ?, finished_at = ? WHERE id = ? AND state IN ('queued', 'active')",
  );
  const cancelStmt = db.prepare<[number, string]>("UPDATE jobs SET state = 'cancelled', finished_at = ? WHERE id = ? AND state IN ('queued', 'active')");
  return promised<JobsRepository>({
    createOrReuse: (id, model, request, now) => createOrReuse.immediate(id, model, request, now),
    get: (id) => {
      const r = byId.get(id);
      return r ? toRecord(r) : undefined;
    },
    list: (limit, state) => {
      const rows = state
        ? db.prepare<[string, number], JobRow>('SELECT * FROM jobs WHERE state = ? ORDER BY created_at DESC, id DESC LIMIT ?').all(state, limit)
        : db.prepare<[number], JobRow>('SELECT * FROM jobs ORDER BY created_at DESC, id DESC LIMIT ?').all(limit);
      return rows.map(toRecord);
    },
    start: (id, now, staleMs) => {
      const cutoff = now - staleMs;
      if (startStmt.run({ id, now, cutoff }).changes === 1) return 'started';
      const row = byId.get(id);
      if (row?.state === 'active' && (row.heartbeat_at ?? 0) > cutoff) return 'running';
      return row?.state === 'queued' || row?.state === 'active' ? 'busy' : 'gone';
    },
    heartbeat: (id, now) => void heartbeatStmt.run(now, id),
    progress: (id, progress) => void progressStmt.run(JSON.stringify(progress), id),
    appendHistory: (id, entry) => void historyStmt.run(JSON.stringify(entry), id),
    complete: (id, result, now) => void completeStmt.run(JSON.stringify(result), now, id),
    fail: (id, error, final, now) => void failStmt.run(final ? 'failed' : 'queued', error, final ? now : null, id),
    cancel: (id, now) => cancelStmt.run(now, id).changes === 1,
    markRequeued: (id, note) => void db.prepare<[string, string]>("UPDATE jobs SET requeued = requeued + 1, error = ? WHERE id = ? AND state = 'queued'").run(note, id),
    countByState: () => {
      const out = Object.fromEntries(['queued', 'active', 'completed', 'failed', 'cancelled'].map((s) => [s, 0])) as Record<JobState, number>;
      for (const r of db.prepare<[], { state: JobState; n: number }>('SELECT state, COUNT(*) AS n FROM jobs GROUP BY state').all()) out[r.state] = r.n;
      return out;
    },
  });
}
