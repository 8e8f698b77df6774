import type { Queryable } from '../../platform/db/pool.ts';

/** What an order or cart line keeps of a live variant, read when the line is priced. */
export interface VariantSnapshot {
  id: string;
  productId: string;
  price: number;
  sku: string;
  options: Record<string, string>;
  name: string;
}

export interface VariantRow {
  id: string;
  product_id: string;
  sku: string;
  options: Record<string, string>;
  price: number;
  compare_at_price: number | null;
  gtin: string | null;
  weight_grams: number | null;
  length_cm: string | null;
  width_cm: string | null;
  height_cm: string | null;
  position: number;
  available_quantity: number;
}

export interface OptionRow {
  name: string;
  values: string[];
}

export interface NewVariant {
  id: string;
  sku: string;
  options: Record<string, string>;
  price: number;
  compareAtPrice: number | null;
  gtin: string | null;
  weightGrams: number | null;
  dimensionsCm: { length: number; width: number; height: number } | null;
  position: number;
}

const SNAPSHOT = `v.id, v.product_id AS "productId", v.price, v.sku, v.options, p.name`;

export const VARIANT_COLUMNS = `v.id, v.product_id, v.sku, v.options, v.price, v.compare_at_price, v.gtin,
  v.weight_grams, v.length_cm::text, v.width_cm::text, v.height_cm::text, v.position,
  COALESCE(i.available_quantity, 0) AS available_quantity`;

export const variantsSql = {
  /** Live variants (of live products) by id. */
  async liveByIds(db: Queryable, ids: string[]): Promise<Map<string, VariantSnapshot>> {
    const { rows } = await db.query<VariantSnapshot>({
      name: 'variants_live_by_ids',
      text: `SELECT ${SNAPSHOT} FROM product_variants v JOIN products p ON p.id = v.product_id
             WHERE v.id = ANY($1::uuid[]) AND v.deleted_at IS NULL AND p.deleted_at IS NULL`,
      values: [ids],
    });
    return new Map(rows.map((r) => [r.id, r]));
  },

  /** The live variants of live products, in position order. */
  async liveOfProducts(db: Queryable, productIds: string[]): Promise<Map<string, VariantSnapshot[]>> {
    const { rows } = await db.query<VariantSnapshot>({
      name: 'variants_live_of_products',
      text: `SELECT ${SNAPSHOT} FROM product_variants v JOIN products p ON p.id = v.product_id
             WHERE v.product_id = ANY($1::uuid[]) AND v.deleted_at IS NULL AND p.deleted_at IS NULL
             ORDER BY v.product_id, v.position, v.id`,
      values: [productIds],
    });
    const out = new Map<string, VariantSnapshot[]>();
    for (const r of rows) out.set(r.productId, [...(out.get(r.productId) ?? []), r]);
    return out;
  },

  /** A product's live variants with their stock, in position order. */
  async ofProduct(db: Queryable, productId: string): Promise<VariantRow[]> {
    const { rows } = await db.query<VariantRow>({
      name: 'variants_of_product',
      text: `SELECT ${VARIANT_COLUMNS} FROM product_variants v LEFT JOIN inventory i ON i.variant_id = v.id
             WHERE v.product_id = $1 AND v.deleted_at IS NULL ORDER BY v.position, v.id`,
      values: [productId],
    });
    return rows;
  },

  async optionsOf(db: Queryable, productId: string): Promise<OptionRow[]> {
    const { rows } = await db.query<OptionRow>({
      name: 'variants_options_of',
      text: `SELECT name, "values" FROM product_options WHERE product_id = $1 ORDER BY position`,
      values: [productId],
    });
    return rows;
  },

  async insertOptions(db: Queryable, productId: string, options: OptionRow[]): Promise<void> {
    if (options.length === 0) return;
    await db.query(
      `INSERT INTO product_options (product_id, position, name, "values")
       SELECT $1, t.n - 1, t.name, ARRAY(SELECT jsonb_array_elements_text(t.vals))
       FROM unnest($2::text[], $3::jsonb[]) WITH ORDINALITY AS t(name, vals, n)`,
      [productId, options.map((o) => o.name), options.map((o) => JSON.stringify(o.values))],
    );
  },

  /** A product's options replaced by these, in order (PUT /admin/products/:id/options). */
  async replaceOptions(db: Queryable, productId: string, options: OptionRow[]): Promise<void> {
    await db.query('DELETE FROM product_options WHERE product_id = $1', [productId]);
    await variantsSql.insertOptions(db, productId, options);
  },

  /**
   * New option values for live variants of a product. Two steps: first each to a value of its own
   * (its id), so that values traded between variants (P and M swapped) never meet in the unique
   * index of combinations halfway through; then to the new values.
   */
  async setVariantOptions(
    db: Queryable,
    productId: string,
    changes: { id: string; options: Record<string, string> }[],
  ): Promise<void> {
    if (changes.length === 0) return;
    const ids = changes.map((c) => c.id);
    await db.query(
      `UPDATE product_variants SET options = jsonb_build_object('', id::text)
       WHERE product_id = $1 AND id = ANY($2::uuid[]) AND deleted_at IS NULL`,
      [productId, ids],
    );
    await db.query(
      `UPDATE product_variants v SET options = t.options
       FROM unnest($2::uuid[], $3::jsonb[]) AS t(id, options)
       WHERE v.product_id = $1 AND v.id = t.id AND v.deleted_at IS NULL`,
      [productId, ids, changes.map((c) => JSON.stringify(c.options))],
    );
  },

  /** Marks a product changed (its updated_at, what the search index's reconciliation compares). */
  async touchProduct(db: Queryable, productId: string): Promise<void> {
    await db.query('UPDATE products SET updated_at = NOW() WHERE id = $1', [productId]);
  },

  async insertVariants(db: Queryable, productId: string, variants: NewVariant[]): Promise<void> {
    await db.query(
      `INSERT INTO product_variants (id, product_id, sku, options, price, compare_at_price, gtin, weight_grams,
                                     length_cm, width_cm, height_cm, position)
       SELECT t.id, $1, t.sku, t.options, t.price, t.compare_at, t.gtin, t.weight, t.l, t.w, t.h, t.position
       FROM unnest($2::uuid[], $3::text[], $4::jsonb[], $5::int[], $6::int[], $7::text[], $8::int[],
                   $9::numeric[], $10::numeric[], $11::numeric[], $12::int[])
            AS t(id, sku, options, price, compare_at, gtin, weight, l, w, h, position)`,
      [
        productId,
        variants.map((v) => v.id),
        variants.map((v) => v.sku),
        variants.map((v) => JSON.stringify(v.options)),
        variants.map((v) => v.price),
        variants.map((v) => v.compareAtPrice),
        variants.map((v) => v.gtin),
        variants.map((v) => v.weightGrams),
        variants.map((v) => v.dimensionsCm?.length ?? null),
        variants.map((v) => v.dimensionsCm?.width ?? null),
        variants.map((v) => v.dimensionsCm?.height ?? null),
        variants.map((v) => v.position),
      ],
    );
  },

  /** Updates the given fields of a live variant; its product id when it exists. */
  async updateVariant(
    db: Queryable,
    id: string,
    p: {
      sku?: string;
      price?: number;
      compareAtPrice?: number | null;
      gtin?: string | null;
      weightGrams?: number | null;
      dimensionsCm?: { length: number; width: number; height: number } | null;
      position?: number;
    },
  ): Promise<string | undefined> {
    const { rows } = await db.query<{ product_id: string }>(
      `UPDATE product_variants v SET
         sku = COALESCE($2, sku),
         price = COALESCE($3, price),
         compare_at_price = CASE WHEN $4 THEN $5::int ELSE compare_at_price END,
         gtin = CASE WHEN $6 THEN $7 ELSE gtin END,
         weight_grams = CASE WHEN $8 THEN $9::int ELSE weight_grams END,
         length_cm = CASE WHEN $10 THEN $11::numeric ELSE length_cm END,
         width_cm = CASE WHEN $10 THEN $12::numeric ELSE width_cm END,
         height_cm = CASE WHEN $10 THEN $13::numeric ELSE height_cm END,
         position = COALESCE($14, position)
       FROM products p
       WHERE v.id = $1 AND v.deleted_at IS NULL AND p.id = v.product_id AND p.deleted_at IS NULL
       RETURNING v.product_id`,
      [
        id,
        p.sku ?? null,
        p.price ?? null,
        p.compareAtPrice !== undefined,
        p.compareAtPrice ?? null,
        p.gtin !== undefined,
        p.gtin ?? null,
        p.weightGrams !== undefined,
        p.weightGrams ?? null,
        p.dimensionsCm !== undefined,
        p.dimensionsCm?.length ?? null,
        p.dimensionsCm?.width ?? null,
        p.dimensionsCm?.height ?? null,
        p.position ?? null,
      ],
    );
    return rows[0]?.product_id;
  },

  /** Soft-deletes a live variant, not the last live one of its product; its product id. */
  async softDelete(db: Queryable, id: string): Promise<{ productId: string } | 'last' | undefined> {
    const { rows } = await db.query<{ product_id: string; live: number }>(
      `SELECT v.product_id, (SELECT COUNT(*)::int FROM product_variants w
                              WHERE w.product_id = v.product_id AND w.deleted_at IS NULL) AS live
       FROM product_variants v WHERE v.id = $1 AND v.deleted_at IS NULL FOR UPDATE`,
      [id],
    );
    const row = rows[0];
    if (!row) return undefined;
    if (row.live <= 1) return 'last';
    await db.query('UPDATE product_variants SET deleted_at = NOW() WHERE id = $1', [id]);
    return { productId: row.product_id };
  },

  /**
   * Keeps products.base_price the lowest live variant price (what listings sort and filter on,
   * and what a one-variant product always showed).
   */
  async syncBasePrice(db: Queryable, productId: string): Promise<void> {
    await db.query(
      `UPDATE products p SET base_price = m.price
       FROM (SELECT MIN(price) AS price FROM product_variants WHERE product_id = $1 AND deleted_at IS NULL) m
       WHERE p.id = $1 AND m.price IS NOT NULL AND p.base_price <> m.price`,
      [productId],
    );
  },

  /** The price of a one-variant product follows its base price (PATCH basePrice, clients from before variants). */
  async setOnlyVariantPrice(db: Queryable, productId: string, price: number): Promise<void> {
    await db.query(
      `UPDATE product_variants SET price = $2
       WHERE product_id = $1 AND deleted_at IS NULL
         AND (SELECT COUNT(*) FROM product_variants WHERE product_id = $1 AND deleted_at IS NULL) = 1`,
      [productId, price],
    );
  },

  async setSlug(db: Queryable, productId: string, slug: string): Promise<void> {
    await db.query('UPDATE products SET slug = $2 WHERE id = $1', [productId, slug]);
  },

  /** Whether a live product other than `except` has this slug. */
  async slugTaken(db: Queryable, slug: string, except: string | null): Promise<boolean> {
    const { rowCount } = await db.query(
      'SELECT 1 FROM products WHERE slug = $1 AND deleted_at IS NULL AND ($2::uuid IS NULL OR id <> $2)',
      [slug, except],
    );
    return (rowCount ?? 0) > 0;
  },

  /** The live product with a live variant of this SKU (as typed, or upper-cased), via idx_product_variants_sku. */
  async productIdBySku(db: Queryable, sku: string): Promise<string | undefined> {
    const { rows } = await db.query<{ product_id: string }>({
      name: 'catalog_product_by_sku',
      text: `SELECT v.product_id FROM product_variants v JOIN products p ON p.id = v.product_id
             WHERE v.sku = ANY(ARRAY[$1, upper($1)]) AND v.deleted_at IS NULL AND p.deleted_at IS NULL
             LIMIT 1`,
      values: [sku],
    });
    return rows[0]?.product_id;
  },

  async idBySlug(db: Queryable, slug: string): Promise<string | undefined> {
    const { rows } = await db.query<{ id: string }>({
      name: 'catalog_id_by_slug',
      text: 'SELECT id FROM products WHERE slug = $1 AND deleted_at IS NULL',
      values: [slug],
    });
    return rows[0]?.id;
  },
};
