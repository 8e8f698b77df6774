-- Up Migration
-- Scoped admin keys (issue 26): each key holds a set of scopes (`*` holds them all), may expire,
-- and live keys have unique names. Every key created before this migration keeps working as `*`:
-- the column is added with that default (a constant, so no table rewrite), then the default is
-- dropped so that a new key always states its scopes.
ALTER TABLE admin_api_keys ADD COLUMN scopes TEXT[] NOT NULL DEFAULT '{*}';
ALTER TABLE admin_api_keys ALTER COLUMN scopes DROP DEFAULT;
ALTER TABLE admin_api_keys ADD CONSTRAINT admin_api_keys_scopes_known CHECK (
  cardinality(scopes) > 0
  AND scopes <@ ARRAY['*', 'catalog', 'inventory', 'orders', 'refunds', 'customers', 'privacy',
                      'operations', 'keys']::TEXT[]
);
ALTER TABLE admin_api_keys ADD COLUMN expires_at TIMESTAMPTZ;
-- Names were free until now: a live key sharing its name (case-insensitively) with an older live
-- key gets its prefix appended, so that the unique index below can be built. The table holds a
-- handful of rows.
UPDATE admin_api_keys k SET name = left(k.name, 230) || ' (' || k.key_prefix || ')'
WHERE k.revoked_at IS NULL AND EXISTS (
  SELECT 1 FROM admin_api_keys o
  WHERE o.revoked_at IS NULL AND lower(o.name) = lower(k.name)
    AND (o.created_at, o.id) < (k.created_at, k.id)
);
CREATE UNIQUE INDEX admin_api_keys_live_name ON admin_api_keys (lower(name)) WHERE revoked_at IS NULL;

-- Down Migration
-- Scopes and expiry are dropped (every key becomes all-powerful and everlasting again); names
-- renamed by the up section keep their suffix.
DROP INDEX admin_api_keys_live_name;
ALTER TABLE admin_api_keys DROP COLUMN expires_at;
ALTER TABLE admin_api_keys DROP CONSTRAINT admin_api_keys_scopes_known;
ALTER TABLE admin_api_keys DROP COLUMN scopes;
