import type { Queryable } from '../../platform/db/pool.ts';

export interface ProductRow {
  id: string;
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

export interface CategoryRow {
  id: string;
  parent_id: string | null;
  name: string;
  slug: string;
}

export interface ListFilter {
  categoryId?: string;
  minPrice?: number;
  maxPrice?: number;
  after?: { createdAt: string; id: string };
  limit: number;
}

const PRODUCT_COLUMNS = `p.id, p.name, p.description, p.base_price, p.category_id, c.name AS category_name,
  c.slug AS category_slug, p.tags, i.available_quantity, p.created_at, p.updated_at,
  p.created_at::text AS created_key`;
const PRODUCT_FROM = `products p
  LEFT JOIN categories c ON c.id = p.category_id
  LEFT JOIN inventory i ON i.product_id = p.id`;

export const catalogSql = {
  async findProduct(db: Queryable, id: string): Promise<ProductRow | undefined> {
    const { rows } = await db.query<ProductRow>({
      name: 'catalog_find_product',
      text: `SELECT ${PRODUCT_COLUMNS} FROM ${PRODUCT_FROM} WHERE p.id = $1 AND p.deleted_at IS NULL`,
      values: [id],
    });
    return rows[0];
  },

  /**
   * Newest first, keyset-paginated on (created_at, id). A category filter includes its
   * sub-categories. The WHERE clause is assembled from fixed fragments; every value is bound.
   */
  async listProducts(db: Queryable, f: ListFilter): Promise<ProductRow[]> {
    const values: unknown[] = [];
    const where = ['p.deleted_at IS NULL'];
    const bind = (v: unknown) => `$${values.push(v)}`;
    let withClause = '';
    if (f.categoryId !== undefined) {
      withClause = `WITH RECURSIVE sub AS (
          SELECT id FROM categories WHERE id = ${bind(f.categoryId)}
          UNION ALL SELECT ch.id FROM categories ch JOIN sub ON ch.parent_id = sub.id
        ) `;
      where.push('p.category_id IN (SELECT id FROM sub)');
    }
    if (f.minPrice !== undefined) where.push(`p.base_price >= ${bind(f.minPrice)}`);
    if (f.maxPrice !== undefined) where.push(`p.base_price <= ${bind(f.maxPrice)}`);
    if (f.after)
      where.push(
        `(p.created_at, p.id) < (${bind(f.after.createdAt)}::timestamptz, ${bind(f.after.id)}::uuid)`,
      );
    const text = `${withClause}SELECT ${PRODUCT_COLUMNS} FROM ${PRODUCT_FROM}
      WHERE ${where.join(' AND ')}
      ORDER BY p.created_at DESC, p.id DESC
      LIMIT ${bind(f.limit)}`;
    const { rows } = await db.query<ProductRow>(text, values);
    return rows;
  },

  async listCategories(db: Queryable): Promise<CategoryRow[]> {
    const { rows } = await db.query<CategoryRow>({
      name: 'catalog_list_categories',
      text: 'SELECT id, parent_id, name, slug FROM categories ORDER BY name, id',
    });
    return rows;
  },

  async countProducts(db: Queryable): Promise<number> {
    const { rows } = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM products');
    return rows[0]!.n;
  },
};
