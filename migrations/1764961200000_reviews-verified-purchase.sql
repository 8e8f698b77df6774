-- Up Migration
-- Reviews by customers who received the product (a delivered order holding it) are marked as
-- verified purchases and listed first.
ALTER TABLE reviews ADD COLUMN verified_purchase BOOLEAN NOT NULL DEFAULT false;
CREATE INDEX idx_reviews_product_listing ON reviews (product_id, verified_purchase DESC, created_at DESC, id DESC);

-- Down Migration
DROP INDEX idx_reviews_product_listing;
ALTER TABLE reviews DROP COLUMN verified_purchase;
