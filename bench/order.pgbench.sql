-- The order-placement baseline: the transaction ShopFlow runs for a one-line order, straight
-- through pgbench. Same statements, same round trips: the price read and the guarded reservation
-- in one UPDATE, then the order, its item and its two outbox events (order.placed,
-- inventory.changed) in one INSERT. What ShopFlow adds on top (HTTP, validation, the guest
-- session, the cache eviction and the stock broadcast after commit) is what the ratio measures.
\set n random(1, :nproducts)
BEGIN;
UPDATE inventory i SET available_quantity = i.available_quantity - 1, reserved_quantity = i.reserved_quantity + 1
  FROM products p
  WHERE i.product_id = (SELECT id FROM bench_ids WHERE n = :n) AND p.id = i.product_id
    AND p.deleted_at IS NULL AND i.available_quantity >= 1
  RETURNING i.product_id, i.available_quantity, i.reserved_quantity, p.base_price;
WITH o AS (
  INSERT INTO orders (id, status, total_amount, currency) VALUES (gen_random_uuid(), 'pending', 4990, 'BRL')
  RETURNING id, customer_id, guest_session_id, status, total_amount, currency, created_at, updated_at
), i AS (
  INSERT INTO order_items (order_id, product_id, quantity, unit_price)
  SELECT o.id, (SELECT id FROM bench_ids WHERE n = :n), 1, 4990 FROM o
  RETURNING id, product_id, quantity, unit_price, customization
), e AS (
  INSERT INTO outbox (aggregate_type, aggregate_id, event_type, payload)
  SELECT t.*, '{}'::jsonb FROM o, LATERAL (VALUES ('order', o.id::text, 'order.placed'),
                                                  ('product', (SELECT id FROM bench_ids WHERE n = :n)::text, 'inventory.changed')) t
)
SELECT o.*, (SELECT json_agg(i) FROM i) AS items FROM o;
END;
