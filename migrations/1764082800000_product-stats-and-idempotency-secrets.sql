-- Up Migration
-- product_stats: the document's view, corrected. Its single join of products x order_items x
-- reviews multiplied rows (every item counted once per review); here each side is aggregated on
-- its own. Cancelled orders are not counted. A unique index lets REFRESH ... CONCURRENTLY run
-- without blocking readers.
CREATE MATERIALIZED VIEW product_stats AS
SELECT
  p.id AS product_id,
  p.name,
  COALESCE(s.total_orders, 0)::integer AS total_orders,
  COALESCE(s.total_sold, 0)::integer AS total_sold,
  r.avg_rating,
  COALESCE(r.review_count, 0)::integer AS review_count,
  -- Popularity for search ranking: units sold (log-damped) plus rating weighted by review count.
  (LN(1 + COALESCE(s.total_sold, 0)) * 10
    + COALESCE(r.avg_rating, 0) * LN(1 + COALESCE(r.review_count, 0)))::real AS popularity_score,
  NOW() AS refreshed_at
FROM products p
LEFT JOIN (
  SELECT oi.product_id, COUNT(DISTINCT oi.order_id) AS total_orders, SUM(oi.quantity) AS total_sold
  FROM order_items oi
  JOIN orders o ON o.id = oi.order_id
  WHERE o.status <> 'cancelled'
  GROUP BY oi.product_id
) s ON s.product_id = p.id
LEFT JOIN (
  SELECT product_id, ROUND(AVG(rating), 2) AS avg_rating, COUNT(*) AS review_count
  FROM reviews
  GROUP BY product_id
) r ON r.product_id = p.id;

CREATE UNIQUE INDEX idx_product_stats_product ON product_stats(product_id);
CREATE INDEX idx_product_stats_sold ON product_stats(total_sold DESC, product_id);

-- Idempotency keys are stored as their SHA-256 (column key), and a response's secret part (the
-- session token a guest receives) is encrypted with a key derived from the raw idempotency key:
-- a dump of this table replays nothing and leaks no live session.
ALTER TABLE idempotency_keys ADD COLUMN response_secret TEXT;

-- Admin order listing: newest first, optionally by status, keyset-paginated.
CREATE INDEX idx_orders_status_created ON orders(status, created_at DESC, id DESC);
-- A customer's own orders, newest first.
CREATE INDEX idx_orders_customer_created ON orders(customer_id, created_at DESC, id DESC)
  WHERE customer_id IS NOT NULL;

-- Down Migration
DROP INDEX idx_orders_customer_created;
DROP INDEX idx_orders_status_created;
ALTER TABLE idempotency_keys DROP COLUMN response_secret;
DROP MATERIALIZED VIEW product_stats;
