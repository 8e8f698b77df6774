-- Up Migration
-- REFRESH MATERIALIZED VIEW needs the view's owner, and the app no longer connects as the owner
-- (the migrate role owns the schema; the app role has DML only, src/platform/db/roles.ts). This
-- function runs the one refresh the stats job does with its owner's rights and nothing else; its
-- search_path is fixed so a caller cannot substitute objects.
CREATE FUNCTION refresh_product_stats() RETURNS void
  LANGUAGE sql
  SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$ REFRESH MATERIALIZED VIEW CONCURRENTLY product_stats $$;

-- Down Migration
DROP FUNCTION IF EXISTS refresh_product_stats();
