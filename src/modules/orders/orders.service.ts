import { randomUUID } from 'node:crypto';
import type { Database, Queryable } from '../../platform/db/pool.ts';
import { withTransaction, type Tx } from '../../platform/db/transaction.ts';
import { AppError } from '../../platform/errors.ts';
import { isUuid } from '../../platform/ids.ts';
import { holderBusy, pgCode } from '../../platform/db/pg-errors.ts';
import { decodeCursor, isTimeIdCursor, keysetPage } from '../../platform/cursor.ts';
import { recordEvents } from '../../platform/events/outbox.ts';
import { defineJob, type Job } from '../../platform/jobs/job.ts';
import type { InventoryService, StockLevel, StockLine } from '../inventory/inventory.service.ts';
import type { CatalogService } from '../catalog/catalog.service.ts';
import type { KeyClaim } from '../idempotency/idempotency.service.ts';
import {
  ordersSql,
  type HoldAdmission,
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
export type { ShippingAddress, StoredBuyer, StoredShipping } from './orders.sql.ts';

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

  /** An order as its detail view shows it: with how it is being paid. */
  async withPayment<T extends Order>(order: T): Promise<T & { payment: OrderPayment | null }> {
    return { ...order, payment: await this.paymentOf(order.id) };
  }

  constructor(
    private readonly deps: {
      db: Database;
      inventory: InventoryService;
      /** Live prices, read in the order's transaction. */
      catalog: Pick<CatalogService, 'livePrices'>;
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
    const { wanted, productIds } = wantedOf(draft.lines, this.holds.maxUnitsPerLine);
    if (productIds.length !== 1)
      return withTransaction(this.deps.db.primary, (tx) => this.placeInTx(tx, draft));
    const { order, level } = await this.placeOne(this.deps.db.primary, draft, wanted);
    this.deps.inventory.notify([level]);
    return order;
  }

  /** True when {@link placeClaimed} can place these lines: they name one product. */
  placesInOneStatement(lines: OrderLineInput[]): boolean {
    return wantedOf(lines, this.holds.maxUnitsPerLine).productIds.length === 1;
  }

  /**
   * An order of one product placed by one statement that also claims its Idempotency-Key (see
   * ordersSql.placeOne): both commit, or nothing does. A key claimed already fails the statement
   * with a unique violation.
   */
  async placeClaimed(draft: OrderDraft, claim: KeyClaim): Promise<Order> {
    const { wanted } = wantedOf(draft.lines, this.holds.maxUnitsPerLine);
    const { order, level } = await this.placeOne(this.deps.db.primary, draft, wanted, claim);
    this.deps.inventory.notify([level]);
    return order;
  }

  /**
   * An order of one product in one statement (see ordersSql.placeOne), its holders admitted by the
   * same statement; 404/409 when not placed, 409/429 when a holder holds too much already.
   */
  private async placeOne(
    db: Queryable,
    draft: OrderDraft,
    wanted: Map<string, number>,
    claim?: KeyClaim,
  ): Promise<{ order: Order; level: StockLevel }> {
    const { owner, lines } = draft;
    const [[productId, quantity]] = [...wanted] as [[string, number]];
    const id = randomUUID();
    let placed: Awaited<ReturnType<typeof ordersSql.placeOne>>;
    try {
      placed = await ordersSql.placeOne(db, {
        id,
        productId,
        quantity,
        customerId: 'customerId' in owner ? owner.customerId : null,
        guestSessionId: 'guestSessionId' in owner ? owner.guestSessionId : null,
        lines: lines.map((l) => ({ quantity: l.quantity, customization: l.customization })),
        placedPayload: placedPayload(id, lines),
        hold: this.admission(draft, quantity),
        ...(claim ? { claim } : {}),
      });
    } catch (error) {
      if (pgCode(error) === '22003') throw totalTooLarge(); // price x quantity beyond the column
      throw holdRefusal(error, this.holds) ?? error;
    }
    if (!placed) {
      // Nothing was written: say why.
      if ((await this.deps.catalog.livePrices(db, [productId])).size === 0) throw unknownProduct(0);
      const available = (await this.deps.inventory.availableOf(db, [productId])).get(productId) ?? 0;
      throw insufficientStock([{ productId, requested: quantity, available }]);
    }
    return { order: toOrder(placed.order, placed.items), level: placed.level };
  }

  /**
   * Places an order inside the caller's transaction: prices captured now, every line reserved,
   * all or nothing. Lines of one product are summed before the stock check. Throws 409
   * `insufficient_stock` naming every short product. Stock listeners are told after the commit.
   */
  async placeInTx(tx: Tx, draft: OrderDraft): Promise<Order> {
    const { owner, lines, address } = draft;
    const { wanted, productIds } = wantedOf(lines, this.holds.maxUnitsPerLine);
    if (productIds.length === 1) {
      // One product (the common case): one statement, as on its own.
      const { order, level } = await this.placeOne(tx, draft, wanted);
      tx.afterCommit(() => this.deps.inventory.notify([level]));
      return order;
    }
    const units = [...wanted.values()].reduce((a, b) => a + b, 0);
    try {
      await ordersSql.admitHold(tx, this.admission(draft, units));
    } catch (error) {
      throw holdRefusal(error, this.holds) ?? error;
    }
    const { prices, levels } = await this.reserve(tx, lines, productIds, wanted);
    tx.afterCommit(() => this.deps.inventory.notify(levels));

    const total = lines.reduce((sum, l) => sum + l.quantity * prices.get(l.productId)!, 0);
    if (!Number.isSafeInteger(total) || total > 2_147_483_647) throw totalTooLarge();
    const id = randomUUID();
    const { order: row, items } = await ordersSql.insertPlaced(tx, {
      id,
      customerId: 'customerId' in owner ? owner.customerId : null,
      guestSessionId: 'guestSessionId' in owner ? owner.guestSessionId : null,
      total,
      holdAddress: address,
      items: lines.map((l) => ({
        productId: l.productId,
        quantity: l.quantity,
        unitPrice: prices.get(l.productId)!,
        customization: l.customization,
      })),
      events: [
        {
          type: 'order.placed',
          aggregateType: 'order',
          aggregateId: id,
          payload: { ...placedPayload(id, lines), totalAmount: total },
        },
        ...this.deps.inventory.events(levels),
      ],
    });
    return toOrder(row, items);
  }

  /**
   * Captures the live prices and reserves every product's summed quantity; throws 404 for an
   * unknown or deleted product and 409 naming every short one.
   */
  private async reserve(
    tx: Queryable,
    lines: OrderLineInput[],
    productIds: string[],
    wanted: Map<string, number>,
  ): Promise<{ prices: Map<string, number>; levels: StockLevel[] }> {
    const prices = await this.deps.catalog.livePrices(tx, productIds);
    const missing = lines.findIndex((l) => !prices.has(l.productId));
    if (missing >= 0) throw unknownProduct(missing);
    // Several products: lock their rows in id order (no deadlock between concurrent orders), check
    // them all so the error names every short product, then move the stock in one statement.
    const locked = await this.deps.inventory.lockLevels(tx, productIds);
    const short: Shortfall[] = [];
    for (const productId of productIds) {
      const available = locked.get(productId)?.availableQuantity ?? 0;
      const requested = wanted.get(productId)!;
      if (available < requested) short.push({ productId, requested, available });
    }
    if (short.length > 0) throw insufficientStock(short);
    const levels = await this.deps.inventory.reserveMany(
      tx,
      productIds.map((productId) => ({ productId, quantity: wanted.get(productId)! })),
    );
    // The rows are locked and were checked, so every guarded update applied.
    if (levels.length !== productIds.length) throw new Error('reservation guard failed on locked rows');
    return { prices, levels };
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
    const row = await ordersSql.moveStatus(tx, id, to, sourcesOf(to));
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

function insufficientStock(short: Shortfall[]): AppError {
  return AppError.conflict('insufficient_stock', 'Not enough stock for some items', short);
}

/**
 * Validates the lines (at most `maxUnits` units each: 400 `too_many_units`) and sums them per
 * product; product ids sorted (the locking order).
 */
function wantedOf(
  lines: OrderLineInput[],
  maxUnits: number,
): { wanted: Map<string, number>; productIds: string[] } {
  if (lines.length === 0)
    throw AppError.invalid('An order needs at least one item', [{ field: 'items', message: 'empty' }]);
  const wanted = new Map<string, number>();
  lines.forEach((l, i) => {
    if (l.quantity > maxUnits)
      throw new AppError('invalid', 'too_many_units', `An order line may ask for at most ${maxUnits} units`, {
        details: [{ field: `items.${i}.quantity`, message: `at most ${maxUnits}` }],
      });
    if (!isUuid(l.productId)) throw unknownProduct(i);
    wanted.set(l.productId, (wanted.get(l.productId) ?? 0) + l.quantity);
  });
  return { wanted, productIds: [...wanted.keys()].sort() };
}

/** The `order.placed` event's payload, but for `totalAmount` (added where the prices are known). */
const placedPayload = (orderId: string, lines: OrderLineInput[]) => ({
  orderId,
  currency: 'BRL',
  items: lines.map((l) => ({ productId: l.productId, quantity: l.quantity })),
});

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
