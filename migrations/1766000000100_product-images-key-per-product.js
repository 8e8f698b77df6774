/**
 * A stored image may be filed under several products (issue 28: a catalog import attaches an image
 * by its object key, and one image URL on many products is fetched and stored once): an image key
 * is unique per product, not over the table. This file builds the new unique index concurrently;
 * 1766000000101 then drops the old table-wide constraint on key.
 * @param {import('node-pg-migrate').MigrationBuilder} pgm
 */
export const up = (pgm) => {
  pgm.noTransaction();
  pgm.sql('DROP INDEX CONCURRENTLY IF EXISTS idx_product_images_product_key');
  pgm.sql(
    'CREATE UNIQUE INDEX CONCURRENTLY idx_product_images_product_key ON product_images (product_id, key)',
  );
};

/** @param {import('node-pg-migrate').MigrationBuilder} pgm */
export const down = (pgm) => {
  pgm.noTransaction();
  pgm.sql('DROP INDEX CONCURRENTLY IF EXISTS idx_product_images_product_key');
};
