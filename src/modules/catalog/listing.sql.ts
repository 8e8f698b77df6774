/**
 * The listings' SQL: the store's product list and the admin's, assembled from fixed fragments with
 * every value bound. (Split from catalog.sql.ts, which re-exports it.)
 */
import type { OptionGroup } from '../../platform/search/search-engine.ts';

export interface ListFilter {
  /** A category and all its descendants; an empty list matches nothing. */
  categoryIds?: string[];
  minPrice?: number;
  maxPrice?: number;
  /** Option values (one option's OR-ed, options AND-ed) that one live variant must have, with its price in range. */
  options?: OptionGroup[];
  after?: { createdAt: string; id: string };
  limit: number;
}

/** A product's free units: the sum over its variants' stock rows (one row for a one-variant product). */
export const STOCK_JOIN = `LEFT JOIN LATERAL (SELECT SUM(iv.available_quantity)::int AS available_quantity
    FROM inventory iv WHERE iv.product_id = p.id) i ON TRUE`;
export const PRODUCT_COLUMNS = `p.slug, p.id, p.name, p.description, p.base_price, p.category_id, c.name AS category_name,
  c.slug AS category_slug, p.tags, i.available_quantity, p.created_at, p.updated_at,
  p.created_at::text AS created_key`;
export const PRODUCT_FROM = `products p
  LEFT JOIN categories c ON c.id = p.category_id
  ${STOCK_JOIN}`;
/** The admin listing's orders: each a fixed column, direction and keyset comparison. */
export const ADMIN_SORTS = {
  newest: { key: 'p.created_at::text', cast: 'timestamptz', column: 'p.created_at', cmp: '<', dir: 'DESC' },
  // As people read names: case and accents do not count ('café' between 'cafe' and 'cafeteira').
  name: {
    key: 'lower(shopflow_unaccent(p.name))',
    cast: 'text',
    column: 'lower(shopflow_unaccent(p.name))',
    cmp: '>',
    dir: 'ASC',
  },
  price: { key: 'p.base_price::text', cast: 'bigint', column: 'p.base_price', cmp: '>', dir: 'ASC' },
} as const;
export type AdminSort = keyof typeof ADMIN_SORTS;

/**
 * The admin's product listing: live products, by name fragment (case- and accent-insensitive) and
 * category subtree, in one of {@link ADMIN_SORTS}, keyset-paginated on (sort value, id). The SQL
 * is assembled from the fixed fragments above; every value is bound.
 */
export function adminListQuery(f: {
  q?: string;
  categoryIds?: string[];
  sort: AdminSort;
  after?: { v: string; id: string };
  limit: number;
}): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const bind = (v: unknown) => `$${values.push(v)}`;
  const s = ADMIN_SORTS[f.sort];
  const where = ['p.deleted_at IS NULL'];
  if (f.q !== undefined)
    where.push(`lower(shopflow_unaccent(p.name)) LIKE '%' || lower(shopflow_unaccent(${bind(f.q)})) || '%'`);
  if (f.categoryIds !== undefined) where.push(`p.category_id = ANY(${bind(f.categoryIds)}::uuid[])`);
  if (f.after)
    where.push(`(${s.column}, p.id) ${s.cmp} (${bind(f.after.v)}::${s.cast}, ${bind(f.after.id)}::uuid)`);
  return {
    text: `SELECT ${PRODUCT_COLUMNS}, ${s.key} AS sort_key FROM ${PRODUCT_FROM}
           WHERE ${where.join(' AND ')} ORDER BY ${s.column} ${s.dir}, p.id ${s.dir} LIMIT ${bind(f.limit)}`,
    values,
  };
}

/**
 * A live variant of `p` with a wanted value of every option (`options @> {"Cor":"Azul"}`, any of an
 * option's values) and, when asked, a price in range.
 */
function variantExists(f: ListFilter, bind: (v: unknown) => string): string {
  const conditions = (f.options ?? []).map(
    (g) => `v.options @> ANY(${bind(g.values.map((value) => JSON.stringify({ [g.name]: value })))}::jsonb[])`,
  );
  if (f.minPrice !== undefined) conditions.push(`v.price >= ${bind(f.minPrice)}`);
  if (f.maxPrice !== undefined) conditions.push(`v.price <= ${bind(f.maxPrice)}`);
  return `EXISTS (SELECT 1 FROM product_variants v
    WHERE v.product_id = p.id AND v.deleted_at IS NULL AND ${conditions.join(' AND ')})`;
}

/**
 * The store listing: newest first, keyset-paginated on (created_at, id). With categories (a
 * category and its sub-categories, resolved beforehand), each category is read in order from
 * idx_products_category_listing under its own LIMIT and the few rows are merged: no scan of other
 * categories' products. The WHERE clause is assembled from fixed fragments; every value is bound.
 */
export function listProductsQuery(f: ListFilter): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const bind = (v: unknown) => `$${values.push(v)}`;
  const where = ['p.deleted_at IS NULL'];
  // Without options the price range is on basePrice (the lowest variant price); with options, on
  // the variant that has them (basePrice <= maxPrice still holds then, and narrows first).
  if (f.minPrice !== undefined && !f.options?.length) where.push(`p.base_price >= ${bind(f.minPrice)}`);
  if (f.maxPrice !== undefined) where.push(`p.base_price <= ${bind(f.maxPrice)}`);
  if (f.options?.length) where.push(variantExists(f, bind));
  if (f.after)
    where.push(`(p.created_at, p.id) < (${bind(f.after.createdAt)}::timestamptz, ${bind(f.after.id)}::uuid)`);
  const limit = bind(f.limit);
  const order = 'ORDER BY p.created_at DESC, p.id DESC';
  if (f.categoryIds === undefined) {
    return {
      text: `SELECT ${PRODUCT_COLUMNS} FROM ${PRODUCT_FROM} WHERE ${where.join(' AND ')} ${order} LIMIT ${limit}`,
      values,
    };
  }
  const text = `SELECT ${PRODUCT_COLUMNS}
    FROM unnest(${bind(f.categoryIds)}::uuid[]) AS cat(id)
    CROSS JOIN LATERAL (
      SELECT p.* FROM products p WHERE p.category_id = cat.id AND ${where.join(' AND ')} ${order} LIMIT ${limit}
    ) p
    LEFT JOIN categories c ON c.id = p.category_id
    ${STOCK_JOIN}
    ${order} LIMIT ${limit}`;
  return { text, values };
}
