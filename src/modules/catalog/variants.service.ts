/**
 * A product's variants once it exists: adding one (a combination of option values it did not sell
 * yet, with its stock), changing one's SKU, price, codes, measures or position, and soft-deleting
 * one (its stock level retired; a product keeps at least one variant). Each change keeps the
 * product's base price in step with its variants, records a `product.updated` event in the same
 * transaction, and then refreshes the product's cache entry through `afterChange` (the catalog
 * service's). Also the options themselves ({@link CatalogVariants.editOptions}: add, rename,
 * reorder, remove values or options), and {@link uniqueOr}, which turns a unique violation of a
 * SKU, a combination or a slug into the client's 409 `duplicate`.
 */
import type { Database } from '../../platform/db/pool.ts';
import { AppError } from '../../platform/errors.ts';
import { isUuid } from '../../platform/ids.ts';
import { withTransaction } from '../../platform/db/transaction.ts';
import { recordEvents } from '../../platform/events/outbox.ts';
import { pgCode, pgConstraint } from '../../platform/db/pg-errors.ts';
import type { InventoryService } from '../inventory/inventory.service.ts';
import { catalogSql } from './catalog.sql.ts';
import { variantsSql } from './variants.sql.ts';
import { duplicate, MAX_VARIANTS, planVariants } from './variants.model.ts';
import { planOptionsEdit, type OptionEdit, type OptionsPlan } from './options.model.ts';
import { productEvent, type ProductDetail, type VariantInput } from './catalog.model.ts';

export class CatalogVariants {
  constructor(
    private readonly deps: {
      db: Database;
      inventory: InventoryService;
      /** After a committed change: the product read fresh, its cache entry and listings refreshed. */
      afterChange: (productId: string) => Promise<ProductDetail>;
    },
  ) {}

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
    return this.deps.afterChange(productId);
  }

  /**
   * Replaces a product's options (see ./options.model.ts): in one transaction with the product
   * locked, the options rewritten and the live variants' option values with them, a
   * `product.updated` event (the search index and webhooks follow it), then the cache entry and
   * listings refreshed. Returns the product and what changed (for the audit log).
   */
  async editOptions(
    productId: string,
    edits: OptionEdit[],
  ): Promise<{ product: ProductDetail; summary: OptionsPlan['summary'] }> {
    if (!isUuid(productId)) throw AppError.notFound('Product', { productId });
    const summary = await withTransaction(this.deps.db.primary, async (tx) => {
      if (!(await catalogSql.lockLive(tx, productId))) throw AppError.notFound('Product', { productId });
      const current = await variantsSql.optionsOf(tx, productId);
      const live = await variantsSql.ofProduct(tx, productId);
      const plan = planOptionsEdit(current, live, edits);
      await variantsSql.replaceOptions(tx, productId, plan.options);
      await uniqueOr(variantsSql.setVariantOptions(tx, productId, plan.changed));
      await variantsSql.touchProduct(tx, productId);
      await recordEvents(tx, [
        productEvent('product.updated', productId, { fields: ['options', 'variants'] }),
      ]);
      return plan.summary;
    });
    return { product: await this.deps.afterChange(productId), summary };
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
    return this.deps.afterChange(productId);
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
    await this.deps.afterChange(productId);
  }
}

/** A unique violation of a live SKU or slug is the client's 409 `duplicate` naming the field. */
export async function uniqueOr<T>(work: Promise<T>): Promise<T> {
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
