/**
 * The pending boletos one address holds (the boleto caps): partial indexes
 * over pending boleto attempts. Built concurrently: payment_attempts grows with every payment.
 * @param {import('node-pg-migrate').MigrationBuilder} pgm
 */
export const up = (pgm) => {
  pgm.noTransaction();
  pgm.sql('DROP INDEX CONCURRENTLY IF EXISTS idx_payment_attempts_pending_boleto_address');
  pgm.sql(
    "CREATE INDEX CONCURRENTLY idx_payment_attempts_pending_boleto_address ON payment_attempts (hold_address) WHERE status = 'pending' AND method = 'boleto'",
  );
};

/** @param {import('node-pg-migrate').MigrationBuilder} pgm */
export const down = (pgm) => {
  pgm.noTransaction();
  pgm.sql('DROP INDEX CONCURRENTLY IF EXISTS idx_payment_attempts_pending_boleto_address');
};
