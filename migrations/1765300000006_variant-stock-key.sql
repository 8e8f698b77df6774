-- Up Migration
-- Products with variants (issue 28), the switch: stock is keyed by variant. Run after
-- `shopflow catalog backfill-variants` on a big database (it gives every product its default
-- variant and every stock row its variant, a few thousand rows per transaction, resumable); the
-- catch-up below then finds nothing left to do. On a small or empty database it does everything.
-- The unique index on inventory.variant_id was built concurrently (1765300000001), so the key
-- changes with brief catalog-only locks.
SET lock_timeout = '3s';

-- The default variant of a product: the product's own id, its price, no options, a SKU derived
-- from the id (the store renames it at will).
CREATE FUNCTION product_default_sku(p_id UUID) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
  SELECT 'SF-' || upper(substr(replace(p_id::text, '-', ''), 1, 16))
$$;

-- Catch-up: products and stock rows the batched backfill has not reached (or written by the
-- previous release since).
INSERT INTO product_variants (id, product_id, sku, options, price, position, created_at)
SELECT p.id, p.id, product_default_sku(p.id), '{}'::jsonb, p.base_price, 0, p.created_at
FROM products p
WHERE NOT EXISTS (SELECT 1 FROM product_variants v WHERE v.product_id = p.id)
ON CONFLICT DO NOTHING;
UPDATE inventory SET variant_id = product_id WHERE variant_id IS NULL;

-- The previous release, while it still runs, inserts stock rows without a variant (a new
-- product): they get the product's default variant. Dropped once no such release is left.
CREATE FUNCTION inventory_default_variant() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO product_variants (id, product_id, sku, options, price, position)
  SELECT p.id, p.id, product_default_sku(p.id), '{}'::jsonb, p.base_price, 0
  FROM products p WHERE p.id = NEW.product_id
  ON CONFLICT DO NOTHING;
  NEW.variant_id := NEW.product_id;
  RETURN NEW;
END;
$$;
CREATE TRIGGER inventory_default_variant BEFORE INSERT ON inventory
  FOR EACH ROW WHEN (NEW.variant_id IS NULL) EXECUTE FUNCTION inventory_default_variant();

-- NOT NULL through a validated CHECK (the SET NOT NULL then skips its own scan).
ALTER TABLE inventory ADD CONSTRAINT inventory_variant_present CHECK (variant_id IS NOT NULL) NOT VALID;
ALTER TABLE inventory VALIDATE CONSTRAINT inventory_variant_present;
ALTER TABLE inventory ALTER COLUMN variant_id SET NOT NULL;
ALTER TABLE inventory DROP CONSTRAINT inventory_variant_present;
-- The key: one stock row per variant (the index built concurrently becomes the primary key).
ALTER TABLE inventory DROP CONSTRAINT inventory_pkey;
ALTER TABLE inventory ADD CONSTRAINT inventory_pkey PRIMARY KEY USING INDEX idx_inventory_variant;
ALTER TABLE inventory ADD CONSTRAINT inventory_variant_fk
  FOREIGN KEY (variant_id) REFERENCES product_variants(id) NOT VALID;
ALTER TABLE inventory VALIDATE CONSTRAINT inventory_variant_fk;

-- Down Migration
-- Back to one stock row per product: a product with several variants keeps the sum of their
-- stock on its default row (the others are removed). Variants themselves stay (1765300000000
-- drops them).
SET lock_timeout = '3s';
ALTER TABLE inventory DROP CONSTRAINT inventory_variant_fk;
DROP TRIGGER inventory_default_variant ON inventory;
DROP FUNCTION inventory_default_variant();
WITH sums AS (
  SELECT product_id, SUM(available_quantity)::int AS a, SUM(reserved_quantity)::int AS r
  FROM inventory GROUP BY product_id HAVING COUNT(*) > 1
), gone AS (
  DELETE FROM inventory i USING sums s WHERE i.product_id = s.product_id AND i.variant_id <> i.product_id
  RETURNING i.product_id
)
UPDATE inventory i SET available_quantity = s.a, reserved_quantity = s.r
FROM sums s WHERE i.product_id = s.product_id AND i.variant_id = i.product_id;
ALTER TABLE inventory DROP CONSTRAINT inventory_pkey;
ALTER TABLE inventory ADD CONSTRAINT inventory_pkey PRIMARY KEY (product_id);
CREATE UNIQUE INDEX idx_inventory_variant ON inventory (variant_id);
ALTER TABLE inventory ALTER COLUMN variant_id DROP NOT NULL;
DROP FUNCTION product_default_sku(UUID);
