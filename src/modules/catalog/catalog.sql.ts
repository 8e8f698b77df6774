import type { Queryable } from '../../platform/db/pool.ts';
import { listProductsQuery, PRODUCT_COLUMNS, PRODUCT_FROM, type ListFilter } from './listing.sql.ts';

export {
  ADMIN_SORTS,
  adminListQuery,
  listProductsQuery,
  type AdminSort,
  type ListFilter,
} from './listing.sql.ts';

export interface ProductRow {
  id: string;
  slug: string | null;
  name: string;
  description: string | null;
  base_price: number;
  category_id: string | null;
  category_name: string | null;
  category_slug: string | null;
  tags: string[];
  available_quantity: number | null;
  created_at: Date;
  updated_at: Date;
  /** created_at as PostgreSQL text, full microsecond precision, for keyset cursors. */
  created_key: string;
}

export interface ProductDetailRow extends ProductRow {
  options: { name: string; values: string[] }[];
  variants: {
    id: string;
    sku: string;
    options: Record<string, string>;
    price: number;
    compareAtPrice: number | null;
    availableQuantity: number;
    gtin: string | null;
    weightGrams: number | null;
    length: number | null;
    width: number | null;
    height: number | null;
    position: number;
  }[];
  rating_average: number | null;
  rating_count: number;
  images: { id: string; key: string; position: number }[];
}

export interface CategoryRow {
  id: string;
  parent_id: string | null;
  name: string;
  slug: string;
}

export const catalogSql = {
  /** A live product with its images and rating (of verified purchases only when `verifiedOnly`). */
  async findProduct(db: Queryable, id: string, verifiedOnly: boolean): Promise<ProductDetailRow | undefined> {
    const { rows } = await db.query<ProductDetailRow>({
      name: 'catalog_find_product',
      text: `SELECT ${PRODUCT_COLUMNS},
               (SELECT ROUND(AVG(r.rating), 2) FROM reviews r
                 WHERE r.product_id = p.id AND (r.verified_purchase OR NOT $2::bool)) AS rating_average,
               (SELECT COUNT(*) FROM reviews r
                 WHERE r.product_id = p.id AND (r.verified_purchase OR NOT $2::bool))::int AS rating_count,
               COALESCE((SELECT json_agg(json_build_object('id', im.id, 'key', im.key, 'position', im.position)
                                  ORDER BY im.position, im.created_at)
                         FROM product_images im WHERE im.product_id = p.id), '[]'::json) AS images,
               COALESCE((SELECT json_agg(json_build_object('name', po.name, 'values', po."values") ORDER BY po.position)
                         FROM product_options po WHERE po.product_id = p.id), '[]'::json) AS options,
               COALESCE((SELECT json_agg(json_build_object('id', v.id, 'sku', v.sku, 'options', v.options,
                                   'price', v.price, 'compareAtPrice', v.compare_at_price,
                                   'availableQuantity', COALESCE(vi.available_quantity, 0), 'gtin', v.gtin,
                                   'weightGrams', v.weight_grams, 'length', v.length_cm, 'width', v.width_cm,
                                   'height', v.height_cm, 'position', v.position) ORDER BY v.position, v.id)
                         FROM product_variants v LEFT JOIN inventory vi ON vi.variant_id = v.id
                         WHERE v.product_id = p.id AND v.deleted_at IS NULL), '[]'::json) AS variants
             FROM ${PRODUCT_FROM} WHERE p.id = $1 AND p.deleted_at IS NULL`,
      values: [id, verifiedOnly],
    });
    return rows[0];
  },

  async insertProduct(
    db: Queryable,
    p: {
      id: string;
      name: string;
      description: string | null;
      basePrice: number;
      categoryId: string | null;
      tags: string[];
      slug: string;
    },
  ): Promise<string> {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO products (id, name, description, base_price, category_id, tags, slug)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
      [p.id, p.name, p.description, p.basePrice, p.categoryId, p.tags, p.slug],
    );
    return rows[0]!.id;
  },

  /** Locks a live product row (variants are added under it); undefined when there is none. */
  async lockLive(db: Queryable, id: string): Promise<{ base_price: number } | undefined> {
    const { rows } = await db.query<{ base_price: number }>(
      'SELECT base_price FROM products WHERE id = $1 AND deleted_at IS NULL FOR UPDATE',
      [id],
    );
    return rows[0];
  },

  /** Updates the given fields of a live product; COALESCE keeps the ones not given. */
  async updateProduct(
    db: Queryable,
    id: string,
    p: {
      name?: string;
      description?: string | null;
      basePrice?: number;
      categoryId?: string | null;
      tags?: string[];
    },
  ): Promise<boolean> {
    const { rowCount } = await db.query(
      `UPDATE products SET
         name = COALESCE($2, name),
         description = CASE WHEN $3 THEN $4 ELSE description END,
         base_price = COALESCE($5, base_price),
         category_id = CASE WHEN $6 THEN $7::uuid ELSE category_id END,
         tags = COALESCE($8, tags)
       WHERE id = $1 AND deleted_at IS NULL`,
      [
        id,
        p.name ?? null,
        p.description !== undefined,
        p.description ?? null,
        p.basePrice ?? null,
        p.categoryId !== undefined,
        p.categoryId ?? null,
        p.tags ?? null,
      ],
    );
    return rowCount === 1;
  },

  /**
   * Brings a deleted product back; `category_deleted` when its category is deleted (restore that
   * first), undefined when there is no deleted product with this id.
   */
  async restoreProduct(db: Queryable, id: string): Promise<'restored' | 'category_deleted' | undefined> {
    const { rows } = await db.query<{ restored: boolean }>(
      `WITH p AS (SELECT id, category_id FROM products WHERE id = $1 AND deleted_at IS NOT NULL FOR UPDATE),
            ok AS (SELECT p.id FROM p LEFT JOIN categories c ON c.id = p.category_id
                   WHERE p.category_id IS NULL OR c.deleted_at IS NULL),
            u AS (UPDATE products SET deleted_at = NULL WHERE id IN (SELECT id FROM ok) RETURNING id)
       SELECT EXISTS (SELECT 1 FROM u) AS restored FROM p`,
      [id],
    );
    if (!rows[0]) return undefined;
    return rows[0].restored ? 'restored' : 'category_deleted';
  },

  /** Deleted products, most recently deleted first (keyset on deleted_at, id). */
  async deletedProducts(
    db: Queryable,
    limit: number,
    after?: { deletedAt: string; id: string },
  ): Promise<{ id: string; name: string; deleted_at: string }[]> {
    const { rows } = await db.query<{ id: string; name: string; deleted_at: string }>(
      `SELECT id, name, deleted_at::text AS deleted_at FROM products
       WHERE deleted_at IS NOT NULL AND ($1::timestamptz IS NULL OR (deleted_at, id) < ($1::timestamptz, $2::uuid))
       ORDER BY deleted_at DESC, id DESC LIMIT $3`,
      [after?.deletedAt ?? null, after?.id ?? null, limit],
    );
    return rows;
  },

  /**
   * Soft-deletes a category that holds no live sub-category and no live product. Returns what
   * stopped it, or `deleted`; undefined when there is no live category with this id.
   */
  async softDeleteCategory(
    db: Queryable,
    id: string,
  ): Promise<'deleted' | 'has_children' | 'has_products' | undefined> {
    const { rows } = await db.query<{ children: boolean; products: boolean; deleted: boolean }>(
      `WITH c AS (SELECT id FROM categories WHERE id = $1 AND deleted_at IS NULL FOR UPDATE),
            f AS (SELECT EXISTS (SELECT 1 FROM categories WHERE parent_id = $1 AND deleted_at IS NULL) AS children,
                         EXISTS (SELECT 1 FROM products WHERE category_id = $1 AND deleted_at IS NULL) AS products),
            u AS (UPDATE categories SET deleted_at = NOW()
                  WHERE id IN (SELECT id FROM c) AND NOT (SELECT children OR products FROM f) RETURNING id)
       SELECT f.children, f.products, EXISTS (SELECT 1 FROM u) AS deleted FROM c, f`,
      [id],
    );
    const r = rows[0];
    if (!r) return undefined;
    return r.deleted ? 'deleted' : r.children ? 'has_children' : 'has_products';
  },

  /** Brings a deleted category back; `parent_deleted` when its parent is deleted. */
  async restoreCategory(db: Queryable, id: string): Promise<CategoryRow | 'parent_deleted' | undefined> {
    const { rows } = await db.query<CategoryRow & { restored: boolean }>(
      `WITH c AS (SELECT id, parent_id FROM categories WHERE id = $1 AND deleted_at IS NOT NULL FOR UPDATE),
            u AS (UPDATE categories SET deleted_at = NULL
                  WHERE id IN (SELECT c.id FROM c LEFT JOIN categories p ON p.id = c.parent_id
                               WHERE c.parent_id IS NULL OR p.deleted_at IS NULL)
                  RETURNING id, parent_id, name, slug)
       SELECT u.*, TRUE AS restored FROM u UNION ALL SELECT NULL, NULL, NULL, NULL, FALSE FROM c
       WHERE NOT EXISTS (SELECT 1 FROM u)`,
      [id],
    );
    const r = rows[0];
    if (!r) return undefined;
    return r.restored ? { id: r.id, parent_id: r.parent_id, name: r.name, slug: r.slug } : 'parent_deleted';
  },

  async deletedCategories(db: Queryable): Promise<(CategoryRow & { deleted_at: Date })[]> {
    const { rows } = await db.query<CategoryRow & { deleted_at: Date }>(
      'SELECT id, parent_id, name, slug, deleted_at FROM categories WHERE deleted_at IS NOT NULL ORDER BY deleted_at DESC, id',
    );
    return rows;
  },

  /** Soft delete, as the original design has it: the row stays for order history. */
  async softDeleteProduct(db: Queryable, id: string): Promise<boolean> {
    const { rowCount } = await db.query(
      'UPDATE products SET deleted_at = NOW() WHERE id = $1 AND deleted_at IS NULL',
      [id],
    );
    return rowCount === 1;
  },

  async insertCategory(
    db: Queryable,
    c: { name: string; slug: string; parentId: string | null },
  ): Promise<CategoryRow> {
    const { rows } = await db.query<CategoryRow>(
      'INSERT INTO categories (name, slug, parent_id) VALUES ($1, $2, $3) RETURNING id, parent_id, name, slug',
      [c.name, c.slug, c.parentId],
    );
    return rows[0]!;
  },

  async updateCategory(
    db: Queryable,
    id: string,
    c: { name?: string; slug?: string; parentId?: string | null },
  ): Promise<CategoryRow | undefined> {
    const { rows } = await db.query<CategoryRow>(
      `UPDATE categories SET name = COALESCE($2, name), slug = COALESCE($3, slug),
         parent_id = CASE WHEN $4 THEN $5::uuid ELSE parent_id END
       WHERE id = $1 AND deleted_at IS NULL RETURNING id, parent_id, name, slug`,
      [id, c.name ?? null, c.slug ?? null, c.parentId !== undefined, c.parentId ?? null],
    );
    return rows[0];
  },

  /** Serialises tree moves (until the transaction ends) so two concurrent moves cannot build a cycle together. */
  async lockCategoryTree(tx: Queryable): Promise<void> {
    await tx.query('LOCK TABLE categories IN SHARE ROW EXCLUSIVE MODE');
  },

  /** True when `candidate` is `id` or one of its descendants (a parent there would make a cycle). */
  async isSelfOrDescendant(db: Queryable, id: string, candidate: string): Promise<boolean> {
    const { rows } = await db.query<{ hit: boolean }>(
      `WITH RECURSIVE sub AS (
         SELECT id FROM categories WHERE id = $1
         UNION ALL SELECT c.id FROM categories c JOIN sub ON c.parent_id = sub.id
       ) SELECT EXISTS (SELECT 1 FROM sub WHERE id = $2) AS hit`,
      [id, candidate],
    );
    return rows[0]!.hit;
  },

  async categoryExists(db: Queryable, id: string): Promise<boolean> {
    const { rowCount } = await db.query('SELECT 1 FROM categories WHERE id = $1 AND deleted_at IS NULL', [
      id,
    ]);
    return rowCount === 1;
  },

  async listProducts(db: Queryable, f: ListFilter): Promise<ProductRow[]> {
    const { rows } = await db.query<ProductRow>(listProductsQuery(f));
    return rows;
  },

  /** The ids of a category and of every category above it. */
  async ancestry(db: Queryable, ids: string[]): Promise<string[]> {
    const { rows } = await db.query<{ id: string }>({
      name: 'catalog_category_ancestry',
      text: `WITH RECURSIVE up AS (
               SELECT id, parent_id FROM categories WHERE id = ANY($1::uuid[])
               UNION SELECT c.id, c.parent_id FROM categories c JOIN up ON c.id = up.parent_id
             ) SELECT id FROM up`,
      values: [ids],
    });
    return rows.map((r) => r.id);
  },

  async categoryOf(db: Queryable, productId: string): Promise<string | null> {
    const { rows } = await db.query<{ category_id: string | null }>(
      'SELECT category_id FROM products WHERE id = $1',
      [productId],
    );
    return rows[0]?.category_id ?? null;
  },

  /** A category and every category below it. */
  async subtree(db: Queryable, id: string): Promise<string[]> {
    const { rows } = await db.query<{ id: string }>({
      name: 'catalog_category_subtree',
      text: `WITH RECURSIVE sub AS (
               SELECT id FROM categories WHERE id = $1
               UNION ALL SELECT ch.id FROM categories ch JOIN sub ON ch.parent_id = sub.id
             ) SELECT id FROM sub`,
      values: [id],
    });
    return rows.map((r) => r.id);
  },

  async listCategories(db: Queryable): Promise<CategoryRow[]> {
    const { rows } = await db.query<CategoryRow>({
      name: 'catalog_list_categories',
      text: 'SELECT id, parent_id, name, slug FROM categories WHERE deleted_at IS NULL ORDER BY name, id',
    });
    return rows;
  },

  async countProducts(db: Queryable): Promise<number> {
    const { rows } = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM products');
    return rows[0]!.n;
  },

  /** Current prices of live products (soft-deleted ones cannot be ordered). */
  async livePrices(db: Queryable, productIds: string[]): Promise<Map<string, number>> {
    const { rows } = await db.query<{ id: string; base_price: number }>({
      name: 'catalog_live_prices',
      text: 'SELECT id, base_price FROM products WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL',
      values: [productIds],
    });
    return new Map(rows.map((r) => [r.id, r.base_price]));
  },

  async countLiveProducts(db: Queryable): Promise<number> {
    const { rows } = await db.query<{ n: number }>(
      'SELECT COUNT(*)::int AS n FROM products WHERE deleted_at IS NULL',
    );
    return rows[0]!.n;
  },

  /** Names of products by id, deleted ones included (an invoice names what was sold). */
  async namesOf(db: Queryable, ids: string[]): Promise<Map<string, string>> {
    const { rows } = await db.query<{ id: string; name: string }>(
      'SELECT id, name FROM products WHERE id = ANY($1::uuid[])',
      [ids],
    );
    return new Map(rows.map((r) => [r.id, r.name]));
  },

  /** Live products by id: what other modules (search) copy from the catalog. */
  async sourcesByIds(db: Queryable, ids: string[]): Promise<SourceRow[]> {
    const { rows } = await db.query<SourceRow>(
      `SELECT ${SOURCE_COLUMNS} FROM products WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL`,
      [ids],
    );
    return rows;
  },

  /** Live products after `after` in id order, `limit` at a time (a keyset walk of the catalog). */
  async sourcesAfter(db: Queryable, after: string | null, limit: number): Promise<SourceRow[]> {
    const { rows } = await db.query<SourceRow>(
      `SELECT ${SOURCE_COLUMNS} FROM products
        WHERE deleted_at IS NULL AND ($1::uuid IS NULL OR id > $1::uuid) ORDER BY id LIMIT $2`,
      [after, limit],
    );
    return rows;
  },

  /** Ids and versions (updated_at as text) of live products after `after`, in id order. */
  async versionsAfter(
    db: Queryable,
    after: string | null,
    limit: number,
  ): Promise<{ id: string; updated_at: string }[]> {
    const { rows } = await db.query<{ id: string; updated_at: string }>(
      `SELECT id, updated_at::text AS updated_at FROM products
        WHERE deleted_at IS NULL AND ($1::uuid IS NULL OR id > $1::uuid) ORDER BY id LIMIT $2`,
      [after, limit],
    );
    return rows;
  },

  /** Ids of products (deleted ones too: a soft delete bumps updated_at) changed since `since`. */
  async changedSince(db: Queryable, since: string, after: string | null, limit: number): Promise<string[]> {
    const { rows } = await db.query<{ id: string }>(
      `SELECT id FROM products WHERE updated_at >= $1::timestamptz AND ($2::uuid IS NULL OR id > $2::uuid)
        ORDER BY id LIMIT $3`,
      [since, after, limit],
    );
    return rows.map((r) => r.id);
  },

  /** Ids of every product (deleted ones too) in these categories. */
  async productIdsInCategories(db: Queryable, categoryIds: string[]): Promise<string[]> {
    const { rows } = await db.query<{ id: string }>(
      'SELECT id FROM products WHERE category_id = ANY($1::uuid[])',
      [categoryIds],
    );
    return rows.map((r) => r.id);
  },

  /** Each product's category and every ancestor of it (promotions by category cover sub-categories). */
  async productCategoryPaths(db: Queryable, productIds: string[]): Promise<Map<string, string[]>> {
    const { rows } = await db.query<{ product_id: string; ids: string[] }>(
      `WITH RECURSIVE up AS (
         SELECT p.id AS product_id, p.category_id AS id FROM products p
         WHERE p.id = ANY($1::uuid[]) AND p.category_id IS NOT NULL
         UNION
         SELECT up.product_id, c.parent_id FROM up JOIN categories c ON c.id = up.id WHERE c.parent_id IS NOT NULL
       )
       SELECT product_id, array_agg(id::text) AS ids FROM up GROUP BY product_id`,
      [productIds],
    );
    return new Map(rows.map((r) => [r.product_id, r.ids]));
  },
};

/** A product as the catalog hands it to other modules (no stock, no category names). */
export interface SourceRow {
  id: string;
  name: string;
  description: string | null;
  tags: string[];
  category_id: string | null;
  base_price: number;
  /** updated_at as text (PostgreSQL's, or ISO 8601 from the seed): the version copies compare as an instant. */
  updated_at: string;
  /** Its live variants' prices and option values, in position order (search filters on them). */
  variants: { price: number; options: Record<string, string> }[];
}

const SOURCE_COLUMNS = `id, name, description, tags, category_id, base_price, updated_at::text AS updated_at,
  COALESCE((SELECT json_agg(json_build_object('price', v.price, 'options', v.options) ORDER BY v.position, v.id)
            FROM product_variants v WHERE v.product_id = products.id AND v.deleted_at IS NULL), '[]'::json) AS variants`;
