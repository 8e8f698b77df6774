-- Up Migration
-- An image key is unique per product (idx_product_images_product_key, 1766000000100), no longer
-- over the whole table: the same stored original may be filed under several products.
SET lock_timeout = '3s';
ALTER TABLE product_images DROP CONSTRAINT product_images_key_key;

-- Down Migration
-- Fails while a key is filed under more than one product: detach the extra rows first.
SET lock_timeout = '3s';
ALTER TABLE product_images ADD CONSTRAINT product_images_key_key UNIQUE (key);
