-- Up Migration
-- A charge that succeeded for an order that could no longer be confirmed (cancelled or expired
-- meanwhile) is kept as 'refund_required' instead of being lost, and listed for the back office.
ALTER TABLE payment_attempts DROP CONSTRAINT payment_attempts_status_check;
ALTER TABLE payment_attempts ADD CONSTRAINT payment_attempts_status_check
  CHECK (status IN ('pending', 'succeeded', 'failed', 'refund_required'));
CREATE INDEX idx_payment_attempts_refund_required ON payment_attempts (created_at)
  WHERE status = 'refund_required';

-- Down Migration
-- The money was taken in both cases: such attempts go back to 'succeeded' (the status they would
-- have had before this migration), keeping their failure_reason as the trace.
DROP INDEX idx_payment_attempts_refund_required;
UPDATE payment_attempts SET status = 'succeeded' WHERE status = 'refund_required';
ALTER TABLE payment_attempts DROP CONSTRAINT payment_attempts_status_check;
ALTER TABLE payment_attempts ADD CONSTRAINT payment_attempts_status_check
  CHECK (status IN ('pending', 'succeeded', 'failed'));
