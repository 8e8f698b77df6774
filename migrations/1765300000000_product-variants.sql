-- Up Migration
-- Products with variants (issue 28), the expand step. New tables for options and variants, and
-- nullable columns on the busy tables (no default, nothing rewritten): products.slug,
-- inventory.variant_id, order_items' variant and its snapshot, cart_items.variant_id. The
-- application of the previous release keeps working against this schema: it never reads these
-- columns, and every product it creates is given its default variant by the catch-up in
-- 1765300000006 or by `shopflow catalog backfill-variants` (batched, resumable), which also fill
-- the existing products. A product's default variant has the product's own id, so stock rows and
-- order lines of one-variant products need no mapping table.
SET lock_timeout = '3s';
-- Every busy table this migration alters, locked at once and in the order the order statement
-- locks them (stock, then products, then lines): an order in flight waits the few milliseconds
-- this takes instead of deadlocking with it (seen on a 20,000-product run with orders going on).
LOCK TABLE inventory, products, order_items, cart_items IN ACCESS EXCLUSIVE MODE;

-- Up to 3 options per product (Tamanho, Cor, Volume), each with its ordered values.
CREATE TABLE product_options (
  product_id UUID NOT NULL REFERENCES products(id),
  position SMALLINT NOT NULL CHECK (position BETWEEN 0 AND 2),
  name VARCHAR(50) NOT NULL CHECK (btrim(name) <> ''),
  "values" TEXT[] NOT NULL CHECK (cardinality("values") BETWEEN 1 AND 100),
  PRIMARY KEY (product_id, position),
  CONSTRAINT product_options_name_unique UNIQUE (product_id, name)
);

-- What is sold: one row per combination of option values, with its own SKU, price and stock
-- (the stock row is inventory's, keyed by variant). Soft delete keeps order history pointing here.
CREATE TABLE product_variants (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  product_id UUID NOT NULL REFERENCES products(id),
  sku VARCHAR(64) NOT NULL CHECK (sku ~ '^[A-Za-z0-9][A-Za-z0-9._/-]*$'),
  options JSONB NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(options) = 'object'),
  price INTEGER NOT NULL CHECK (price >= 0),
  compare_at_price INTEGER CHECK (compare_at_price >= 0),
  gtin VARCHAR(14) CHECK (gtin ~ '^[0-9]{8,14}$'),
  weight_grams INTEGER CHECK (weight_grams >= 0),
  length_cm NUMERIC(7, 1) CHECK (length_cm >= 0),
  width_cm NUMERIC(7, 1) CHECK (width_cm >= 0),
  height_cm NUMERIC(7, 1) CHECK (height_cm >= 0),
  position INTEGER NOT NULL DEFAULT 0 CHECK (position >= 0),
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  deleted_at TIMESTAMPTZ
);
-- SKUs are unique among live variants (a deleted variant's SKU can be given again).
CREATE UNIQUE INDEX idx_product_variants_sku ON product_variants (sku) WHERE deleted_at IS NULL;
-- Each combination of option values at most once per product.
CREATE UNIQUE INDEX idx_product_variants_combination ON product_variants (product_id, options)
  WHERE deleted_at IS NULL;
CREATE INDEX idx_product_variants_product ON product_variants (product_id, position);
-- Search and listings filter on option values (Cor: Azul).
CREATE INDEX idx_product_variants_options ON product_variants USING GIN (options jsonb_path_ops)
  WHERE deleted_at IS NULL;
CREATE TRIGGER product_variants_updated_at BEFORE UPDATE ON product_variants
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- The product's URL name; unique among live products (index built concurrently in 1765300000005).
ALTER TABLE products ADD COLUMN slug VARCHAR(255)
  CONSTRAINT products_slug_format CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$');

-- Stock moves to the variant: the key becomes variant_id in 1765300000006.
ALTER TABLE inventory ADD COLUMN variant_id UUID;

-- Order and cart lines name a variant; an order line keeps what was sold as it was then.
ALTER TABLE order_items ADD COLUMN variant_id UUID,
  ADD COLUMN sku VARCHAR(64),
  ADD COLUMN options JSONB,
  ADD COLUMN product_name VARCHAR(255);
ALTER TABLE cart_items ADD COLUMN variant_id UUID;
-- The columns are all NULL: the foreign keys are added without a scan (NOT VALID) and still hold
-- for every row written from now on.
ALTER TABLE order_items ADD CONSTRAINT order_items_variant_fk
  FOREIGN KEY (variant_id) REFERENCES product_variants(id) NOT VALID;
ALTER TABLE cart_items ADD CONSTRAINT cart_items_variant_fk
  FOREIGN KEY (variant_id) REFERENCES product_variants(id) NOT VALID;

-- Down Migration
SET lock_timeout = '3s';
ALTER TABLE cart_items DROP CONSTRAINT cart_items_variant_fk;
ALTER TABLE order_items DROP CONSTRAINT order_items_variant_fk;
ALTER TABLE cart_items DROP COLUMN variant_id;
-- The snapshots of variant order lines are lost; product_id, quantity and unit_price stay.
ALTER TABLE order_items DROP COLUMN product_name, DROP COLUMN options, DROP COLUMN sku, DROP COLUMN variant_id;
ALTER TABLE inventory DROP COLUMN variant_id;
ALTER TABLE products DROP COLUMN slug;
DROP TABLE product_variants;
DROP TABLE product_options;
