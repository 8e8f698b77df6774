-- The order-placement baseline: the statement ShopFlow runs for a one-product order (see
-- PLACE_ONE_SQL in src/modules/orders/orders.sql.ts), straight through pgbench: the holder's
-- admission (order_hold_admit: each order comes with a guest session made for it, which holds
-- nothing, so only the address is admitted, and the bench sets no cap on it: see
-- OrderDraft.freshOwner), the guarded reservation of a live product, the order at its current
-- price, its item and its two outbox events (order.placed, inventory.changed), in one statement
-- that commits on its own. What ShopFlow
-- adds on top (HTTP, validation, the guest session, the cache eviction and the stock broadcast
-- after commit, the relay publishing the events) is what the ratio measures.
\set n random(1, :nproducts)
WITH b AS (
  SELECT id AS product_id, gen_random_uuid() AS order_id, md5(random()::text) AS guest FROM bench_ids WHERE n = :n
), g AS (
  SELECT order_hold_admit('127.0.0.1', NULL, b.guest, 1, 30, 0, 0, 0, 0) AS admitted FROM b
), r AS (
  UPDATE inventory i
  SET available_quantity = i.available_quantity - 1, reserved_quantity = i.reserved_quantity + 1
  FROM products p, b
  WHERE (SELECT admitted FROM g) AND i.product_id = b.product_id AND p.id = b.product_id AND p.deleted_at IS NULL
    AND i.available_quantity >= 1
  RETURNING i.product_id, i.available_quantity, i.reserved_quantity, p.base_price, b.order_id, b.guest
), o AS (
  INSERT INTO orders (id, customer_id, guest_session_id, status, total_amount, currency, hold_address)
  SELECT r.order_id, NULL, r.guest, 'pending', r.base_price::bigint * 1, 'BRL', '127.0.0.1' FROM r
  RETURNING id, customer_id, guest_session_id, status, total_amount, currency, created_at, updated_at, created_at::text AS created_key
), i AS (
  INSERT INTO order_items (order_id, product_id, quantity, unit_price, customization)
  SELECT r.order_id, r.product_id, 1, r.base_price, NULL FROM r
  RETURNING id, product_id, quantity, unit_price, customization
), e AS (
  INSERT INTO outbox (aggregate_type, aggregate_id, event_type, payload)
  SELECT 'order', o.id::text, 'order.placed', '{"bench": true}'::jsonb || jsonb_build_object('totalAmount', o.total_amount) FROM o
  UNION ALL
  SELECT 'product', r.product_id::text, 'inventory.changed',
         jsonb_build_object('productId', r.product_id, 'availableQuantity', r.available_quantity, 'reservedQuantity', r.reserved_quantity, 'bench', true)
  FROM r
)
SELECT o.*, (SELECT json_agg(i) FROM i) AS items,
       json_build_object('productId', r.product_id, 'availableQuantity', r.available_quantity, 'reservedQuantity', r.reserved_quantity) AS level
FROM o, r;
