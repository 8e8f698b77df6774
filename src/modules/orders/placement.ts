/**
 * Placing an order, every way it is written: one statement (an order of one variant, with or
 * without claiming an Idempotency-Key in the same statement), or inside a caller's transaction
 * (several variants, a cart). Each way admits the holder (caps on what is held unpaid), reserves
 * the stock exactly (no oversell), and writes the order, its items and its events together. The
 * checkout module picks the way (see docs/decisions/0003-one-statement-orders.md).
 */
import { randomUUID } from 'node:crypto';
import type { Database, Queryable } from '../../platform/db/pool.ts';
import { withTransaction, type Tx } from '../../platform/db/transaction.ts';
import { AppError } from '../../platform/errors.ts';
import { isUuid } from '../../platform/ids.ts';
import { holderBusy, pgCode } from '../../platform/db/pg-errors.ts';
import type { InventoryService, LowStockCrossing, StockLevel } from '../inventory/inventory.service.ts';
import type { CatalogService, VariantSnapshot } from '../catalog/catalog.service.ts';
import type { KeyClaim } from '../idempotency/idempotency.service.ts';
import { placementSql, type HoldAdmission } from './placement.sql.ts';
import {
  NO_HOLD_LIMITS,
  toOrder,
  type HoldLimits,
  type Order,
  type OrderDraft,
  type OrderLineInput,
  type Shortfall,
} from './orders.model.ts';

export class OrderPlacement {
  constructor(
    private readonly deps: {
      db: Database;
      inventory: InventoryService;
      /** Live variants (price, SKU, options), read in the order's transaction. */
      catalog: Pick<CatalogService, 'liveVariantsByIds' | 'liveVariantsOfProducts'>;
      holds?: HoldLimits;
    },
  ) {}

  private get holds(): HoldLimits {
    return this.deps.holds ?? NO_HOLD_LIMITS;
  }

  /**
   * The admission of a new order of `units` units by `owner` from `address`. A fresh owner (see
   * {@link OrderDraft.freshOwner}) holds nothing yet: its caps are checked here against this order
   * alone and the statement admits the address only.
   */
  private admission({ owner, address, freshOwner }: OrderDraft, units: number): HoldAdmission {
    const { ttlMinutes, perAddress } = this.holds;
    let { perOwner } = this.holds;
    if (freshOwner) {
      // Its only order is this one: within any order cap, and within the unit cap if it is small enough.
      if (perOwner.units > 0 && units > perOwner.units) throw ownerHoldRefusal(this.holds);
      perOwner = { orders: 0, units: 0 };
    }
    return {
      address,
      customerId: 'customerId' in owner ? owner.customerId : null,
      guestSessionId: 'guestSessionId' in owner ? owner.guestSessionId : null,
      units,
      ttlMinutes,
      perAddress,
      perOwner,
    };
  }

  /**
   * Places an order on its own (not inside a caller's transaction). An order of one product, the
   * common case, is one statement: the guarded reservation, the order, its items and its events
   * commit together or not at all, in one round trip. Other orders run {@link placeInTx} in a
   * transaction of their own. Stock listeners are told once it committed.
   */
  async place(draft: OrderDraft): Promise<Order> {
    const { keys } = wantedOf(draft.lines, this.holds.maxUnitsPerLine);
    if (keys.length !== 1) return withTransaction(this.deps.db.primary, (tx) => this.placeInTx(tx, draft));
    const { order, level } = await this.placeOne(this.deps.db.primary, draft);
    this.deps.inventory.notify([level]);
    return order;
  }

  /** True when {@link placeClaimed} can place these lines: they name one variant (or product). */
  placesInOneStatement(lines: OrderLineInput[]): boolean {
    return wantedOf(lines, this.holds.maxUnitsPerLine).keys.length === 1;
  }

  /**
   * An order of one product placed by one statement that also claims its Idempotency-Key (see
   * placementSql.placeOne): both commit, or nothing does. A key claimed already fails the statement
   * with a unique violation.
   */
  async placeClaimed(draft: OrderDraft, claim: KeyClaim): Promise<Order> {
    const { order, level } = await this.placeOne(this.deps.db.primary, draft, claim);
    this.deps.inventory.notify([level]);
    return order;
  }

  /**
   * An order of one variant in one statement (see placementSql.placeOne), its holders admitted by the
   * same statement; 400/404/409 when not placed, 409/429 when a holder holds too much already.
   * A line naming a product stands for its default variant, which has the product's id; a
   * one-variant product whose variant has another id is placed with that variant on a second try.
   */
  private async placeOne(
    db: Queryable,
    draft: OrderDraft,
    claim?: KeyClaim,
  ): Promise<{ order: Order; level: StockLevel }> {
    const { owner, lines } = draft;
    const { wanted, keys } = wantedOf(lines, this.holds.maxUnitsPerLine);
    const variantId = keys[0]!;
    const quantity = wanted.get(variantId)!;
    const id = draft.id ?? randomUUID();
    let placed: Awaited<ReturnType<typeof placementSql.placeOne>>;
    try {
      placed = await placementSql.placeOne(db, {
        id,
        variantId,
        quantity,
        customerId: 'customerId' in owner ? owner.customerId : null,
        guestSessionId: 'guestSessionId' in owner ? owner.guestSessionId : null,
        lines: lines.map((l) => ({ quantity: l.quantity, customization: l.customization })),
        placedPayload: { orderId: id, currency: 'BRL' },
        hold: this.admission(draft, quantity),
        lowStockThreshold: this.deps.inventory.lowStockThreshold,
        ...(claim ? { claim } : {}),
      });
    } catch (error) {
      if (pgCode(error) === '22003') throw totalTooLarge(); // price x quantity beyond the column
      throw holdRefusal(error, this.holds) ?? error;
    }
    if (!placed) {
      // Nothing was written: say why (or find the one variant a product-only line stands for).
      const variant = (await this.resolve(db, lines)).get(variantId)!;
      if (variant.id !== variantId)
        return this.placeOne(
          db,
          { ...draft, lines: lines.map((l) => ({ ...l, variantId: variant.id })) },
          claim,
        );
      const available = (await this.deps.inventory.availableOf(db, [variantId])).get(variantId) ?? 0;
      throw insufficientStock([
        { productId: variant.productId, variantId, sku: variant.sku, requested: quantity, available },
      ]);
    }
    return { order: toOrder(placed.order, placed.items), level: placed.level };
  }

  /**
   * The live variant each line's key (see {@link wantedOf}) stands for: a variant by its id, or
   * the one variant of a product. 400 for an unknown or deleted variant or product, and
   * `variant_required` for a product with several variants.
   */
  private async resolve(db: Queryable, lines: OrderLineInput[]): Promise<Map<string, VariantSnapshot>> {
    const keys = [...new Set(lines.map(keyOf))];
    const found = await this.deps.catalog.liveVariantsByIds(db, keys);
    const productOnly = lines.flatMap((l, i) =>
      l.variantId === undefined && !found.has(l.productId!) ? [{ productId: l.productId!, index: i }] : [],
    );
    const ofProducts = productOnly.length
      ? await this.deps.catalog.liveVariantsOfProducts(
          db,
          productOnly.map((l) => l.productId),
        )
      : new Map<string, VariantSnapshot[]>();
    for (const { productId, index } of productOnly) {
      const variants = ofProducts.get(productId) ?? [];
      if (variants.length === 0) throw unknownProduct(index);
      if (variants.length > 1) throw variantRequired(index, productId);
      found.set(productId, variants[0]!);
    }
    lines.forEach((l, i) => {
      const v = found.get(keyOf(l));
      if (!v) throw unknownVariant(i);
      // A line naming both must name a variant of that product.
      if (l.variantId !== undefined && l.productId !== undefined && v.productId !== l.productId)
        throw unknownVariant(i);
    });
    return found;
  }

  /**
   * Places an order inside the caller's transaction: prices captured now, every line reserved,
   * all or nothing. Lines of one variant are summed before the stock check. Throws 409
   * `insufficient_stock` naming every short variant. Stock listeners are told after the commit.
   */
  async placeInTx(tx: Tx, draft: OrderDraft): Promise<Order> {
    const { owner, lines, address } = draft;
    const { keys } = wantedOf(lines, this.holds.maxUnitsPerLine);
    if (keys.length === 1) {
      // One variant (the common case): one statement, as on its own.
      const { order, level } = await this.placeOne(tx, draft);
      tx.afterCommit(() => this.deps.inventory.notify([level]));
      return order;
    }
    const variants = await this.resolve(tx, lines);
    // Lines as the variants they stand for (a product-only line and its variant's line add up).
    const resolved = lines.map((l) => ({ ...l, variant: variants.get(keyOf(l))! }));
    const wanted = new Map<string, number>();
    for (const l of resolved) wanted.set(l.variant.id, (wanted.get(l.variant.id) ?? 0) + l.quantity);
    const units = [...wanted.values()].reduce((a, b) => a + b, 0);
    try {
      await placementSql.admitHold(tx, this.admission(draft, units));
    } catch (error) {
      throw holdRefusal(error, this.holds) ?? error;
    }
    const { levels, lowStock } = await this.reserve(tx, variants, wanted);
    tx.afterCommit(() => this.deps.inventory.notify(levels));

    const total = resolved.reduce((sum, l) => sum + l.quantity * l.variant.price, 0);
    if (!Number.isSafeInteger(total) || total > 2_147_483_647) throw totalTooLarge();
    const id = draft.id ?? randomUUID();
    const { order: row, items } = await placementSql.insertPlaced(tx, {
      id,
      customerId: 'customerId' in owner ? owner.customerId : null,
      guestSessionId: 'guestSessionId' in owner ? owner.guestSessionId : null,
      total,
      holdAddress: address,
      items: resolved.map((l) => ({
        productId: l.variant.productId,
        variantId: l.variant.id,
        sku: l.variant.sku,
        options: l.variant.options,
        productName: l.variant.name,
        quantity: l.quantity,
        unitPrice: l.variant.price,
        customization: l.customization,
      })),
      events: [
        {
          type: 'order.placed',
          aggregateType: 'order',
          aggregateId: id,
          payload: {
            orderId: id,
            currency: 'BRL',
            items: resolved.map((l) => ({
              productId: l.variant.productId,
              variantId: l.variant.id,
              quantity: l.quantity,
            })),
            totalAmount: total,
          },
        },
        ...this.deps.inventory.events(levels, lowStock),
      ],
    });
    return toOrder(row, items);
  }

  /**
   * Reserves every variant's summed quantity; throws 409 naming every short one. The rows are
   * locked in variant-id order (no deadlock between concurrent orders) and all checked, so the
   * error names every short variant; then the stock moves in one statement.
   */
  private async reserve(
    tx: Queryable,
    variants: Map<string, VariantSnapshot>,
    wanted: Map<string, number>,
  ): Promise<{ levels: StockLevel[]; lowStock: LowStockCrossing[] }> {
    const ids = [...wanted.keys()].sort();
    const byId = new Map([...variants.values()].map((v) => [v.id, v]));
    const locked = await this.deps.inventory.lockLevels(tx, ids);
    const short: Shortfall[] = [];
    for (const variantId of ids) {
      const available = locked.get(variantId)?.availableQuantity ?? 0;
      const requested = wanted.get(variantId)!;
      const v = byId.get(variantId)!;
      if (available < requested)
        short.push({ productId: v.productId, variantId, sku: v.sku, requested, available });
    }
    if (short.length > 0) throw insufficientStock(short);
    const { reserved, levels, lowStock } = await this.deps.inventory.reserveMany(
      tx,
      ids.map((variantId) => ({ variantId, quantity: wanted.get(variantId)! })),
    );
    // The rows are locked and were checked, so every guarded update applied.
    if (reserved !== ids.length) throw new Error('reservation guard failed on locked rows');
    return { levels, lowStock };
  }
}

function unknownProduct(index: number): AppError {
  return AppError.invalid('The product does not exist or is no longer sold', [
    { field: `items.${index}.productId`, message: 'unknown product' },
  ]);
}

function unknownVariant(index: number): AppError {
  return AppError.invalid('The variant does not exist or is no longer sold', [
    { field: `items.${index}.variantId`, message: 'unknown variant' },
  ]);
}

function variantRequired(index: number, productId: string): AppError {
  return new AppError(
    'invalid',
    'variant_required',
    'This product has several variants: name the variant (variantId) of each line',
    { details: [{ field: `items.${index}.variantId`, message: 'required', productId }] },
  );
}

function insufficientStock(short: Shortfall[]): AppError {
  return AppError.conflict('insufficient_stock', 'Not enough stock for some items', short);
}

/** What a line's stock is found by: its variant, else its product (the default variant's id). */
const keyOf = (l: OrderLineInput): string => (l.variantId ?? l.productId)!;

/**
 * Validates the lines (at most `maxUnits` units each: 400 `too_many_units`; a variant or a
 * product each) and sums them per key ({@link keyOf}); keys sorted (the locking order).
 */
function wantedOf(
  lines: OrderLineInput[],
  maxUnits: number,
): { wanted: Map<string, number>; keys: string[] } {
  if (lines.length === 0)
    throw AppError.invalid('An order needs at least one item', [{ field: 'items', message: 'empty' }]);
  const wanted = new Map<string, number>();
  lines.forEach((l, i) => {
    if (l.quantity > maxUnits)
      throw new AppError('invalid', 'too_many_units', `An order line may ask for at most ${maxUnits} units`, {
        details: [{ field: `items.${i}.quantity`, message: `at most ${maxUnits}` }],
      });
    if (l.variantId !== undefined) {
      if (!isUuid(l.variantId)) throw unknownVariant(i);
    } else if (l.productId === undefined || !isUuid(l.productId)) throw unknownProduct(i);
    wanted.set(keyOf(l), (wanted.get(keyOf(l)) ?? 0) + l.quantity);
  });
  return { wanted, keys: [...wanted.keys()].sort() };
}

/**
 * The answer to a holder admission the database refused (order_hold_admit): 429 for an address
 * (many callers may share it; it frees up as orders are paid or expire), 409 for the caller's own
 * customer or guest session. Undefined for any other error.
 */
function holdRefusal(error: unknown, holds: HoldLimits): AppError | undefined {
  const code = pgCode(error);
  if (code === 'SFH01')
    return new AppError(
      'rate_limited',
      'too_many_pending_orders',
      `This address holds the most unpaid orders allowed (${holds.perAddress.orders} orders, ${holds.perAddress.units} units): pay or wait for them to expire`,
      { retryAfter: holds.ttlMinutes * 60 },
    );
  if (code === 'SFH02') return ownerHoldRefusal(holds);
  return holderBusy(error);
}

/** 409: the caller's own customer or guest session would hold more unpaid orders than allowed. */
const ownerHoldRefusal = (holds: HoldLimits) =>
  AppError.conflict(
    'too_many_pending_orders',
    `You already hold the most unpaid orders allowed (${holds.perOwner.orders} orders, ${holds.perOwner.units} units): pay or wait for them to expire`,
  );

export const totalTooLarge = () =>
  AppError.invalid('The order total is too large', [{ field: 'items', message: 'total too large' }]);
