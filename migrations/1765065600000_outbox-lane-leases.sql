-- Up Migration
-- The outbox relay no longer holds a transaction (and its advisory locks) while it waits for the
-- broker: a worker leases a lane here for a bounded time, publishes without a connection held,
-- then marks the events published and gives the lane back. One row per lane; the outbox's lane
-- column is `abs(hashtext(aggregate_id)) % 8`, so there are eight.
-- Upgrade note: stop the workers of the previous version before starting this one (the old relay
-- does not know about leases).
CREATE TABLE outbox_lanes (
  lane        SMALLINT PRIMARY KEY CHECK (lane >= 0 AND lane < 8),
  owner       TEXT,
  lease_until TIMESTAMPTZ NOT NULL DEFAULT '-infinity'
);
INSERT INTO outbox_lanes (lane) SELECT generate_series(0, 7);

-- Down Migration
DROP TABLE outbox_lanes;
