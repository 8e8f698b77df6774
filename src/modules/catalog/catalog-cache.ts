/**
 * What the catalog keeps in the cache. Product pages: `product:{id}` (cache-aside, written through
 * after a committed update, invalidated on soft delete and on stock changes). Listing pages: the
 * ids of a page under `listing:{hash}`, tagged with every category they depend on, and hydrated
 * from the product entries, so a stock change touches one product entry and no listing.
 */
import { createHash } from 'node:crypto';
import type { CacheAside } from '../../platform/cache/cache-aside.ts';
import { cacheKeys } from '../../platform/cache/cache-store.ts';

export interface ListingPage {
  ids: string[];
  nextCursor: string | null;
}

/** Tag of the listings that include a category (filtered by it or by an ancestor). */
export const categoryTag = (categoryId: string) => cacheKeys.tag(`listing:cat:${categoryId}`);
/** Tag of the unfiltered listings. */
export const ALL_LISTINGS_TAG = cacheKeys.tag('listing:all');

/** Product pages: the entries worth holding in each process as well (the near cache). */
export const isProductPageKey = (key: string): boolean => key.startsWith('product:');

export class CatalogCache {
  constructor(
    private readonly cache: CacheAside,
    private readonly listingTtlSeconds: number,
  ) {}

  product<T>(id: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    return this.cache.get(cacheKeys.entry('product', id), cacheKeys.generation('product', id), load);
  }

  /** The product page as JSON text, straight from the cache on a hit. */
  /** The product's JSON text when this process holds it (no I/O), else undefined. */
  peekProductJson(id: string): string | undefined {
    return this.cache.peekJson(cacheKeys.entry('product', id));
  }

  productJson(id: string, load: () => Promise<unknown>): Promise<string | undefined> {
    return this.cache.getJson(cacheKeys.entry('product', id), cacheKeys.generation('product', id), load);
  }

  async writeThrough(id: string, value: unknown): Promise<void> {
    await this.cache.writeThrough(cacheKeys.entry('product', id), cacheKeys.generation('product', id), value);
  }

  async invalidateProduct(id: string): Promise<void> {
    await this.cache.invalidate(cacheKeys.entry('product', id), cacheKeys.generation('product', id));
  }

  async listing(query: object, load: () => Promise<ListingPage>): Promise<ListingPage> {
    const hash = createHash('sha256').update(JSON.stringify(query)).digest('hex').slice(0, 32);
    const key = cacheKeys.entry('listing', hash);
    const categoryId = (query as { categoryId?: string }).categoryId;
    const page = await this.cache.get(
      key,
      cacheKeys.generation('listing', hash),
      async () => {
        const p = await load();
        await this.cache.tag(
          categoryId ? categoryTag(categoryId) : ALL_LISTINGS_TAG,
          key,
          this.listingTtlSeconds,
        );
        return p;
      },
      this.listingTtlSeconds,
    );
    return page ?? { ids: [], nextCursor: null };
  }

  /** After a change to which products a listing holds (create, delete, price, category). */
  async invalidateListings(categoryIds: string[]): Promise<void> {
    await this.cache.invalidateTags([ALL_LISTINGS_TAG, ...categoryIds.map(categoryTag)]);
  }
}
