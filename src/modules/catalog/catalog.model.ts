/**
 * The catalog as its callers see it: products, categories and their shapes, and the pure helpers
 * that turn rows into them (no I/O here: the service and its SQL do that).
 */
import { AppError } from '../../platform/errors.ts';
import { isUuid } from '../../platform/ids.ts';
import { isTimeIdCursor } from '../../platform/cursor.ts';
import { searchWords, type OptionGroup } from '../../platform/search/search-engine.ts';
import type { AdminSort, CategoryRow, ProductDetailRow, ProductRow, SourceRow } from './catalog.sql.ts';

export type { SourceRow as ProductSource };

export interface Product {
  id: string;
  /** Unique among live products; null for a product from before slugs until the backfill names it. */
  slug: string | null;
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

export interface ProductDetail extends Product {
  rating: { average: number | null; count: number };
  images: ProductImage[];
  /** Up to 3 options with their ordered values; empty for a one-variant product. */
  options: ProductOption[];
  variants: Variant[];
  priceRange: { min: number; max: number };
}

export interface ProductOption {
  name: string;
  values: string[];
}

export interface Variant {
  id: string;
  sku: string;
  options: Record<string, string>;
  price: number;
  compareAtPrice: number | null;
  availableQuantity: number;
  gtin: string | null;
  weightGrams: number | null;
  dimensionsCm: { length: number; width: number; height: number } | null;
  position: number;
}

/** A variant as the admin writes it (a product's, at creation, or one more). */
export interface VariantInput {
  sku?: string;
  options?: Record<string, string>;
  price?: number;
  compareAtPrice?: number | null;
  gtin?: string | null;
  weightGrams?: number | null;
  dimensionsCm?: { length: number; width: number; height: number } | null;
  availableQuantity?: number;
  position?: number;
}

export interface ProductImage {
  id: string;
  key: string;
  position: number;
  urls: { thumbnail: string; medium: string; large: string };
}

export interface ProductInput {
  name: string;
  slug?: string;
  description?: string | null;
  basePrice: number;
  categoryId?: string | null;
  tags?: string[];
  availableQuantity?: number;
  options?: ProductOption[];
  variants?: VariantInput[];
}

export type ProductPatch = Partial<Omit<ProductInput, 'availableQuantity' | 'options' | 'variants'>>;

export interface Category {
  id: string;
  name: string;
  slug: string;
  parentId: string | null;
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
  /** Option values one live variant must have (values of one option OR-ed, options AND-ed). */
  options?: OptionGroup[];
  limit: number;
  cursor?: string;
}

/** An admin listing position: the sort column's value as text, and the id. */
export const sortCursor =
  (sort: AdminSort) =>
  (v: unknown): v is { v: string; id: string } => {
    const o = v as { v?: unknown; id?: unknown } | null;
    if (typeof o?.v !== 'string' || typeof o.id !== 'string' || !isUuid(o.id)) return false;
    if (sort === 'newest') return isTimeIdCursor({ createdAt: o.v, id: o.id });
    if (sort === 'price') return /^\d{1,15}$/.test(o.v);
    return o.v.length <= 500;
  };

export const toProduct = (r: ProductRow): Product => ({
  id: r.id,
  slug: r.slug,
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

/** A product as listings show it (the page's extra fields left out). */
export const toListItem = ({
  rating: _rating,
  images: _images,
  options: _options,
  variants: _variants,
  priceRange: _priceRange,
  ...item
}: ProductDetail): Product => item;

export const toDetail = (
  r: ProductDetailRow,
  urls?: (key: string) => ProductImage['urls'],
): ProductDetail => ({
  ...toProduct(r),
  rating: { average: r.rating_average, count: r.rating_count },
  options: r.options,
  variants: r.variants.map(({ length, width, height, ...v }) => ({
    ...v,
    dimensionsCm:
      length === null || width === null || height === null
        ? null
        : { length: Number(length), width: Number(width), height: Number(height) },
  })),
  priceRange: r.variants.length
    ? {
        min: Math.min(...r.variants.map((v) => v.price)),
        max: Math.max(...r.variants.map((v) => v.price)),
      }
    : { min: r.base_price, max: r.base_price },
  images: r.images.map((im) => ({
    ...im,
    urls: urls
      ? urls(im.key)
      : {
          thumbnail: `/images/${im.key}?size=thumbnail`,
          medium: `/images/${im.key}?size=medium`,
          large: `/images/${im.key}?size=large`,
        },
  })),
});

export const toCategory = (r: CategoryRow): Category => ({
  id: r.id,
  name: r.name,
  slug: r.slug,
  parentId: r.parent_id,
});

/** Tags are stored lower-case, trimmed and de-duplicated. */
export const normaliseTags = (tags: string[]) => [
  ...new Set(tags.map((t) => t.trim().toLowerCase()).filter(Boolean)),
];

/** `Cafés Especiais` -> `cafes-especiais`: the accent-folded words, joined by hyphens. */
export function slugify(s: string): string {
  return searchWords(s).join('-');
}

export function productEvent(type: string, productId: string, extra: Record<string, unknown> = {}) {
  return { type, aggregateType: 'product', aggregateId: productId, payload: { productId, ...extra } };
}

export function unknownCategory(field: string): AppError {
  return AppError.invalid('The category does not exist', [{ field, message: 'unknown category' }]);
}

export function buildTree(rows: CategoryRow[]): CategoryNode[] {
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
