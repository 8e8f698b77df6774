/**
 * The cart_items.variant_id foreign key (deleting a variant must not scan cart lines).
 * Built concurrently: cart_items is written on every add to cart.
 * @param {import('node-pg-migrate').MigrationBuilder} pgm
 */
export const up = (pgm) => {
  pgm.noTransaction();
  pgm.sql('DROP INDEX CONCURRENTLY IF EXISTS idx_cart_items_variant');
  pgm.sql('CREATE INDEX CONCURRENTLY idx_cart_items_variant ON cart_items (variant_id)');
};

/** @param {import('node-pg-migrate').MigrationBuilder} pgm */
export const down = (pgm) => {
  pgm.noTransaction();
  pgm.sql('DROP INDEX CONCURRENTLY IF EXISTS idx_cart_items_variant');
};
