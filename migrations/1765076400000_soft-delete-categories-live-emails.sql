-- Up Migration
-- Categories are soft-deleted like products (they stay for the products and orders that name them).
-- A customer's email is unique among live accounts only: an erased or deleted account's address can
-- register again.
ALTER TABLE categories ADD COLUMN deleted_at TIMESTAMPTZ;
DROP INDEX idx_customers_email;
CREATE UNIQUE INDEX idx_customers_email_live ON customers (lower(email)) WHERE deleted_at IS NULL;
-- Lists of deleted products for the admin, newest deletion first.
CREATE INDEX idx_products_deleted ON products (deleted_at DESC, id DESC) WHERE deleted_at IS NOT NULL;

-- Down Migration
-- Fails if two accounts now share an email (one of them deleted): resolve those first.
DROP INDEX idx_products_deleted;
DROP INDEX idx_customers_email_live;
CREATE UNIQUE INDEX idx_customers_email ON customers (lower(email));
ALTER TABLE categories DROP COLUMN deleted_at;
