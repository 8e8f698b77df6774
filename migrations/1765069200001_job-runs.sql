-- Up Migration
-- The history of every job run, whoever started it (the schedule, a retry, the CLI, the admin
-- API): what ShopFlow shows at GET /admin/jobs and `shopflow jobs list`.
CREATE TABLE job_runs (
  id           BIGSERIAL PRIMARY KEY,
  job          TEXT NOT NULL,
  trigger      TEXT NOT NULL CHECK (trigger IN ('schedule', 'cli', 'api')),
  status       TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'skipped', 'interrupted')),
  attempt      INTEGER NOT NULL DEFAULT 1,
  queue_job_id UUID,
  worker       TEXT NOT NULL,
  started_at   TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  finished_at  TIMESTAMPTZ,
  progress     JSONB,
  result       JSONB,
  error        TEXT
);
CREATE INDEX idx_job_runs_job_started ON job_runs (job, started_at DESC, id DESC);
CREATE INDEX idx_job_runs_started ON job_runs (started_at DESC, id DESC);
CREATE UNIQUE INDEX idx_job_runs_queue_job ON job_runs (queue_job_id, attempt) WHERE queue_job_id IS NOT NULL;

-- Down Migration
DROP TABLE job_runs;
