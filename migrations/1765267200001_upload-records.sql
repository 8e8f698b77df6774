-- Up Migration
-- Customer uploads are recorded when their presigned form is handed out (issue 26, item 6): the
-- owner's unfinished uploads are counted against a quota (count and declared bytes), and a job
-- deletes uploads no order references once they are old enough. `owner` is the key prefix the
-- upload lives under (uploads/c/<customer id>/ or uploads/s/<guest session>/), never a name.
-- Uploads handed out before this migration are not recorded: neither counted nor expired.
CREATE TABLE upload_records (
  key        TEXT PRIMARY KEY,
  owner      TEXT NOT NULL,
  size_bytes BIGINT NOT NULL CHECK (size_bytes > 0),
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_upload_records_owner ON upload_records (owner, created_at);
CREATE INDEX idx_upload_records_created ON upload_records (created_at);

-- Down Migration
DROP TABLE upload_records;
