/**
 * Product slugs are unique among live products (issue 28): `GET /store/products/by-slug/:slug`.
 * Built concurrently: products is large and written by every catalog change.
 * @param {import('node-pg-migrate').MigrationBuilder} pgm
 */
export const up = (pgm) => {
  pgm.noTransaction();
  pgm.sql('DROP INDEX CONCURRENTLY IF EXISTS idx_products_slug');
  pgm.sql('CREATE UNIQUE INDEX CONCURRENTLY idx_products_slug ON products (slug) WHERE deleted_at IS NULL');
};

/** @param {import('node-pg-migrate').MigrationBuilder} pgm */
export const down = (pgm) => {
  pgm.noTransaction();
  pgm.sql('DROP INDEX CONCURRENTLY IF EXISTS idx_products_slug');
};
