/**
 * The catalog's service, the one other modules and the routes call: products (the store's reads
 * through the cache, the admin's listing, create, change, soft delete and restore) and what other
 * modules read of the catalog (the search index, orders, invoices, media). Variants once a product
 * exists are in ./variants.service.ts and the category tree in ./categories.service.ts; their
 * methods are reached through this class, which keeps every cache entry in step after a change.
 */
import type { Database, Queryable } from '../../platform/db/pool.ts';
import { AppError } from '../../platform/errors.ts';
import { isUuid } from '../../platform/ids.ts';
import { decodeCursor, isTimeIdCursor, keysetPage } from '../../platform/cursor.ts';
import { likeLiteral } from '../../platform/db/like.ts';
import { withTransaction } from '../../platform/db/transaction.ts';
import type { CatalogCache } from './catalog-cache.ts';
import type { InventoryService } from '../inventory/inventory.service.ts';
import { recordEvents } from '../../platform/events/outbox.ts';
import {
  adminListQuery,
  type AdminSort,
  catalogSql,
  type ProductRow,
  type SourceRow,
} from './catalog.sql.ts';
import { variantsSql, type VariantSnapshot } from './variants.sql.ts';
import { checkOptions, duplicate, planVariants } from './variants.model.ts';
import { CatalogVariants, uniqueOr } from './variants.service.ts';
import type { OptionEdit } from './options.model.ts';
import { CatalogCategories } from './categories.service.ts';
import { randomUUID } from 'node:crypto';

export type { VariantSnapshot };
import {
  normaliseTags,
  productEvent,
  slugify,
  sortCursor,
  toDetail,
  toListItem,
  toProduct,
  type Category,
  type CategoryNode,
  type Product,
  type ProductDetail,
  type ProductImage,
  type ProductInput,
  type ProductPatch,
  type ProductQuery,
  type VariantInput,
} from './catalog.model.ts';

export * from './catalog.model.ts';

export class CatalogService {
  constructor(
    private readonly deps: {
      db: Database;
      inventory: InventoryService;
      cache?: CatalogCache;
      imageUrls?: (key: string) => ProductImage['urls'];
      /**
       * Whether a product's rating averages only verified purchases (reviews by a customer with a
       * paid order of it): brand-new accounts cannot bomb a rating. Default true.
       */
      ratingsVerifiedOnly?: boolean;
    },
  ) {
    this.variants = new CatalogVariants({ ...deps, afterChange: (id) => this.afterVariantChange(id) });
    this.categories = new CatalogCategories(deps);
  }

  /** A product's variants once it exists: see ./variants.service.ts. */
  private readonly variants: CatalogVariants;
  /** The category tree: see ./categories.service.ts. */
  private readonly categories: CatalogCategories;

  /**
   * A live product as the store shows it: from the cache when there is one. `fresh` reads the
   * primary and skips the cache (right after a write). The cache is always filled from the
   * primary: an entry lives up to an hour, and one read from a lagging replica right after a stock
   * change would serve the old stock all that time. Only uncached reads use the replica.
   */
  async getProduct(id: string, options: { fresh?: boolean } = {}): Promise<ProductDetail> {
    if (!isUuid(id)) throw AppError.notFound('Product', { productId: id });
    const product =
      options.fresh || !this.deps.cache
        ? await this.loadProduct(id, options.fresh ? this.deps.db.primary : this.deps.db.read)
        : await this.deps.cache.product(id, () => this.loadProduct(id, this.deps.db.primary));
    if (!product) throw AppError.notFound('Product', { productId: id });
    return product;
  }

  /**
   * The product page as JSON text: the store's hottest read, answered from the cache without
   * parsing and serialising the entry again.
   */
  /** The product page's JSON text when this process has it cached (no I/O), else undefined. */
  peekProductJson(id: string): string | undefined {
    return this.deps.cache && isUuid(id) ? this.deps.cache.peekProductJson(id) : undefined;
  }

  async getProductJson(id: string): Promise<string> {
    const cache = this.deps.cache;
    if (!cache || !isUuid(id)) return JSON.stringify(await this.getProduct(id));
    const json = await cache.productJson(id, () => this.loadProduct(id, this.deps.db.primary));
    if (json === undefined) throw AppError.notFound('Product', { productId: id });
    return json;
  }

  private async loadProduct(id: string, db: Queryable): Promise<ProductDetail | undefined> {
    const row = await catalogSql.findProduct(db, id, this.deps.ratingsVerifiedOnly ?? true);
    return row ? toDetail(row, this.deps.imageUrls) : undefined;
  }

  /** After a committed change shown on product pages (stock, rating): their entries go. */
  async pagesChanged(productIds: string[]): Promise<void> {
    const cache = this.deps.cache;
    if (cache) await Promise.all(productIds.map((id) => cache.invalidateProduct(id)));
  }

  /** After a committed catalog change: refresh the product entry and the listings it appears in. */
  private async changed(id: string, categoryIds: (string | null)[], product?: ProductDetail): Promise<void> {
    const cache = this.deps.cache;
    if (!cache) return;
    if (product) await cache.writeThrough(id, product);
    else await cache.invalidateProduct(id);
    const direct = categoryIds.filter((c): c is string => c !== null);
    await cache.invalidateListings(
      direct.length ? await catalogSql.ancestry(this.deps.db.primary, direct) : [],
    );
  }

  async createProduct(input: ProductInput): Promise<ProductDetail> {
    await this.assertCategory(input.categoryId);
    const options = checkOptions(input.options ?? []);
    const id = await withTransaction(this.deps.db.primary, async (tx) => {
      const productId = randomUUID();
      const variants = planVariants(productId, { ...input, options });
      const slug = await this.slugFor(tx, input.slug, input.name, null);
      const basePrice = Math.min(...variants.map((v) => v.price));
      await uniqueOr(
        catalogSql.insertProduct(tx, {
          id: productId,
          name: input.name,
          description: input.description ?? null,
          basePrice,
          categoryId: input.categoryId ?? null,
          tags: normaliseTags(input.tags ?? []),
          slug,
        }),
      );
      await variantsSql.insertOptions(tx, productId, options);
      await uniqueOr(variantsSql.insertVariants(tx, productId, variants));
      for (const v of variants) await this.deps.inventory.createLevel(tx, productId, v.id, v.available);
      await recordEvents(tx, [productEvent('product.created', productId)]);
      return productId;
    });
    const created = await this.getProduct(id, { fresh: true });
    await this.changed(id, [created.categoryId], created);
    return created;
  }

  /**
   * The slug a product gets: the one asked for (409 `duplicate` naming `slug` when a live product
   * has it), else one made from the name, numbered when taken (`camiseta-basica-2`).
   */
  private async slugFor(tx: Queryable, asked: string | undefined, name: string, self: string | null) {
    if (asked !== undefined) {
      if (await variantsSql.slugTaken(tx, asked, self))
        throw duplicate('slug', 'A live product already has this slug', { slug: asked });
      return asked;
    }
    const base = (slugify(name) || 'produto').slice(0, 240).replace(/-+$/, '');
    for (let n = 1; n <= 20; n++) {
      const candidate = n === 1 ? base : `${base}-${n}`;
      if (!(await variantsSql.slugTaken(tx, candidate, self))) return candidate;
    }
    return `${base}-${randomUUID().slice(0, 8)}`;
  }

  async updateProduct(id: string, patch: ProductPatch): Promise<ProductDetail> {
    if (!isUuid(id)) throw AppError.notFound('Product', { productId: id });
    await this.assertCategory(patch.categoryId);
    const before = await catalogSql.categoryOf(this.deps.db.primary, id);
    await withTransaction(this.deps.db.primary, async (tx) => {
      const { slug, ...rest } = patch;
      const updated = await catalogSql.updateProduct(tx, id, {
        ...rest,
        ...(patch.tags ? { tags: normaliseTags(patch.tags) } : {}),
      });
      if (!updated) throw AppError.notFound('Product', { productId: id });
      // A slug changes only when asked: a rename keeps the product's URL.
      if (slug !== undefined)
        await uniqueOr(variantsSql.setSlug(tx, id, await this.slugFor(tx, slug, '', id)));
      if (patch.basePrice !== undefined) {
        // A one-variant product's price is its variant's; with several, basePrice follows them.
        await variantsSql.setOnlyVariantPrice(tx, id, patch.basePrice);
        await variantsSql.syncBasePrice(tx, id);
      }
      await recordEvents(tx, [productEvent('product.updated', id, { fields: Object.keys(patch) })]);
    });
    const product = await this.getProduct(id, { fresh: true });
    await this.changed(id, [before, product.categoryId], product);
    return product;
  }

  /** The live product a SKU typed in the search box names, if any. */
  productIdBySku(sku: string): Promise<string | undefined> {
    return variantsSql.productIdBySku(this.deps.db.read, sku);
  }

  /** The live product with this slug. */
  async getProductBySlug(slug: string): Promise<ProductDetail> {
    const id = await variantsSql.idBySlug(this.deps.db.read, slug);
    if (!id) throw AppError.notFound('Product', { slug });
    return this.getProduct(id);
  }

  /** See {@link CatalogVariants.addVariant}. */
  addVariant(productId: string, input: VariantInput): Promise<ProductDetail> {
    return this.variants.addVariant(productId, input);
  }

  /** See {@link CatalogVariants.updateVariant}. */
  updateVariant(
    variantId: string,
    patch: Omit<VariantInput, 'options' | 'availableQuantity'>,
  ): Promise<ProductDetail> {
    return this.variants.updateVariant(variantId, patch);
  }

  /** See {@link CatalogVariants.editOptions}. */
  editOptions(productId: string, edits: OptionEdit[]) {
    return this.variants.editOptions(productId, edits);
  }

  /** See {@link CatalogVariants.deleteVariant}. */
  deleteVariant(variantId: string): Promise<void> {
    return this.variants.deleteVariant(variantId);
  }

  /** After a variant change: the product read fresh from the primary, its entry and listings refreshed. */
  private async afterVariantChange(productId: string): Promise<ProductDetail> {
    const product = await this.getProduct(productId, { fresh: true });
    await this.changed(productId, [product.categoryId], product);
    return product;
  }

  async deleteProduct(id: string): Promise<void> {
    if (!isUuid(id)) throw AppError.notFound('Product', { productId: id });
    await withTransaction(this.deps.db.primary, async (tx) => {
      if (!(await catalogSql.softDeleteProduct(tx, id)))
        throw AppError.notFound('Product', { productId: id });
      await recordEvents(tx, [productEvent('product.deleted', id)]);
    });
    await this.changed(id, [await catalogSql.categoryOf(this.deps.db.primary, id)]);
  }

  /** Brings a soft-deleted product back to the store and the search index. */
  async restoreProduct(id: string): Promise<ProductDetail> {
    if (!isUuid(id)) throw AppError.notFound('Deleted product', { productId: id });
    await withTransaction(this.deps.db.primary, async (tx) => {
      const outcome = await catalogSql.restoreProduct(tx, id);
      if (!outcome) throw AppError.notFound('Deleted product', { productId: id });
      if (outcome === 'category_deleted')
        throw AppError.conflict('category_deleted', 'Its category is deleted: restore the category first', {
          productId: id,
        });
      await recordEvents(tx, [productEvent('product.updated', id)]);
    });
    const product = await this.getProduct(id, { fresh: true });
    await this.changed(id, [product.categoryId], product);
    return product;
  }

  /** Soft-deleted products, most recently deleted first. */
  async deletedProducts(
    limit: number,
    cursor?: string,
  ): Promise<{ items: { id: string; name: string; deletedAt: string }[]; nextCursor: string | null }> {
    const after = cursor ? decodeCursor(cursor, isTimeIdCursor) : undefined;
    const rows = await catalogSql.deletedProducts(
      this.deps.db.primary,
      limit + 1,
      after && { deletedAt: after.createdAt, id: after.id },
    );
    return keysetPage(
      rows,
      limit,
      (r) => ({ id: r.id, name: r.name, deletedAt: new Date(r.deleted_at).toISOString() }),
      (r) => ({ createdAt: r.deleted_at, id: r.id }),
    );
  }

  /** See {@link CatalogCategories.deleteCategory}. */
  deleteCategory(id: string): Promise<void> {
    return this.categories.deleteCategory(id);
  }

  /** See {@link CatalogCategories.restoreCategory}. */
  restoreCategory(id: string): Promise<Category> {
    return this.categories.restoreCategory(id);
  }

  deletedCategories(): Promise<(Category & { deletedAt: string })[]> {
    return this.categories.deletedCategories();
  }

  createCategory(input: { name: string; slug?: string; parentId?: string | null }): Promise<Category> {
    return this.categories.createCategory(input);
  }

  /** See {@link CatalogCategories.updateCategory}. */
  updateCategory(
    id: string,
    patch: { name?: string; slug?: string; parentId?: string | null },
  ): Promise<Category> {
    return this.categories.updateCategory(id, patch);
  }

  private assertCategory(id: string | null | undefined): Promise<void> {
    return this.categories.assertCategory(id);
  }

  /** The admin's listing: name fragment, category subtree, sort, keyset pages (never cached). */
  async adminList(f: {
    q?: string;
    categoryId?: string;
    sort: AdminSort;
    limit: number;
    cursor?: string;
  }): Promise<{ items: Product[]; nextCursor: string | null }> {
    const after = f.cursor === undefined ? undefined : decodeCursor(f.cursor, sortCursor(f.sort));
    const categoryIds =
      f.categoryId === undefined ? undefined : await catalogSql.subtree(this.deps.db.read, f.categoryId);
    const { rows } = await this.deps.db.read.query<ProductRow & { sort_key: string }>(
      adminListQuery({
        ...(f.q ? { q: likeLiteral(f.q) } : {}),
        ...(categoryIds ? { categoryIds } : {}),
        sort: f.sort,
        ...(after ? { after } : {}),
        limit: f.limit + 1,
      }),
    );
    return keysetPage(rows, f.limit, toProduct, (last) => ({ v: last.sort_key, id: last.id }));
  }

  async listProducts(q: ProductQuery): Promise<{ items: Product[]; nextCursor: string | null }> {
    if (q.minPrice !== undefined && q.maxPrice !== undefined && q.minPrice > q.maxPrice) {
      throw AppError.invalid('minPrice must not exceed maxPrice', [
        { field: 'minPrice', message: 'greater than maxPrice' },
      ]);
    }
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor, isTimeIdCursor);
    const load = async () => {
      const categoryIds =
        q.categoryId === undefined ? undefined : await catalogSql.subtree(this.deps.db.read, q.categoryId);
      const rows = await catalogSql.listProducts(this.deps.db.read, {
        ...(categoryIds ? { categoryIds } : {}),
        ...(q.minPrice !== undefined ? { minPrice: q.minPrice } : {}),
        ...(q.maxPrice !== undefined ? { maxPrice: q.maxPrice } : {}),
        ...(q.options ? { options: q.options } : {}),
        ...(after ? { after } : {}),
        limit: q.limit + 1,
      });
      const page = keysetPage(
        rows,
        q.limit,
        (r) => r,
        (last) => ({ createdAt: last.created_key, id: last.id }),
      );
      return { rows: page.items, nextCursor: page.nextCursor };
    };
    const cache = this.deps.cache;
    if (!cache) {
      const { rows, nextCursor } = await load();
      return { items: rows.map(toProduct), nextCursor };
    }
    // The page's ids come from the listing cache, the products from their own entries.
    const page = await cache.listing(q, async () => {
      const { rows, nextCursor } = await load();
      return { ids: rows.map((r) => r.id), nextCursor };
    });
    const products = await Promise.all(page.ids.map((id) => this.getProduct(id).catch(() => undefined)));
    return {
      items: products.filter((p): p is ProductDetail => p !== undefined).map(toListItem),
      nextCursor: page.nextCursor,
    };
  }

  categoryTree(): Promise<CategoryNode[]> {
    return this.categories.categoryTree();
  }

  // What other modules read of the catalog (the search index copies it). Always the primary:
  // copies must not lag behind the events that asked for them.

  /** Live products by id, as copies see them. */
  /** Names of products by id (from the primary), deleted ones included. */
  namesOf(productIds: string[]): Promise<Map<string, string>> {
    return catalogSql.namesOf(this.deps.db.primary, productIds);
  }

  sources(productIds: string[]): Promise<SourceRow[]> {
    return catalogSql.sourcesByIds(this.deps.db.primary, productIds);
  }

  /** The live catalog in id order, a page at a time. */
  sourcesAfter(after: string | null, limit: number): Promise<SourceRow[]> {
    return catalogSql.sourcesAfter(this.deps.db.primary, after, limit);
  }

  /** Ids and versions of live products in id order, a page at a time. */
  versionsAfter(after: string | null, limit: number): Promise<{ id: string; updated_at: string }[]> {
    return catalogSql.versionsAfter(this.deps.db.primary, after, limit);
  }

  /** Products changed (deleted ones included) since `since`, in id order, a page at a time. */
  changedSince(since: string, after: string | null, limit: number): Promise<string[]> {
    return catalogSql.changedSince(this.deps.db.primary, since, after, limit);
  }

  /** Current prices of live products, read in the caller's transaction (an order capturing them). */
  /** Live variants (of live products) by id, as an order line keeps them. */
  liveVariantsByIds(db: Queryable, ids: string[]): Promise<Map<string, VariantSnapshot>> {
    return variantsSql.liveByIds(db, ids);
  }

  /** The live variants of live products, in position order. */
  liveVariantsOfProducts(db: Queryable, productIds: string[]): Promise<Map<string, VariantSnapshot[]>> {
    return variantsSql.liveOfProducts(db, productIds);
  }

  livePrices(tx: Queryable, productIds: string[]): Promise<Map<string, number>> {
    return catalogSql.livePrices(tx, productIds);
  }

  /** Each product's category with its ancestors (see catalogSql.productCategoryPaths). */
  productCategoryPaths(
    productIds: string[],
    db: Queryable = this.deps.db.read,
  ): Promise<Map<string, string[]>> {
    return catalogSql.productCategoryPaths(db, productIds);
  }

  countLive(): Promise<number> {
    return catalogSql.countLiveProducts(this.deps.db.primary);
  }

  /** See {@link CatalogCategories.categoryPaths}. */
  categoryPaths(): Promise<Map<string, string[]>> {
    return this.categories.categoryPaths();
  }

  /** See {@link CatalogCategories.productIdsUnder}. */
  productIdsUnder(categoryId: string): Promise<string[]> {
    return this.categories.productIdsUnder(categoryId);
  }
}
