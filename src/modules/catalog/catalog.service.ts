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
import { checkOptions, duplicate, MAX_VARIANTS, planVariants } from './variants.model.ts';
import { pgCode, pgConstraint } from '../../platform/db/pg-errors.ts';
import { randomUUID } from 'node:crypto';

export type { VariantSnapshot };
import {
  buildTree,
  normaliseTags,
  productEvent,
  slugify,
  sortCursor,
  toCategory,
  toDetail,
  toListItem,
  toProduct,
  unknownCategory,
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
  ) {}

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

  /** One more variant of a product with options (a combination it did not sell yet). */
  async addVariant(productId: string, input: VariantInput): Promise<ProductDetail> {
    if (!isUuid(productId)) throw AppError.notFound('Product', { productId });
    await withTransaction(this.deps.db.primary, async (tx) => {
      const product = await catalogSql.lockLive(tx, productId);
      if (!product) throw AppError.notFound('Product', { productId });
      const options = await variantsSql.optionsOf(tx, productId);
      if (options.length === 0)
        throw AppError.conflict(
          'options_required',
          'A product without options has exactly one variant: give it options first',
          { productId },
        );
      const existing = await variantsSql.ofProduct(tx, productId);
      if (existing.length >= MAX_VARIANTS)
        throw AppError.conflict('too_many_variants', `A product may have at most ${MAX_VARIANTS} variants`);
      const [v] = planVariants(productId, {
        basePrice: product.base_price,
        options,
        variants: [{ ...input, position: input.position ?? existing.length }],
      });
      await uniqueOr(variantsSql.insertVariants(tx, productId, [v!]));
      await this.deps.inventory.createLevel(tx, productId, v!.id, v!.available);
      await variantsSql.syncBasePrice(tx, productId);
      await recordEvents(tx, [productEvent('product.updated', productId, { fields: ['variants'] })]);
    });
    return this.afterVariantChange(productId);
  }

  /** Changes a variant's SKU, price, codes, measures or position (not its option values). */
  async updateVariant(
    variantId: string,
    patch: Omit<VariantInput, 'options' | 'availableQuantity'>,
  ): Promise<ProductDetail> {
    if (!isUuid(variantId)) throw AppError.notFound('Variant', { variantId });
    const productId = await withTransaction(this.deps.db.primary, async (tx) => {
      const productId = await uniqueOr(variantsSql.updateVariant(tx, variantId, patch));
      if (!productId) throw AppError.notFound('Variant', { variantId });
      await variantsSql.syncBasePrice(tx, productId);
      await recordEvents(tx, [productEvent('product.updated', productId, { fields: ['variants'] })]);
      return productId;
    });
    return this.afterVariantChange(productId);
  }

  /** Soft-deletes a variant (kept for order history); a product keeps at least one. */
  async deleteVariant(variantId: string): Promise<void> {
    if (!isUuid(variantId)) throw AppError.notFound('Variant', { variantId });
    const productId = await withTransaction(this.deps.db.primary, async (tx) => {
      const outcome = await variantsSql.softDelete(tx, variantId);
      if (!outcome) throw AppError.notFound('Variant', { variantId });
      if (outcome === 'last')
        throw AppError.conflict(
          'last_variant',
          'A product keeps at least one variant: delete the product instead',
        );
      const level = await this.deps.inventory.retireInTx(tx, outcome.productId, variantId);
      await variantsSql.syncBasePrice(tx, outcome.productId);
      await recordEvents(tx, [
        productEvent('product.updated', outcome.productId, { fields: ['variants'] }),
        ...this.deps.inventory.events([level]),
      ]);
      tx.afterCommit(() => this.deps.inventory.notify([level]));
      return outcome.productId;
    });
    await this.afterVariantChange(productId);
  }

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

  /** Soft-deletes an empty category (no live sub-category, no live product): 409 otherwise. */
  async deleteCategory(id: string): Promise<void> {
    if (!isUuid(id)) throw AppError.notFound('Category', { categoryId: id });
    const affected = await withTransaction(this.deps.db.primary, async (tx) => {
      const outcome = await catalogSql.softDeleteCategory(tx, id);
      if (!outcome) throw AppError.notFound('Category', { categoryId: id });
      if (outcome !== 'deleted')
        throw AppError.conflict(
          'category_not_empty',
          outcome === 'has_children'
            ? 'The category has sub-categories: move or delete them first'
            : 'The category has products: move or delete them first',
          { categoryId: id, reason: outcome },
        );
      await recordEvents(tx, [
        { type: 'category.updated', aggregateType: 'category', aggregateId: id, payload: { categoryId: id } },
      ]);
      return catalogSql.ancestry(tx, [id]);
    });
    await this.deps.cache?.invalidateListings(affected);
  }

  /** Brings a deleted category back (its parent must be live). */
  async restoreCategory(id: string): Promise<Category> {
    if (!isUuid(id)) throw AppError.notFound('Deleted category', { categoryId: id });
    const row = await withTransaction(this.deps.db.primary, async (tx) => {
      const outcome = await catalogSql.restoreCategory(tx, id);
      if (!outcome) throw AppError.notFound('Deleted category', { categoryId: id });
      if (outcome === 'parent_deleted')
        throw AppError.conflict(
          'parent_deleted',
          'Its parent category is deleted: restore the parent first',
          {
            categoryId: id,
          },
        );
      await recordEvents(tx, [
        { type: 'category.updated', aggregateType: 'category', aggregateId: id, payload: { categoryId: id } },
      ]);
      return outcome;
    });
    return toCategory(row);
  }

  async deletedCategories(): Promise<(Category & { deletedAt: string })[]> {
    return (await catalogSql.deletedCategories(this.deps.db.primary)).map((r) => ({
      ...toCategory(r),
      deletedAt: r.deleted_at.toISOString(),
    }));
  }

  async createCategory(input: { name: string; slug?: string; parentId?: string | null }): Promise<Category> {
    const slug = input.slug ?? slugify(input.name);
    if (!slug)
      throw AppError.invalid('A slug cannot be derived from this name', [
        { field: 'slug', message: 'required' },
      ]);
    await this.assertCategory(input.parentId, 'parentId');
    return toCategory(
      await catalogSql.insertCategory(this.deps.db.primary, {
        name: input.name,
        slug,
        parentId: input.parentId ?? null,
      }),
    );
  }

  async updateCategory(
    id: string,
    patch: { name?: string; slug?: string; parentId?: string | null },
  ): Promise<Category> {
    if (!isUuid(id)) throw AppError.notFound('Category', { categoryId: id });
    return withTransaction(this.deps.db.primary, async (tx) => {
      if (patch.parentId) {
        // Serialise tree moves so two concurrent moves cannot build a cycle together.
        await tx.query('LOCK TABLE categories IN SHARE ROW EXCLUSIVE MODE');
        if (!(await catalogSql.categoryExists(tx, patch.parentId))) throw unknownCategory('parentId');
        if (await catalogSql.isSelfOrDescendant(tx, id, patch.parentId)) {
          throw AppError.conflict(
            'category_cycle',
            'A category cannot be moved under itself or its descendants',
          );
        }
      }
      const before = await catalogSql.ancestry(tx, [id]);
      const row = await catalogSql.updateCategory(tx, id, patch);
      if (!row) throw AppError.notFound('Category', { categoryId: id });
      await recordEvents(tx, [
        { type: 'category.updated', aggregateType: 'category', aggregateId: id, payload: { categoryId: id } },
      ]);
      return { category: toCategory(row), affected: [...before, ...(await catalogSql.ancestry(tx, [id]))] };
    }).then(async ({ category, affected }) => {
      // A move changes which products the old and the new ancestors' listings hold.
      await this.deps.cache?.invalidateListings([...new Set(affected)]);
      return category;
    });
  }

  private async assertCategory(id: string | null | undefined, field = 'categoryId'): Promise<void> {
    if (id && !(await catalogSql.categoryExists(this.deps.db.primary, id))) throw unknownCategory(field);
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

  async categoryTree(): Promise<CategoryNode[]> {
    return buildTree(await catalogSql.listCategories(this.deps.db.read));
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

  /** Each category's path: the category, then its ancestors up to the root. */
  async categoryPaths(): Promise<Map<string, string[]>> {
    const rows = await catalogSql.listCategories(this.deps.db.primary);
    const parent = new Map(rows.map((r) => [r.id, r.parent_id]));
    const paths = new Map<string, string[]>();
    for (const { id } of rows) {
      const path: string[] = [];
      for (let c: string | null | undefined = id; c && !path.includes(c); c = parent.get(c)) path.push(c);
      paths.set(id, path);
    }
    return paths;
  }

  /** Every product (deleted ones too) in a category or below it. */
  async productIdsUnder(categoryId: string): Promise<string[]> {
    const db = this.deps.db.primary;
    return catalogSql.productIdsInCategories(db, await catalogSql.subtree(db, categoryId));
  }
}

/** A unique violation of a live SKU or slug is the client's 409 `duplicate` naming the field. */
async function uniqueOr<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (pgCode(error) === '23505') {
      const constraint = pgConstraint(error);
      if (constraint === 'idx_product_variants_sku')
        throw duplicate('sku', 'A live variant already has this SKU');
      if (constraint === 'idx_product_variants_combination')
        throw duplicate('options', 'Each combination of option values may be sold once');
      if (constraint === 'idx_products_slug') throw duplicate('slug', 'A live product already has this slug');
    }
    throw error;
  }
}
