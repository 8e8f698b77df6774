-- Up Migration
-- The freight options offered to a cart are asked for on every visit to the delivery step, and
-- each answer replaces the cart's rows here: a commit that waited for the WAL to reach the disk
-- each time. They are a short-lived offer (valid for SHIPPING_QUOTE_TTL_MINUTES, purged a day after
-- they expire), not a record: the option a cart chose is copied onto the cart, and a cart with no
-- rows here is asked to quote again. So the table skips the WAL: after a crash it comes back
-- empty, it is not sent to replicas, and a point-in-time restore has no quotes (carts quote again).
-- The rewrite takes an ACCESS EXCLUSIVE lock on a table of at most a day of quotes; it fails fast
-- rather than queue the delivery step behind it.
SET lock_timeout = '3s';
ALTER TABLE shipping_quotes SET UNLOGGED;

-- Down Migration
SET lock_timeout = '3s';
ALTER TABLE shipping_quotes SET LOGGED;
