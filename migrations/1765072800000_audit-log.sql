-- Up Migration
-- Who changed what through the admin API, and when. Never the values sent (they may be personal):
-- the route, its target, the outcome, and details a route chose to record (such as the categories
-- of data an erasure removed).
CREATE TABLE audit_log (
  id           BIGSERIAL PRIMARY KEY,
  at           TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  actor_key_id UUID,
  actor_name   TEXT NOT NULL,
  action       TEXT NOT NULL,
  target_type  TEXT,
  target_id    TEXT,
  status       INTEGER NOT NULL,
  request_id   TEXT,
  details      JSONB
);
CREATE INDEX idx_audit_log_at ON audit_log (at DESC, id DESC);
CREATE INDEX idx_audit_log_target ON audit_log (target_type, target_id, id DESC);

-- Down Migration
DROP TABLE audit_log;
