/**
 * Stock per variant (issue 28): the unique index that becomes inventory's primary key in 1765300000006.
 * Built concurrently: inventory is written on every order and stock change.
 * @param {import('node-pg-migrate').MigrationBuilder} pgm
 */
export const up = (pgm) => {
  pgm.noTransaction();
  pgm.sql('DROP INDEX CONCURRENTLY IF EXISTS idx_inventory_variant');
  pgm.sql('CREATE UNIQUE INDEX CONCURRENTLY idx_inventory_variant ON inventory (variant_id)');
};

/** @param {import('node-pg-migrate').MigrationBuilder} pgm */
export const down = (pgm) => {
  pgm.noTransaction();
  pgm.sql('DROP INDEX CONCURRENTLY IF EXISTS idx_inventory_variant');
};
