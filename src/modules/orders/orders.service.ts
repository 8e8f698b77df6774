import { randomUUID } from 'node:crypto';
import type { Database, Queryable } from '../../platform/db/pool.ts';
import { withTransaction, type Tx } from '../../platform/db/transaction.ts';
import { AppError } from '../../platform/errors.ts';
import { isUuid } from '../../platform/ids.ts';
import { holderBusy, pgCode } from '../../platform/db/pg-errors.ts';
import { decodeCursor, isTimeIdCursor, keysetPage } from '../../platform/cursor.ts';
import { recordEvents } from '../../platform/events/outbox.ts';
import { defineJob, type Job } from '../../platform/jobs/job.ts';
import type {
  InventoryService,
  LowStockCrossing,
  StockLevel,
  StockLine,
} from '../inventory/inventory.service.ts';
import type { CatalogService, VariantSnapshot } from '../catalog/catalog.service.ts';
import type { KeyClaim } from '../idempotency/idempotency.service.ts';
import {
  ordersSql,
  type HoldAdmission,
  type OrderDiscount,
  type OrderItemRow,
  type OrderStatus,
  type ShippingAddress,
  type StoredBuyer,
  type StoredShipping,
} from './orders.sql.ts';
import { deliverySql, type Actor, type NewOrderEvent } from './delivery.sql.ts';
import {
  FINAL_STATUSES,
  NO_HOLD_LIMITS,
  type ArchivableOrder,
  toOrder,
  type HoldLimits,
  type Order,
  type OrderDraft,
  type OrderLineInput,
  type OrderItem,
  type Owner,
  type Shortfall,
  sourcesOf,
  toFulfillment,
  toHistoryEntry,
  toItem,
  trackingUrlOf,
  TRANSITIONS,
  type OrderHistoryEntry,
} from './orders.model.ts';

export * from './orders.model.ts';
export type { Actor, NewOrderEvent } from './delivery.sql.ts';
export type { OrderDiscount, ShippingAddress, StoredBuyer, StoredShipping } from './orders.sql.ts';

/** The most fulfilments one order may have (a shipment per unit of a large order is plenty). */
export const MAX_FULFILLMENTS = 100;

/** Units held per product by open orders (inventory reconciles reserved stock against it). */
export function heldByOpenOrders(db: Queryable): Promise<StockLine[]> {
  return ordersSql.heldByOpenOrders(db);
}

/** How an order is being paid, as the payments module tells it (shown on the order). */
export interface OrderPayment {
  method: 'card' | 'pix' | 'boleto';
  status: string;
  /** A card payment's installment plan: `total` is what the payer pays in all. */
  installments: { count: number; amount: number; total: number; interestFree: boolean } | null;
}

export class OrdersService {
  /** The payments module's view of an order's payment (registered at composition). */
  private paymentOf: (orderId: string) => Promise<OrderPayment | null> = () => Promise.resolve(null);

  /** Registers who tells how an order is paid (the payments module, which depends on this one). */
  describePaymentsWith(lookup: (orderId: string) => Promise<OrderPayment | null>): void {
    this.paymentOf = lookup;
  }

  /** What else an order held unpaid gives back when it is cancelled unpaid (registered at composition). */
  private readonly unpaidCancelHooks: ((tx: Tx, orderId: string) => Promise<unknown>)[] = [];

  /**
   * Registers what to give back, in the cancelling transaction, when a pending (unpaid) order is
   * cancelled or expires: the promotions module releases the order's redemptions.
   */
  whenCancelledUnpaid(hook: (tx: Tx, orderId: string) => Promise<unknown>): void {
    this.unpaidCancelHooks.push(hook);
  }

  /** An order as its detail view shows it: with how it is being paid. */
  async withPayment<T extends Order>(order: T): Promise<T & { payment: OrderPayment | null }> {
    return { ...order, payment: await this.paymentOf(order.id) };
  }

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
   * ordersSql.placeOne): both commit, or nothing does. A key claimed already fails the statement
   * with a unique violation.
   */
  async placeClaimed(draft: OrderDraft, claim: KeyClaim): Promise<Order> {
    const { order, level } = await this.placeOne(this.deps.db.primary, draft, claim);
    this.deps.inventory.notify([level]);
    return order;
  }

  /**
   * An order of one variant in one statement (see ordersSql.placeOne), its holders admitted by the
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
    let placed: Awaited<ReturnType<typeof ordersSql.placeOne>>;
    try {
      placed = await ordersSql.placeOne(db, {
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
      await ordersSql.admitHold(tx, this.admission(draft, units));
    } catch (error) {
      throw holdRefusal(error, this.holds) ?? error;
    }
    const { levels, lowStock } = await this.reserve(tx, variants, wanted);
    tx.afterCommit(() => this.deps.inventory.notify(levels));

    const total = resolved.reduce((sum, l) => sum + l.quantity * l.variant.price, 0);
    if (!Number.isSafeInteger(total) || total > 2_147_483_647) throw totalTooLarge();
    const id = draft.id ?? randomUUID();
    const { order: row, items } = await ordersSql.insertPlaced(tx, {
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

  /** The oldest final orders older than `days`, with their items (archival reads them, then archives). */
  archivable(days: number, limit: number): Promise<ArchivableOrder[]> {
    return ordersSql.archivable(this.deps.db.primary, FINAL_STATUSES, days, limit);
  }

  /**
   * Deletes archived orders in the caller's transaction, only those unchanged since they were read
   * (same updated_at, still final); their items, attempts and refunds go with them. The ids deleted.
   */
  deleteArchived(tx: Tx, orders: ArchivableOrder['order'][]): Promise<string[]> {
    return ordersSql.deleteUnchanged(tx, orders, FINAL_STATUSES);
  }

  /** Whether the order is in the hot tables. */
  exists(db: Queryable, orderId: string): Promise<boolean> {
    return ordersSql.exists(db, orderId);
  }

  /** Puts an archived order and its items back in the caller's transaction. */
  restoreArchived(
    tx: Tx,
    order: ArchivableOrder['order'],
    items: ArchivableOrder['items'],
    extra: Pick<ArchivableOrder, 'fulfillments' | 'events'> = {},
  ): Promise<void> {
    return ordersSql.restore(tx, order, items, extra);
  }

  /**
   * Locks an order row in the caller's transaction (a payment or refund decides on its status and
   * total while no other change can land); with `owner`, only when it is theirs. Undefined: no
   * such order (or not theirs).
   */
  lockForPayment(
    tx: Tx,
    orderId: string,
    owner?: { customerId: string | null; guestSessionId: string | null },
  ): Promise<{ status: string; total_amount: number; currency: string } | undefined> {
    return ordersSql.lockOrder(tx, orderId, owner);
  }

  /** Whether the customer has placed an order (not cancelled) before. */
  hasOrdered(customerId: string): Promise<boolean> {
    return ordersSql.hasOrdered(this.deps.db.primary, customerId);
  }

  /** One product's sales per variant (units, orders, revenue in centavos), cancelled and refunded orders not counted. */
  async variantSales(productId: string) {
    if (!isUuid(productId)) throw AppError.notFound('Product', { productId });
    const rows = await ordersSql.variantSales(this.deps.db.read, productId);
    return {
      productId,
      items: rows.map((r) => ({
        variantId: r.variant_id,
        sku: r.sku,
        totalOrders: r.total_orders,
        totalSold: r.total_sold,
        revenue: Number(r.revenue),
      })),
    };
  }

  /** Whether one of the customer's paid orders (confirmed, shipped, delivered) held the product: a verified purchase. */
  hasReceived(customerId: string, productId: string): Promise<boolean> {
    return ordersSql.hasReceived(this.deps.db.primary, customerId, productId);
  }

  /**
   * Cancels pending orders older than `ttlMinutes` (or past the later time their payment method
   * holds them until, see {@link holdForPayment}) through the status machine (their stock is
   * released, their events recorded, stock listeners told), a batch per transaction. Safe to stop
   * and rerun: each batch commits on its own, and rows another worker holds are skipped.
   */
  async expirePending(options: {
    ttlMinutes: number;
    batch?: number;
    signal?: AbortSignal;
  }): Promise<number> {
    let expired = 0;
    for (;;) {
      if (options.signal?.aborted) return expired;
      const n = await withTransaction(this.deps.db.primary, async (tx) => {
        const ids = await ordersSql.lockExpired(tx, options.ttlMinutes, options.batch ?? 100);
        for (const id of ids)
          await this.transitionInTx(tx, id, 'cancelled', { type: 'job', name: 'expire-pending-orders' });
        return ids.length;
      });
      expired += n;
      if (n < (options.batch ?? 100)) return expired;
    }
  }

  /** Unpaid orders give their stock back after the TTL: nobody can hoard units by not paying. */
  expiryJob(ttlMinutes: number): Job {
    return defineJob({
      name: 'expire-pending-orders',
      schedule: '* * * * *',
      description: `Expires orders unpaid after ${ttlMinutes} minutes (or when their PIX or boleto expires) and gives their stock back`,
      run: async ({ signal }) => ({ expired: await this.expirePending({ ttlMinutes, signal }) }),
    });
  }

  /**
   * Keeps a pending order and its stock until `until` (at least): a PIX or boleto payment can still
   * arrive until then. Expiry cancels it after that time instead of after the default TTL.
   */
  holdForPayment(db: Queryable, orderId: string, until: Date): Promise<void> {
    return ordersSql.holdUntil(db, orderId, until);
  }

  /**
   * The caller's own order, with its fulfilments and its customer-facing history; someone else's
   * (or none) is 404.
   */
  async getOwned(owner: Owner, id: string): Promise<Order> {
    const order = await this.get(id, this.deps.db.primary);
    const mine =
      'customerId' in owner
        ? order.customerId === owner.customerId
        : order.guestSessionId === owner.guestSessionId;
    if (!mine) throw AppError.notFound('Order', { orderId: id });
    return {
      ...order.public,
      history: await this.history(id, true, order.public.createdAt, order.customerId),
    };
  }

  /** An order as placing answers it (the buyer's document in full): an idempotent replay's answer. */
  async getAdmin(id: string): Promise<Order> {
    const { fulfillments: _, ...order } = (await this.get(id, this.deps.db.primary)).public;
    return order;
  }

  /** An order as the admin's detail shows it: the buyer's document in full, its fulfilments. */
  async getAdminDetail(id: string): Promise<Order> {
    return (await this.get(id, this.deps.db.primary)).public;
  }

  private async get(
    id: string,
    db: Queryable,
  ): Promise<{ public: Order; customerId: string | null; guestSessionId: string | null }> {
    const row = isUuid(id) ? await ordersSql.findOrder(db, id) : undefined;
    if (!row) throw AppError.notFound('Order', { orderId: id });
    const items = await ordersSql.itemsOf(db, [id]);
    const fulfillments = (await deliverySql.fulfillmentsOf(db, [id])).map(toFulfillment);
    return {
      public: { ...toOrder(row, items, true), fulfillments },
      customerId: row.customer_id,
      guestSessionId: row.guest_session_id,
    };
  }

  /**
   * An order's history, oldest first: its placing (from the order itself), then every recorded
   * status change, payment, refund and fulfilment with its actor. The customer sees the entries
   * meant for them.
   */
  private async history(
    id: string,
    customerView: boolean,
    createdAt: string,
    customerId: string | null,
  ): Promise<OrderHistoryEntry[]> {
    const rows = await deliverySql.eventsOf(this.deps.db.primary, id, customerView);
    const placed: OrderHistoryEntry = {
      type: 'order.placed',
      at: createdAt,
      actor: customerId ? { type: 'customer', name: customerId } : { type: 'guest', name: null },
      data: {},
    };
    return [placed, ...rows.map(toHistoryEntry)];
  }

  /** `GET /admin/orders/:id/events`: the whole history. */
  async events(id: string): Promise<OrderHistoryEntry[]> {
    const order = await this.get(id, this.deps.db.primary);
    return this.history(id, false, order.public.createdAt, order.customerId);
  }

  /** Records entries of an order's history in the caller's transaction (payments, refunds). */
  recordHistory(tx: Tx, orderId: string, events: NewOrderEvent[]): Promise<void> {
    return deliverySql.recordEvents(tx, orderId, events);
  }

  /**
   * Sets the delivery of an order just placed from a cart, in the same transaction: the address
   * snapshot, the buyer and the freight, which is added to its total. The order as it is now.
   */
  async attachDelivery(
    tx: Tx,
    placed: Order,
    d: {
      shippingAddress: ShippingAddress | null;
      buyer: StoredBuyer | null;
      shipping: StoredShipping | null;
    },
  ): Promise<Order> {
    await deliverySql.attach(tx, placed.id, d);
    const row = await ordersSql.findOrder(tx, placed.id);
    if (!row) throw new Error('the order just placed is gone');
    if (!Number.isSafeInteger(row.total_amount) || row.total_amount > 2_147_483_647) throw totalTooLarge();
    // The items as placing answered them (in line order).
    return { ...toOrder(row, [], true), items: placed.items };
  }

  /**
   * Takes the promotions priced for an order just placed off it, in the same transaction: each
   * line's share (`lineDiscounts`, in the order of its lines), the item discounts, the freight a
   * free-shipping promotion waived; recorded in its history. The order as it is now.
   */
  async applyDiscounts(
    tx: Tx,
    placed: Order,
    d: {
      lineDiscounts: number[];
      itemDiscount: number;
      shippingDiscount: number;
      discounts: OrderDiscount[];
    },
  ): Promise<Order> {
    if (d.discounts.length === 0) return placed;
    if (d.lineDiscounts.length !== placed.items.length) throw new Error('a discount per order line expected');
    await deliverySql.applyDiscounts(tx, placed.id, {
      lines: placed.items.map((item, i) => ({ itemId: item.id, discountAmount: d.lineDiscounts[i]! })),
      itemDiscount: d.itemDiscount,
      shippingDiscount: d.shippingDiscount,
      discounts: d.discounts,
    });
    await deliverySql.recordEvents(tx, placed.id, [
      { type: 'promotion.applied', actor: { type: 'system' }, data: { discounts: d.discounts } },
    ]);
    const row = await ordersSql.findOrder(tx, placed.id);
    if (!row) throw new Error('the order just placed is gone');
    return {
      ...toOrder(row, [], true),
      items: placed.items.map((item, i) => ({ ...item, discountAmount: d.lineDiscounts[i]! })),
    };
  }

  /**
   * Ships units of a confirmed order: `items` (default: every unit not shipped yet), each at most
   * what is left of its line. Records the fulfilment, its history entry and `fulfillment.created`;
   * when no unit is left, the order becomes `shipped` (its stock consumed) in the same transaction.
   */
  async fulfil(
    orderId: string,
    input: { carrier: string; trackingCode: string; items?: { orderItemId: string; quantity: number }[] },
    actor: Actor,
  ): Promise<Order> {
    if (!isUuid(orderId)) throw AppError.notFound('Order', { orderId });
    await withTransaction(this.deps.db.primary, async (tx) => {
      const order = await ordersSql.lockOrder(tx, orderId);
      if (!order) throw AppError.notFound('Order', { orderId });
      if (order.status !== 'confirmed')
        throw AppError.conflict('invalid_transition', `An order that is ${order.status} cannot be shipped`, {
          from: order.status,
          to: 'shipped',
          allowed: TRANSITIONS[order.status as OrderStatus],
        });
      const items = await ordersSql.itemsOf(tx, [orderId]);
      const done = await deliverySql.fulfillmentsOf(tx, [orderId]);
      if (done.length >= MAX_FULFILLMENTS)
        throw AppError.conflict(
          'fulfillment_limit_reached',
          `At most ${MAX_FULFILLMENTS} shipments per order`,
        );
      const left = new Map(items.map((i) => [i.id, i.quantity]));
      for (const f of done)
        for (const x of f.items) left.set(x.orderItemId, (left.get(x.orderItemId) ?? 0) - x.quantity);
      const shipping =
        input.items ??
        [...left].filter(([, q]) => q > 0).map(([orderItemId, quantity]) => ({ orderItemId, quantity }));
      if (shipping.length === 0)
        throw AppError.conflict('already_fulfilled', 'Every unit of this order was shipped');
      const seen = new Set<string>();
      shipping.forEach((x, i) => {
        const remaining = left.get(x.orderItemId);
        if (remaining === undefined || seen.has(x.orderItemId))
          throw AppError.invalid('Not a line of this order (or named twice)', [
            { field: `items.${i}.orderItemId`, message: 'not a line of this order, or repeated' },
          ]);
        seen.add(x.orderItemId);
        if (x.quantity > remaining)
          throw AppError.invalid(`Only ${remaining} units of this line are left to ship`, [
            { field: `items.${i}.quantity`, message: `at most ${remaining}` },
          ]);
        left.set(x.orderItemId, remaining - x.quantity);
      });
      const trackingUrl = trackingUrlOf(input.carrier, input.trackingCode);
      const f = await deliverySql.insertFulfillment(tx, {
        orderId,
        carrier: input.carrier,
        trackingCode: input.trackingCode,
        trackingUrl,
        items: shipping,
      });
      await deliverySql.recordEvents(tx, orderId, [
        {
          type: 'fulfillment.created',
          actor,
          data: {
            fulfillmentId: f.id,
            carrier: f.carrier,
            trackingCode: f.tracking_code,
            trackingUrl,
            items: shipping,
          },
        },
      ]);
      await recordEvents(tx, [
        {
          type: 'fulfillment.created',
          aggregateType: 'order',
          aggregateId: orderId,
          payload: {
            orderId,
            fulfillmentId: f.id,
            carrier: f.carrier,
            trackingCode: f.tracking_code,
            trackingUrl,
            items: shipping,
          },
        },
      ]);
      if ([...left.values()].every((q) => q <= 0)) await this.transitionInTx(tx, orderId, 'shipped', actor);
    });
    return this.getAdminDetail(orderId);
  }

  /** Orders per minute over the last hour, today's orders and revenue, and the pending count. */
  async overview(timeZone: string) {
    return { timeZone, ...(await ordersSql.overview(this.deps.db.read, timeZone)) };
  }

  async list(f: {
    status?: OrderStatus;
    customerId?: string;
    from?: string;
    to?: string;
    limit: number;
    cursor?: string;
  }): Promise<{ items: Order[]; nextCursor: string | null }> {
    const after = f.cursor === undefined ? undefined : decodeCursor(f.cursor, isTimeIdCursor);
    const rows = await ordersSql.list(this.deps.db.read, {
      ...(f.status ? { status: f.status } : {}),
      ...(f.customerId ? { customerId: f.customerId } : {}),
      ...(f.from ? { from: f.from } : {}),
      ...(f.to ? { to: f.to } : {}),
      limit: f.limit + 1,
      ...(after ? { after } : {}),
    });
    const page = rows.slice(0, f.limit);
    const items = page.length
      ? await ordersSql.itemsOf(
          this.deps.db.read,
          page.map((r) => r.id),
        )
      : [];
    const byOrder = new Map<string, OrderItemRow[]>();
    for (const i of items) byOrder.set(i.order_id, [...(byOrder.get(i.order_id) ?? []), i]);
    return keysetPage(
      rows,
      f.limit,
      (r) => toOrder(r, byOrder.get(r.id) ?? []),
      (last) => ({ createdAt: last.created_key, id: last.id }),
    );
  }

  /** Moves an order along the status machine, with its stock effects, in one transaction. */
  async transition(id: string, to: OrderStatus, actor: Actor = { type: 'system' }): Promise<Order> {
    return withTransaction(this.deps.db.primary, (tx) => this.transitionInTx(tx, id, to, actor));
  }

  /**
   * {@link transition} inside the caller's transaction; stock listeners are told after its commit.
   * The move is recorded in the order's history with `actor`.
   */
  async transitionInTx(
    tx: Tx,
    id: string,
    to: OrderStatus,
    actor: Actor = { type: 'system' },
  ): Promise<Order> {
    if (!isUuid(id)) throw AppError.notFound('Order', { orderId: id });
    // An order cancelled unpaid (pending) gives back what it held besides stock (its promotions).
    const unpaid = to === 'cancelled' ? await ordersSql.moveStatus(tx, id, to, ['pending']) : undefined;
    const row = unpaid ?? (await ordersSql.moveStatus(tx, id, to, sourcesOf(to)));
    if (!row) {
      const current = await ordersSql.findOrder(tx, id);
      if (!current) throw AppError.notFound('Order', { orderId: id });
      throw AppError.conflict(
        'invalid_transition',
        `An order that is ${current.status} cannot become ${to}`,
        {
          from: current.status,
          to,
          allowed: TRANSITIONS[current.status],
        },
      );
    }
    // Before the stock: a checkout takes a promotion, then stock; the same order here never deadlocks.
    if (unpaid) for (const hook of this.unpaidCancelHooks) await hook(tx, id);
    let levels: StockLevel[] = [];
    if (to === 'cancelled' || to === 'shipped') {
      const lines = await ordersSql.stockLinesOf(tx, id);
      levels = await this.deps.inventory.settle(tx, lines, to === 'cancelled' ? 'release' : 'consume');
      tx.afterCommit(() => this.deps.inventory.notify(levels));
    }
    await deliverySql.recordEvents(tx, id, [{ type: 'order.status_changed', actor, data: { status: to } }]);
    await recordEvents(tx, [
      {
        type: 'order.status_changed',
        aggregateType: 'order',
        aggregateId: id,
        payload: { orderId: id, status: to },
      },
      ...this.deps.inventory.events(levels),
    ]);
    return toOrder(row, await ordersSql.itemsOf(tx, [id]));
  }

  async itemsByCustomization(
    fragment: Record<string, unknown>,
    limit: number,
  ): Promise<(OrderItem & { orderId: string })[]> {
    const rows = await ordersSql.itemsByCustomization(this.deps.db.read, fragment, limit);
    return rows.map((r) => ({ ...toItem(r), orderId: r.order_id }));
  }

  /** Erasure, in the caller's transaction: see ordersSql.detachCustomer. */
  detachCustomer(tx: Tx, customerId: string): Promise<{ orderIds: string[]; customizations: number }> {
    return ordersSql.detachCustomer(tx, customerId);
  }

  /** A page of the customer's orders with their lines, for their data export (see ordersSql.customerPage). */
  customerPage(
    customerId: string,
    after: { createdAt: string; id: string } | undefined,
    limit: number,
  ): Promise<{ order: Record<string, unknown>; created_at: string; id: string }[]> {
    return ordersSql.customerPage(this.deps.db.primary, customerId, after, limit);
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

const totalTooLarge = () =>
  AppError.invalid('The order total is too large', [{ field: 'items', message: 'total too large' }]);
