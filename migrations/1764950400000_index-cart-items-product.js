/**
 * cart_items.product_id is a foreign key without an index: deleting or archiving a product scans
 * every cart line. Built CONCURRENTLY (outside a transaction) so carts stay writable meanwhile; a
 * failed concurrent build leaves an INVALID index, which the up step drops before building again.
 */
export const up = (pgm) => {
  pgm.noTransaction();
  pgm.sql('DROP INDEX CONCURRENTLY IF EXISTS idx_cart_items_product');
  pgm.sql('CREATE INDEX CONCURRENTLY idx_cart_items_product ON cart_items (product_id)');
};

export const down = (pgm) => {
  pgm.noTransaction();
  pgm.sql('DROP INDEX CONCURRENTLY IF EXISTS idx_cart_items_product');
};
