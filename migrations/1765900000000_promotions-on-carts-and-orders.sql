-- Up Migration
-- Promotions reach carts and orders (issue 30). New nullable columns, or a constant default: no
-- table is rewritten (PostgreSQL 11+), and each ALTER waits at most 3 s for its lock.
--
-- carts.promotion_codes: the codes a shopper applied (upper-cased), priced again on every read.
-- orders.discounts: the promotions on the order as placed (a snapshot: [{promotionId, code?, name,
--   amount, target}]); orders.discount_amount (from the Brazilian checkout) holds the item discounts.
-- order_items.discount_amount: the line's share of the item discounts, to the centavo (the shares
--   add up to orders.discount_amount): what a line refund gives back is what was paid for it.
-- payment_refunds.items: the order lines (and units) a refund was for, when it was for lines.
SET lock_timeout = '3s';
ALTER TABLE carts ADD COLUMN promotion_codes TEXT[] NOT NULL DEFAULT '{}';
ALTER TABLE orders ADD COLUMN discounts JSONB;
ALTER TABLE order_items ADD COLUMN discount_amount INT;
ALTER TABLE payment_refunds ADD COLUMN items JSONB;

-- Down Migration
-- The codes on carts, the discount snapshots and the line shares are lost; the order totals keep
-- what was charged.
SET lock_timeout = '3s';
ALTER TABLE payment_refunds DROP COLUMN items;
ALTER TABLE order_items DROP COLUMN discount_amount;
ALTER TABLE orders DROP COLUMN discounts;
ALTER TABLE carts DROP COLUMN promotion_codes;
