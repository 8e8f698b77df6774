/**
 * The unpaid orders one address holds (order_hold_admit): a small partial index over pending
 * orders. Built concurrently: orders is big and hot.
 * @param {import('node-pg-migrate').MigrationBuilder} pgm
 */
export const up = (pgm) => {
  pgm.noTransaction();
  pgm.sql('DROP INDEX CONCURRENTLY IF EXISTS idx_orders_hold_address');
  pgm.sql(
    "CREATE INDEX CONCURRENTLY idx_orders_hold_address ON orders (hold_address) WHERE status = 'pending'",
  );
};

/** @param {import('node-pg-migrate').MigrationBuilder} pgm */
export const down = (pgm) => {
  pgm.noTransaction();
  pgm.sql('DROP INDEX CONCURRENTLY IF EXISTS idx_orders_hold_address');
};
