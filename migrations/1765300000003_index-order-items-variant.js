/**
 * The order_items.variant_id foreign key and the statistics per variant.
 * Built concurrently: order_items is written on every order.
 * @param {import('node-pg-migrate').MigrationBuilder} pgm
 */
export const up = (pgm) => {
  pgm.noTransaction();
  pgm.sql('DROP INDEX CONCURRENTLY IF EXISTS idx_order_items_variant');
  pgm.sql('CREATE INDEX CONCURRENTLY idx_order_items_variant ON order_items (variant_id)');
};

/** @param {import('node-pg-migrate').MigrationBuilder} pgm */
export const down = (pgm) => {
  pgm.noTransaction();
  pgm.sql('DROP INDEX CONCURRENTLY IF EXISTS idx_order_items_variant');
};
