-- The order-placement baseline: the statement ShopFlow runs for a one-product order (see
-- PLACE_ONE_SQL in src/modules/orders/placement.sql.ts), straight through pgbench: the holder's
-- admission (order_hold_admit: each order comes with a guest session made for it, which holds
-- nothing, so only the address is admitted, and the bench sets no cap on it: see
-- OrderDraft.freshOwner), the guarded reservation of a live variant (a one-variant product's,
-- whose id is the product's), the order at its current price with the line's snapshot (SKU,
-- options, name), its item and its outbox events (order.placed, inventory.changed, and inventory.low_stock when the
-- order takes the variant to the threshold), in one
-- statement that commits on its own. What ShopFlow
-- adds on top (HTTP, validation, the guest session, the cache eviction and the stock broadcast
-- after commit, the relay publishing the events) is what the ratio measures.
\set n random(1, :nproducts)
WITH b AS (
  SELECT id AS variant_id, gen_random_uuid() AS order_id, md5(random()::text) AS guest FROM bench_variant_ids WHERE n = :n
), g AS (
  SELECT order_hold_admit('127.0.0.1', NULL, b.guest, 1, 30, 0, 0, 0, 0) AS admitted FROM b
), r AS (
  UPDATE inventory i
  SET available_quantity = i.available_quantity - 1, reserved_quantity = i.reserved_quantity + 1
  FROM product_variants v JOIN products p ON p.id = v.product_id, b
  WHERE (SELECT admitted FROM g) AND i.variant_id = b.variant_id AND v.id = b.variant_id AND v.deleted_at IS NULL
    AND p.deleted_at IS NULL AND i.available_quantity >= 1
  RETURNING i.product_id, i.variant_id, i.available_quantity, i.reserved_quantity, v.price AS base_price, v.sku, v.options,
            p.name, b.order_id, b.guest,
            (SELECT COALESCE(SUM(o.available_quantity), 0) FROM inventory o
              WHERE o.product_id = i.product_id AND o.variant_id <> i.variant_id)::int AS other_available,
            (SELECT COALESCE(SUM(o.reserved_quantity), 0) FROM inventory o
              WHERE o.product_id = i.product_id AND o.variant_id <> i.variant_id)::int AS other_reserved
), o AS (
  INSERT INTO orders (id, customer_id, guest_session_id, status, total_amount, currency, hold_address)
  SELECT r.order_id, NULL, r.guest, 'pending', r.base_price::bigint * 1, 'BRL', '127.0.0.1' FROM r
  RETURNING id, customer_id, guest_session_id, status, total_amount, currency, created_at, updated_at, created_at::text AS created_key
), i AS (
  INSERT INTO order_items (order_id, product_id, variant_id, sku, options, product_name, quantity, unit_price, customization)
  SELECT r.order_id, r.product_id, r.variant_id, r.sku, r.options, r.name, 1, r.base_price, NULL FROM r
  RETURNING id, product_id, variant_id, sku, options, product_name, quantity, unit_price, customization
), lv AS (
  SELECT jsonb_build_object('productId', r.product_id,
           'availableQuantity', r.available_quantity + r.other_available,
           'reservedQuantity', r.reserved_quantity + r.other_reserved,
           'variants', jsonb_build_array(jsonb_build_object('variantId', r.variant_id,
             'availableQuantity', r.available_quantity, 'reservedQuantity', r.reserved_quantity))) AS level
  FROM r
), e AS (
  INSERT INTO outbox (aggregate_type, aggregate_id, event_type, payload)
  SELECT 'order', o.id::text, 'order.placed', '{"bench": true}'::jsonb || jsonb_build_object('totalAmount', o.total_amount,
           'items', jsonb_build_array(jsonb_build_object('productId', r.product_id, 'variantId', r.variant_id, 'quantity', 1)))
  FROM o, r
  UNION ALL
  SELECT 'product', r.product_id::text, 'inventory.changed', lv.level || '{"bench": true}'::jsonb FROM r, lv
  UNION ALL
  SELECT 'product', r.product_id::text, 'inventory.low_stock',
         jsonb_build_object('productId', r.product_id, 'variantId', r.variant_id,
                            'availableQuantity', r.available_quantity, 'threshold', 5)
  FROM r WHERE r.available_quantity <= 5 AND r.available_quantity + 1 > 5
)
SELECT o.*, (SELECT json_agg(i) FROM i) AS items, lv.level
FROM o, lv;
