-- Up Migration
-- Orders in a final status past the retention move to cold storage (compressed JSON Lines in the
-- archive bucket). This index says which object holds each archived order, with what accounting
-- and the customer's own history need without reading the object.
CREATE TABLE order_archive (
  order_id         UUID PRIMARY KEY,
  customer_id      UUID,
  guest_session_id VARCHAR(64),
  status           VARCHAR(50) NOT NULL,
  total_amount     INTEGER NOT NULL,
  currency         VARCHAR(3) NOT NULL,
  created_at       TIMESTAMPTZ NOT NULL,
  archived_at      TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  object_key       TEXT NOT NULL,
  -- Set when the customer was erased after archival: a restore strips the personal fields.
  erased           BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX idx_order_archive_customer ON order_archive (customer_id, created_at DESC) WHERE customer_id IS NOT NULL;
CREATE INDEX idx_order_archive_created ON order_archive (created_at);

-- What archived (non-cancelled) orders sold, per product: product_stats counts it with the hot
-- orders, so statistics and search ranking do not change when orders are archived.
CREATE TABLE archived_sales (
  product_id   UUID PRIMARY KEY,
  total_orders INTEGER NOT NULL DEFAULT 0,
  total_sold   INTEGER NOT NULL DEFAULT 0
);

DROP MATERIALIZED VIEW product_stats;
CREATE MATERIALIZED VIEW product_stats AS
SELECT
  p.id AS product_id,
  p.name,
  COALESCE(s.total_orders, 0)::integer AS total_orders,
  COALESCE(s.total_sold, 0)::integer AS total_sold,
  r.avg_rating,
  COALESCE(r.review_count, 0)::integer AS review_count,
  (LN(1 + COALESCE(s.total_sold, 0)) * 10
    + COALESCE(r.avg_rating, 0) * LN(1 + COALESCE(r.review_count, 0)))::real AS popularity_score,
  NOW() AS refreshed_at
FROM products p
LEFT JOIN (
  SELECT product_id, SUM(total_orders) AS total_orders, SUM(total_sold) AS total_sold
  FROM (
    SELECT oi.product_id, COUNT(DISTINCT oi.order_id) AS total_orders, SUM(oi.quantity) AS total_sold
    FROM order_items oi
    JOIN orders o ON o.id = oi.order_id
    WHERE o.status <> 'cancelled'
    GROUP BY oi.product_id
    UNION ALL
    SELECT product_id, total_orders, total_sold FROM archived_sales
  ) hot_and_archived
  GROUP BY product_id
) s ON s.product_id = p.id
LEFT JOIN (
  SELECT product_id, ROUND(AVG(rating), 2) AS avg_rating, COUNT(*) AS review_count
  FROM reviews
  GROUP BY product_id
) r ON r.product_id = p.id;
CREATE UNIQUE INDEX idx_product_stats_product ON product_stats(product_id);
CREATE INDEX idx_product_stats_sold ON product_stats(total_sold DESC, product_id);

-- Down Migration
-- Archived orders stay in their objects; their sales leave the statistics.
DROP MATERIALIZED VIEW product_stats;
CREATE MATERIALIZED VIEW product_stats AS
SELECT
  p.id AS product_id,
  p.name,
  COALESCE(s.total_orders, 0)::integer AS total_orders,
  COALESCE(s.total_sold, 0)::integer AS total_sold,
  r.avg_rating,
  COALESCE(r.review_count, 0)::integer AS review_count,
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
DROP TABLE archived_sales;
DROP TABLE order_archive;
