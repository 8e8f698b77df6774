/**
 * The pending boletos one payer document holds (the boleto caps): partial indexes
 * over pending boleto attempts. Built concurrently: payment_attempts grows with every payment.
 * @param {import('node-pg-migrate').MigrationBuilder} pgm
 */
export const up = (pgm) => {
  pgm.noTransaction();
  pgm.sql('DROP INDEX CONCURRENTLY IF EXISTS idx_payment_attempts_pending_payer');
  pgm.sql(
    "CREATE INDEX CONCURRENTLY idx_payment_attempts_pending_payer ON payment_attempts (payer_key) WHERE status = 'pending' AND method = 'boleto'",
  );
};

/** @param {import('node-pg-migrate').MigrationBuilder} pgm */
export const down = (pgm) => {
  pgm.noTransaction();
  pgm.sql('DROP INDEX CONCURRENTLY IF EXISTS idx_payment_attempts_pending_payer');
};
