-- Up Migration
-- Per-customer keys of the order archive (issue 26, item 5). Archive objects no longer carry a
-- customer's id or the text of their customizations in clear: those are sealed (AES-256-GCM) with
-- the customer's key from this table, and erasure deletes the key, which leaves the sealed part of
-- every archive object (in cold storage or in a backup alike) unreadable.
CREATE TABLE archive_customer_keys (
  customer_id UUID PRIMARY KEY,
  key         BYTEA NOT NULL CHECK (octet_length(key) = 32),
  created_at  TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

-- Down Migration
DROP TABLE archive_customer_keys;
