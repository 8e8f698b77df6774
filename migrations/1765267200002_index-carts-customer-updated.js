/**
 * The purge of customer carts (issue 26, item 6: carts not checked out and untouched for
 * CUSTOMER_CART_RETENTION_DAYS): finds them by last change from an index instead of reading every
 * cart. Built concurrently: carts is written on every add to cart.
 * @param {import('node-pg-migrate').MigrationBuilder} pgm
 */
export const up = (pgm) => {
  pgm.noTransaction();
  pgm.sql('DROP INDEX CONCURRENTLY IF EXISTS idx_carts_customer_updated');
  pgm.sql(
    "CREATE INDEX CONCURRENTLY idx_carts_customer_updated ON carts (updated_at) WHERE customer_id IS NOT NULL AND status <> 'checked_out'",
  );
};

/** @param {import('node-pg-migrate').MigrationBuilder} pgm */
export const down = (pgm) => {
  pgm.noTransaction();
  pgm.sql('DROP INDEX CONCURRENTLY IF EXISTS idx_carts_customer_updated');
};
