-- Up Migration
-- Real payment providers (Stripe first): payment methods with a later settlement (PIX, boleto),
-- refunds, provider webhooks received once each, and orders that end refunded.

-- A refunded order: its money went back (whole). Stock effects happen before (cancelled releases).
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check
  CHECK (status IN ('pending', 'confirmed', 'shipped', 'delivered', 'cancelled', 'refunded'));
-- When an unpaid order gives its stock back, when a payment method says so (a boleto can be paid
-- for days); NULL: the default pending time-to-live from its creation.
ALTER TABLE orders ADD COLUMN payment_expires_at TIMESTAMPTZ;
DROP INDEX idx_orders_status;
CREATE INDEX idx_orders_status ON orders(status) WHERE status NOT IN ('delivered', 'cancelled', 'refunded');

ALTER TABLE payment_attempts DROP CONSTRAINT payment_attempts_status_check;
ALTER TABLE payment_attempts ADD CONSTRAINT payment_attempts_status_check
  CHECK (status IN ('pending', 'succeeded', 'failed', 'refund_required', 'refunded'));
ALTER TABLE payment_attempts
  ADD COLUMN method VARCHAR(20) NOT NULL DEFAULT 'card',
  ADD COLUMN refunded_amount INTEGER NOT NULL DEFAULT 0,
  -- What the payer needs to finish (PIX code, boleto voucher, card authentication), as answered.
  ADD COLUMN next_action JSONB,
  -- Until when the payer can still pay (PIX, boleto).
  ADD COLUMN expires_at TIMESTAMPTZ,
  -- Why a person must look at it (the amount paid differs from the order's, ...).
  ADD COLUMN attention_reason TEXT,
  -- This attempt's money confirmed the order (any other success for it is refunded).
  ADD COLUMN confirmed_order BOOLEAN NOT NULL DEFAULT false,
  ADD CONSTRAINT payment_attempts_method_check CHECK (method IN ('card', 'pix', 'boleto')),
  ADD CONSTRAINT payment_attempts_refunded_range CHECK (refunded_amount >= 0 AND refunded_amount <= amount);
-- Before this migration a success always confirmed its order (or was flagged refund_required).
UPDATE payment_attempts SET confirmed_order = true WHERE status = 'succeeded';
-- A provider's payment belongs to one attempt: webhooks find the attempt by it.
CREATE UNIQUE INDEX idx_payment_attempts_reference ON payment_attempts (provider, provider_reference)
  WHERE provider_reference IS NOT NULL;
-- The reconciliation job reads pending attempts by age.
CREATE INDEX idx_payment_attempts_pending ON payment_attempts (created_at) WHERE status = 'pending';
DROP INDEX idx_payment_attempts_refund_required;
CREATE INDEX idx_payment_attempts_attention ON payment_attempts (created_at)
  WHERE status = 'refund_required' OR attention_reason IS NOT NULL;

CREATE TABLE payment_refunds (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  attempt_id UUID NOT NULL REFERENCES payment_attempts(id) ON DELETE CASCADE,
  order_id UUID NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
  amount INTEGER NOT NULL CHECK (amount > 0),
  status VARCHAR(20) NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
  provider_reference VARCHAR(255),
  reason VARCHAR(100) NOT NULL,
  -- Sent to the provider as its idempotency key: a retried refund is never paid out twice.
  idempotency_key VARCHAR(255) NOT NULL UNIQUE,
  -- SHA-256 of what was asked with the key (admin refunds): the same key with another request is refused.
  request_hash VARCHAR(64),
  failure_reason TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_payment_refunds_attempt ON payment_refunds (attempt_id);
CREATE INDEX idx_payment_refunds_order ON payment_refunds (order_id);

-- Provider webhook events, each processed once: a delivery whose id is here and processed is
-- acknowledged without effect.
CREATE TABLE payment_events (
  provider VARCHAR(50) NOT NULL,
  event_id VARCHAR(255) NOT NULL,
  type VARCHAR(100) NOT NULL,
  received_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  processed_at TIMESTAMPTZ,
  PRIMARY KEY (provider, event_id)
);
CREATE INDEX idx_payment_events_received ON payment_events (received_at);

-- Refunded orders are not sales: product_stats leaves them out like cancelled ones.
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
    WHERE o.status NOT IN ('cancelled', 'refunded')
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
-- Refunded orders become cancelled (their money went back; the status before this migration
-- that says the order did not sell); refunded attempts become succeeded, their refunds and the
-- webhook log are dropped, the method columns with them.
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

DROP TABLE payment_events;
DROP TABLE payment_refunds;
DROP INDEX idx_payment_attempts_attention;
CREATE INDEX idx_payment_attempts_refund_required ON payment_attempts (created_at)
  WHERE status = 'refund_required';
DROP INDEX idx_payment_attempts_pending;
DROP INDEX idx_payment_attempts_reference;
ALTER TABLE payment_attempts
  DROP COLUMN method, DROP COLUMN refunded_amount, DROP COLUMN next_action, DROP COLUMN expires_at,
  DROP COLUMN attention_reason, DROP COLUMN confirmed_order;
UPDATE payment_attempts SET status = 'succeeded' WHERE status = 'refunded';
ALTER TABLE payment_attempts DROP CONSTRAINT payment_attempts_status_check;
ALTER TABLE payment_attempts ADD CONSTRAINT payment_attempts_status_check
  CHECK (status IN ('pending', 'succeeded', 'failed', 'refund_required'));

DROP INDEX idx_orders_status;
CREATE INDEX idx_orders_status ON orders(status) WHERE status NOT IN ('delivered', 'cancelled');
ALTER TABLE orders DROP COLUMN payment_expires_at;
UPDATE orders SET status = 'cancelled' WHERE status = 'refunded';
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check
  CHECK (status IN ('pending', 'confirmed', 'shipped', 'delivered', 'cancelled'));
