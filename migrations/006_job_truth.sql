-- At most one model version per training job: a second execution of the same job (two workers
-- after a Redis outage) must not register another. Versions already registered twice by such an
-- execution keep their rows; all but the first lose their job link so the index can exist.
UPDATE models SET job_id = NULL
 WHERE job_id IS NOT NULL
   AND id NOT IN (SELECT MIN(id) FROM models WHERE job_id IS NOT NULL GROUP BY job_id);
CREATE UNIQUE INDEX models_one_version_per_job ON models (job_id) WHERE job_id IS NOT NULL;
-- How often the queue lost this job (Redis restarted without it) and it was enqueued again.
ALTER TABLE jobs ADD COLUMN requeued INTEGER NOT NULL DEFAULT 0;
