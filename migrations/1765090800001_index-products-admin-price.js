/**
 * The admin product listing sorted by price (GET /admin/products?sort=price): keyset pages on
 * (base_price, id) from an index. Built concurrently: products is big and hot.
 * @param {import('node-pg-migrate').MigrationBuilder} pgm
 */
export const up = (pgm) => {
  pgm.noTransaction();
  pgm.sql('DROP INDEX CONCURRENTLY IF EXISTS idx_products_admin_price');
  pgm.sql(
    'CREATE INDEX CONCURRENTLY idx_products_admin_price ON products (base_price, id) WHERE deleted_at IS NULL',
  );
};

/** @param {import('node-pg-migrate').MigrationBuilder} pgm */
export const down = (pgm) => {
  pgm.noTransaction();
  pgm.sql('DROP INDEX CONCURRENTLY IF EXISTS idx_products_admin_price');
};
