-- Up Migration
-- Card payments in installments (parcelamento, issue 31): the plan the payer chose is kept on the
-- attempt: the count, the (largest) installment, the plan's total (what was charged: the order's
-- total, plus interest on a plan with interest) and whether it is interest-free. Nullable columns
-- without defaults: instant on a busy table, and NULL on attempts made without a plan.
SET lock_timeout = '3s';
ALTER TABLE payment_attempts
  ADD COLUMN installments smallint CHECK (installments BETWEEN 1 AND 48),
  ADD COLUMN installment_amount integer CHECK (installment_amount > 0),
  ADD COLUMN installment_total integer CHECK (installment_total > 0),
  ADD COLUMN installment_interest_free boolean;

-- Down Migration
SET lock_timeout = '3s';
ALTER TABLE payment_attempts
  DROP COLUMN installments,
  DROP COLUMN installment_amount,
  DROP COLUMN installment_total,
  DROP COLUMN installment_interest_free;
