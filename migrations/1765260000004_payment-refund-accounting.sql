-- Up Migration
-- Refund accounting that cannot count twice (issue 26): an attempt's refunded amount is derived
-- from its succeeded refunds and the provider's reported total (kept here, the largest reported),
-- instead of adding each report to it. A constant default: nothing is rewritten.
SET lock_timeout = '3s';
ALTER TABLE payment_attempts ADD COLUMN provider_refunded INT NOT NULL DEFAULT 0;
-- Attempts refunded so far keep the amount they show now as the provider's floor (few rows: only
-- attempts with a refund), so that no refunded order moves back on its next refund event.
UPDATE payment_attempts SET provider_refunded = refunded_amount WHERE refunded_amount > 0;

-- Down Migration
-- The refunded amount itself is kept: only the provider's reported total is dropped.
ALTER TABLE payment_attempts DROP COLUMN provider_refunded;
