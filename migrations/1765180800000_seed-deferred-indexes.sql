-- Up Migration
-- A large seed into an empty catalog sets the secondary indexes of products aside (kept here, by
-- name with the definition to rebuild them from), loads, then builds each once: maintaining ten
-- indexes row by row cost 95% of a million-product seed. A seed interrupted meanwhile leaves its
-- rows here, and the next seed rebuilds them when it ends.
CREATE TABLE seed_deferred_indexes (
  name TEXT PRIMARY KEY,
  definition TEXT NOT NULL,
  set_aside_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

-- Down Migration
DROP TABLE seed_deferred_indexes;
