/**
 * A product's stock rows (one per variant) once product_id is no longer the key; the foreign key's index.
 * Built concurrently: inventory is written on every order and stock change.
 * @param {import('node-pg-migrate').MigrationBuilder} pgm
 */
export const up = (pgm) => {
  pgm.noTransaction();
  pgm.sql('DROP INDEX CONCURRENTLY IF EXISTS idx_inventory_product');
  pgm.sql('CREATE INDEX CONCURRENTLY idx_inventory_product ON inventory (product_id)');
};

/** @param {import('node-pg-migrate').MigrationBuilder} pgm */
export const down = (pgm) => {
  pgm.noTransaction();
  pgm.sql('DROP INDEX CONCURRENTLY IF EXISTS idx_inventory_product');
};
