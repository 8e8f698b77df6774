-- The order-placement baseline: the work ShopFlow does for a one-line order (price lookup, guarded
-- reservation, order row, item row, outbox event) in one transaction, straight through pgbench.
-- The three inserts share one statement here (fewer round trips than the app: a strict baseline).
\set n random(1, :nproducts)
BEGIN;
SELECT p.id, p.base_price FROM bench_ids b JOIN products p ON p.id = b.id WHERE b.n = :n AND p.deleted_at IS NULL;
UPDATE inventory SET available_quantity = available_quantity - 1, reserved_quantity = reserved_quantity + 1
  WHERE product_id = (SELECT id FROM bench_ids WHERE n = :n) AND available_quantity >= 1;
WITH o AS (
  INSERT INTO orders (status, total_amount, currency) VALUES ('pending', 4990, 'BRL') RETURNING id
), i AS (
  INSERT INTO order_items (order_id, product_id, quantity, unit_price)
  SELECT o.id, (SELECT id FROM bench_ids WHERE n = :n), 1, 4990 FROM o
)
INSERT INTO outbox (aggregate_type, aggregate_id, event_type, payload) SELECT 'order', o.id::text, 'order.placed', '{}' FROM o;
END;
