/**
 * The catalog CSV's SQL: the export's pages, the import's reads of what exists, and its batched
 * writes (one statement per kind of change per batch, arrays unnested: parameterized, whatever
 * the batch's size). Stock is read here (an allowed read, ownership.ts) and written by the
 * inventory module's service.
 */
import type { Queryable } from '../../platform/db/pool.ts';

export interface ExportRow {
  slug: string;
  name: string;
  description: string | null;
  category_id: string | null;
  tags: string[];
  option_names: string[];
  images: string[];
  sku: string;
  options: Record<string, string>;
  price: number;
  compare_at_price: number | null;
  available_quantity: number;
  gtin: string | null;
  weight_grams: number | null;
  length_cm: string | null;
  width_cm: string | null;
  height_cm: string | null;
  position: number;
}

export interface ExistingVariant {
  id: string;
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
  available_quantity: number | null;
}

export interface ExistingProduct {
  id: string;
  slug: string;
  name: string;
  description: string | null;
  category_id: string | null;
  tags: string[];
  options: { name: string; values: string[] }[];
  images: string[];
  variants: ExistingVariant[];
}

export interface ProductWrite {
  id: string;
  slug: string;
  name: string;
  description: string | null;
  categoryId: string | null;
  tags: string[];
  basePrice: number;
}

export interface VariantWrite {
  id: string;
  productId: string;
  sku: string;
  options: Record<string, string>;
  price: number;
  compareAtPrice: number | null;
  gtin: string | null;
  weightGrams: number | null;
  dimensionsCm: { length: number; width: number; height: number } | null;
  position: number;
}

export interface OptionWrite {
  productId: string;
  position: number;
  name: string;
  values: string[];
}

const variantArrays = (vs: VariantWrite[]) => [
  vs.map((v) => v.id),
  vs.map((v) => v.productId),
  vs.map((v) => v.sku),
  vs.map((v) => JSON.stringify(v.options)),
  vs.map((v) => v.price),
  vs.map((v) => v.compareAtPrice),
  vs.map((v) => v.gtin),
  vs.map((v) => v.weightGrams),
  vs.map((v) => v.dimensionsCm?.length ?? null),
  vs.map((v) => v.dimensionsCm?.width ?? null),
  vs.map((v) => v.dimensionsCm?.height ?? null),
  vs.map((v) => v.position),
];
const VARIANT_UNNEST = `unnest($1::uuid[], $2::uuid[], $3::text[], $4::jsonb[], $5::int[], $6::int[], $7::text[],
  $8::int[], $9::numeric[], $10::numeric[], $11::numeric[], $12::int[])
  AS t(id, product_id, sku, options, price, compare_at, gtin, weight, l, w, h, position)`;

export const catalogCsvSql = {
  /**
   * One page of the export: the live products with a slug after `after` (byte order, "C"), each
   * with its live variants in position then SKU order, and their stock.
   */
  async exportPage(db: Queryable, after: string | null, limit: number): Promise<ExportRow[]> {
    const { rows } = await db.query<ExportRow>({
      name: 'catalog_csv_export_page',
      text: `SELECT p.slug, p.name, p.description, p.category_id, p.tags,
               COALESCE((SELECT array_agg(po.name ORDER BY po.position) FROM product_options po
                          WHERE po.product_id = p.id), '{}') AS option_names,
               COALESCE((SELECT array_agg(im.key ORDER BY im.position, im.created_at, im.key) FROM product_images im
                          WHERE im.product_id = p.id), '{}') AS images,
               v.sku, v.options, v.price, v.compare_at_price, COALESCE(i.available_quantity, 0) AS available_quantity,
               v.gtin, v.weight_grams, v.length_cm::text, v.width_cm::text, v.height_cm::text, v.position
             FROM (SELECT id, slug, name, description, category_id, tags FROM products
                    WHERE deleted_at IS NULL AND slug IS NOT NULL
                      AND ($1::text IS NULL OR slug COLLATE "C" > $1::text COLLATE "C")
                    ORDER BY slug COLLATE "C" LIMIT $2) p
             JOIN product_variants v ON v.product_id = p.id AND v.deleted_at IS NULL
             LEFT JOIN inventory i ON i.variant_id = v.id
             ORDER BY p.slug COLLATE "C", v.position, v.sku COLLATE "C"`,
      values: [after, limit],
    });
    return rows;
  },

  /**
   * The live products with these slugs, with their options, image keys and live variants (with
   * stock). `lock` takes the products' rows FOR UPDATE (the import's write of a batch).
   */
  async existing(db: Queryable, slugs: string[], lock: boolean): Promise<Map<string, ExistingProduct>> {
    if (lock)
      await db.query(
        `SELECT p.id FROM unnest($1::text[]) AS s(slug)
         CROSS JOIN LATERAL (SELECT id FROM products WHERE slug = s.slug AND deleted_at IS NULL LIMIT 1) p
         ORDER BY p.id FOR NO KEY UPDATE`,
        [slugs],
      );
    // Flat reads, each an index lookup per product (OFFSET 0 keeps the lateral from being
    // flattened into a join the planner may misjudge while an import into an empty store has
    // statistics that still say the tables are empty).
    const { rows: products } = await db.query<Omit<ExistingProduct, 'options' | 'images' | 'variants'>>(
      `SELECT p.id, p.slug, p.name, p.description, p.category_id, p.tags FROM unnest($1::text[]) AS s(slug)
       CROSS JOIN LATERAL (SELECT * FROM products WHERE slug = s.slug AND deleted_at IS NULL LIMIT 1) p`,
      [slugs],
    );
    const ids = products.map((p) => p.id);
    const { rows: options } = await db.query<{ product_id: string; name: string; values: string[] }>(
      `SELECT o.product_id, o.name, o."values" FROM unnest($1::uuid[]) AS s(id)
       CROSS JOIN LATERAL (SELECT * FROM product_options WHERE product_id = s.id OFFSET 0) o
       ORDER BY o.product_id, o.position`,
      [ids],
    );
    const { rows: images } = await db.query<{ product_id: string; key: string }>(
      `SELECT im.product_id, im.key FROM unnest($1::uuid[]) AS s(id)
       CROSS JOIN LATERAL (SELECT * FROM product_images WHERE product_id = s.id OFFSET 0) im
       ORDER BY im.product_id, im.position, im.created_at, im.key`,
      [ids],
    );
    const { rows: variants } = await db.query<ExistingVariant & { product_id: string }>(
      `SELECT v.id, v.product_id, v.sku, v.options, v.price, v.compare_at_price, v.gtin, v.weight_grams,
              v.length_cm::text, v.width_cm::text, v.height_cm::text, v.position,
              (SELECT i.available_quantity FROM inventory i WHERE i.variant_id = v.id) AS available_quantity
       FROM unnest($1::uuid[]) AS s(id)
       CROSS JOIN LATERAL (SELECT * FROM product_variants WHERE product_id = s.id AND deleted_at IS NULL OFFSET 0) v`,
      [ids],
    );
    const byId = new Map<string, ExistingProduct>(
      products.map((p) => [p.id, { ...p, options: [], images: [], variants: [] }]),
    );
    for (const o of options) byId.get(o.product_id)!.options.push({ name: o.name, values: o.values });
    for (const im of images) byId.get(im.product_id)!.images.push(im.key);
    for (const v of variants) byId.get(v.product_id)!.variants.push(v);
    const rows = [...byId.values()];
    return new Map(rows.map((r) => [r.slug, r]));
  },

  /** For each of these SKUs held by a live variant of a live product: that product's slug. */
  async skuOwners(db: Queryable, skus: string[]): Promise<Map<string, string | null>> {
    const { rows } = await db.query<{ sku: string; slug: string | null }>(
      `SELECT v.sku, p.slug FROM unnest($1::text[]) AS s(sku)
       CROSS JOIN LATERAL (SELECT sku, product_id FROM product_variants WHERE sku = s.sku AND deleted_at IS NULL LIMIT 1) v
       JOIN products p ON p.id = v.product_id AND p.deleted_at IS NULL`,
      [skus],
    );
    return new Map(rows.map((r) => [r.sku, r.slug]));
  },

  /**
   * Fresh planner statistics for the tables an import writes: an import into an empty store
   * grows them from nothing, and plans made for empty tables scan them whole for every key.
   */
  async analyze(db: Queryable): Promise<void> {
    await db.query('ANALYZE products, product_variants, product_options');
  },

  /** Whether any category (deleted ones too: the slug is unique over all) has this slug. */
  async categorySlugTaken(db: Queryable, slug: string): Promise<boolean> {
    const { rowCount } = await db.query('SELECT 1 FROM categories WHERE slug = $1', [slug]);
    return (rowCount ?? 0) > 0;
  },

  async insertProducts(tx: Queryable, ps: ProductWrite[]): Promise<void> {
    if (ps.length === 0) return;
    await tx.query(
      `INSERT INTO products (id, slug, name, description, category_id, tags, base_price)
       SELECT t.id, t.slug, t.name, t.description, t.category_id,
              ARRAY(SELECT jsonb_array_elements_text(t.tags)), t.base_price
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::uuid[], $6::jsonb[], $7::int[])
            AS t(id, slug, name, description, category_id, tags, base_price)`,
      productArrays(ps),
    );
  },

  /** Sets name, description, category and tags of these products (base prices follow their variants). */
  async updateProducts(tx: Queryable, ps: ProductWrite[]): Promise<void> {
    if (ps.length === 0) return;
    await tx.query(
      `UPDATE products p SET name = t.name, description = t.description, category_id = t.category_id,
              tags = ARRAY(SELECT jsonb_array_elements_text(t.tags))
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::uuid[], $6::jsonb[], $7::int[])
            AS t(id, slug, name, description, category_id, tags, base_price)
       WHERE p.id = t.id`,
      productArrays(ps),
    );
  },

  /** Writes options: new ones inserted, existing ones (same product and position) given their values. */
  async upsertOptions(tx: Queryable, os: OptionWrite[]): Promise<void> {
    if (os.length === 0) return;
    await tx.query(
      `INSERT INTO product_options (product_id, position, name, "values")
       SELECT t.product_id, t.position, t.name, ARRAY(SELECT jsonb_array_elements_text(t.vals))
       FROM unnest($1::uuid[], $2::int[], $3::text[], $4::jsonb[]) AS t(product_id, position, name, vals)
       ON CONFLICT (product_id, position) DO UPDATE SET "values" = EXCLUDED."values"`,
      [
        os.map((o) => o.productId),
        os.map((o) => o.position),
        os.map((o) => o.name),
        os.map((o) => JSON.stringify(o.values)),
      ],
    );
  },

  async insertVariants(tx: Queryable, vs: VariantWrite[]): Promise<void> {
    if (vs.length === 0) return;
    await tx.query(
      `INSERT INTO product_variants (id, product_id, sku, options, price, compare_at_price, gtin, weight_grams,
                                     length_cm, width_cm, height_cm, position)
       SELECT t.id, t.product_id, t.sku, t.options, t.price, t.compare_at, t.gtin, t.weight, t.l, t.w, t.h, t.position
       FROM ${VARIANT_UNNEST}`,
      variantArrays(vs),
    );
  },

  /** Sets every imported field of these live variants (found by id; their SKU and options stay). */
  async updateVariants(tx: Queryable, vs: VariantWrite[]): Promise<void> {
    if (vs.length === 0) return;
    await tx.query(
      `UPDATE product_variants v SET price = t.price, compare_at_price = t.compare_at, gtin = t.gtin,
              weight_grams = t.weight, length_cm = t.l, width_cm = t.w, height_cm = t.h, position = t.position
       FROM ${VARIANT_UNNEST}
       WHERE v.id = t.id AND v.deleted_at IS NULL`,
      variantArrays(vs),
    );
  },

  /** Keeps products.base_price the lowest live variant price of each of these products. */
  async syncBasePrices(tx: Queryable, productIds: string[]): Promise<void> {
    if (productIds.length === 0) return;
    await tx.query(
      `UPDATE products p SET base_price = m.price
       FROM (SELECT product_id, MIN(price) AS price FROM product_variants
              WHERE product_id = ANY($1::uuid[]) AND deleted_at IS NULL GROUP BY product_id) m
       WHERE p.id = m.product_id AND p.base_price <> m.price`,
      [productIds],
    );
  },
};

function productArrays(ps: ProductWrite[]) {
  return [
    ps.map((p) => p.id),
    ps.map((p) => p.slug),
    ps.map((p) => p.name),
    ps.map((p) => p.description),
    ps.map((p) => p.categoryId),
    ps.map((p) => JSON.stringify(p.tags)),
    ps.map((p) => p.basePrice),
  ];
}
