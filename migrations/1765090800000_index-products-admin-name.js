/**
 * The admin product listing sorted by name (GET /admin/products?sort=name): keyset pages in the
 * order people read names (case and accents ignored), from an index rather than a sort of the
 * whole catalog. Built concurrently: products is big and hot.
 * @param {import('node-pg-migrate').MigrationBuilder} pgm
 */
export const up = (pgm) => {
  pgm.noTransaction();
  pgm.sql('DROP INDEX CONCURRENTLY IF EXISTS idx_products_admin_name');
  pgm.sql(
    'CREATE INDEX CONCURRENTLY idx_products_admin_name ON products (lower(shopflow_unaccent(name)), id) WHERE deleted_at IS NULL',
  );
};

/** @param {import('node-pg-migrate').MigrationBuilder} pgm */
export const down = (pgm) => {
  pgm.noTransaction();
  pgm.sql('DROP INDEX CONCURRENTLY IF EXISTS idx_products_admin_name');
};
