-- Up Migration
-- A keyed order of one product claims its key in the statement that places it: the claim
-- (in_progress) names the order it placed, and the answer is stored by the next statement. A
-- claim with an order and no answer (the process stopped between the two) is answered from the
-- order; one without an order is free, as before. Adding a nullable column rewrites nothing.
ALTER TABLE idempotency_keys ADD COLUMN order_id UUID;

-- Down Migration
-- The column only holds what in-flight requests need: nothing of value is lost.
ALTER TABLE idempotency_keys DROP COLUMN order_id;
