/**
 * carts.order_id is a foreign key without an index: deleting or archiving an order scans every
 * cart. Most carts never become an order, so the index holds only those that did. Built
 * CONCURRENTLY, like the previous one.
 */
export const up = (pgm) => {
  pgm.noTransaction();
  pgm.sql('DROP INDEX CONCURRENTLY IF EXISTS idx_carts_order');
  pgm.sql('CREATE INDEX CONCURRENTLY idx_carts_order ON carts (order_id) WHERE order_id IS NOT NULL');
};

export const down = (pgm) => {
  pgm.noTransaction();
  pgm.sql('DROP INDEX CONCURRENTLY IF EXISTS idx_carts_order');
};
