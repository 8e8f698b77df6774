import type { Database } from '../../platform/db/pool.ts';
import { AppError } from '../../platform/errors.ts';
import { isUuid } from '../../platform/ids.ts';
import { decodeCursor, encodeCursor } from '../../platform/cursor.ts';
import { catalogSql, type CategoryRow, type ProductRow } from './catalog.sql.ts';

export interface Product {
  id: string;
  name: string;
  description: string | null;
  basePrice: number;
  currency: 'BRL';
  categoryId: string | null;
  category: { id: string; name: string; slug: string } | null;
  tags: string[];
  availableQuantity: number;
  createdAt: string;
  updatedAt: string;
}

export interface CategoryNode {
  id: string;
  name: string;
  slug: string;
  parentId: string | null;
  children: CategoryNode[];
}

export interface ProductQuery {
  categoryId?: string;
  minPrice?: number;
  maxPrice?: number;
  limit: number;
  cursor?: string;
}

const toProduct = (r: ProductRow): Product => ({
  id: r.id,
  name: r.name,
  description: r.description,
  basePrice: r.base_price,
  currency: 'BRL',
  categoryId: r.category_id,
  category:
    r.category_id && r.category_name && r.category_slug
      ? { id: r.category_id, name: r.category_name, slug: r.category_slug }
      : null,
  tags: r.tags,
  availableQuantity: r.available_quantity ?? 0,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

export class CatalogService {
  constructor(private readonly deps: { db: Database }) {}

  async getProduct(id: string): Promise<Product> {
    const row = isUuid(id) ? await catalogSql.findProduct(this.deps.db.read, id) : undefined;
    if (!row) throw AppError.notFound('Product', { productId: id });
    return toProduct(row);
  }

  async listProducts(q: ProductQuery): Promise<{ items: Product[]; nextCursor: string | null }> {
    if (q.minPrice !== undefined && q.maxPrice !== undefined && q.minPrice > q.maxPrice) {
      throw AppError.invalid('minPrice must not exceed maxPrice', [
        { field: 'querystring.minPrice', message: 'greater than maxPrice' },
      ]);
    }
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor, isProductCursor);
    const rows = await catalogSql.listProducts(this.deps.db.read, {
      ...(q.categoryId !== undefined ? { categoryId: q.categoryId } : {}),
      ...(q.minPrice !== undefined ? { minPrice: q.minPrice } : {}),
      ...(q.maxPrice !== undefined ? { maxPrice: q.maxPrice } : {}),
      ...(after ? { after } : {}),
      limit: q.limit + 1,
    });
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toProduct),
      nextCursor:
        rows.length > q.limit && last ? encodeCursor({ createdAt: last.created_key, id: last.id }) : null,
    };
  }

  async categoryTree(): Promise<CategoryNode[]> {
    return buildTree(await catalogSql.listCategories(this.deps.db.read));
  }
}

/** timestamptz as PostgreSQL prints it (ISO DateStyle), e.g. `2026-10-31 13:44:12.641+00`. */
const PG_TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2}){0,2}$/;

function isProductCursor(v: unknown): v is { createdAt: string; id: string } {
  const o = v as { createdAt?: unknown; id?: unknown } | null;
  return (
    typeof o?.createdAt === 'string' &&
    PG_TIMESTAMP.test(o.createdAt) &&
    typeof o.id === 'string' &&
    isUuid(o.id)
  );
}

function buildTree(rows: CategoryRow[]): CategoryNode[] {
  const nodes = new Map<string, CategoryNode>();
  for (const r of rows)
    nodes.set(r.id, { id: r.id, name: r.name, slug: r.slug, parentId: r.parent_id, children: [] });
  const roots: CategoryNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.parentId ? nodes.get(node.parentId) : undefined;
    (parent ? parent.children : roots).push(node);
  }
  return roots;
}
