import type { Database, Queryable } from '../../platform/db/pool.ts';
import { withTransaction, type Tx } from '../../platform/db/transaction.ts';
import { AppError } from '../../platform/errors.ts';
import { isUuid } from '../../platform/ids.ts';
import { decodeCursor, isTimeIdCursor, keysetPage } from '../../platform/cursor.ts';
import { recordEvents } from '../../platform/events/outbox.ts';
import { defineJob, type Job } from '../../platform/jobs/job.ts';
import type { InventoryService, StockLevel, StockLine } from '../inventory/inventory.service.ts';
import type { CatalogService } from '../catalog/catalog.service.ts';
import type { KeyClaim } from '../idempotency/idempotency.service.ts';
import { ordersSql, type OrderItemRow, type OrderStatus } from './orders.sql.ts';
import { orderArchiveSql } from './order-archive.sql.ts';
import { OrderPlacement } from './placement.ts';
import { applyDiscounts, attachDelivery } from './order-completion.ts';
import { fulfil } from './fulfilment.ts';
import { deliverySql, type Actor, type NewOrderEvent } from './delivery.sql.ts';
import {
  FINAL_STATUSES,
  type ArchivableOrder,
  toOrder,
  type HoldLimits,
  type Order,
  type OrderDraft,
  type OrderLineInput,
  type OrderItem,
  type Owner,
  sourcesOf,
  toFulfillment,
  toHistoryEntry,
  toItem,
  TRANSITIONS,
  type OrderHistoryEntry,
} from './orders.model.ts';

export * from './orders.model.ts';
export type { Actor, NewOrderEvent } from './delivery.sql.ts';
export type { OrderDiscount, ShippingAddress, StoredBuyer, StoredShipping } from './orders.sql.ts';

export { MAX_FULFILLMENTS } from './fulfilment.ts';

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
  ) {
    this.placement = new OrderPlacement(deps);
  }

  /** Places orders: see ./placement.ts (every way an order is written). */
  private readonly placement: OrderPlacement;

  /** See {@link OrderPlacement.place}. */
  place(draft: OrderDraft): Promise<Order> {
    return this.placement.place(draft);
  }

  /** See {@link OrderPlacement.placesInOneStatement}. */
  placesInOneStatement(lines: OrderLineInput[]): boolean {
    return this.placement.placesInOneStatement(lines);
  }

  /** See {@link OrderPlacement.placeClaimed}. */
  placeClaimed(draft: OrderDraft, claim: KeyClaim): Promise<Order> {
    return this.placement.placeClaimed(draft, claim);
  }

  /** See {@link OrderPlacement.placeInTx}. */
  placeInTx(tx: Tx, draft: OrderDraft): Promise<Order> {
    return this.placement.placeInTx(tx, draft);
  }

  /** The oldest final orders older than `days`, with their items (archival reads them, then archives). */
  archivable(days: number, limit: number): Promise<ArchivableOrder[]> {
    return orderArchiveSql.archivable(this.deps.db.primary, FINAL_STATUSES, days, limit);
  }

  /**
   * Deletes archived orders in the caller's transaction, only those unchanged since they were read
   * (same updated_at, still final); their items, attempts and refunds go with them. The ids deleted.
   */
  deleteArchived(tx: Tx, orders: ArchivableOrder['order'][]): Promise<string[]> {
    return orderArchiveSql.deleteUnchanged(tx, orders, FINAL_STATUSES);
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
    return orderArchiveSql.restore(tx, order, items, extra);
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

  /** See {@link attachDelivery} (./order-completion.ts). */
  attachDelivery(tx: Tx, placed: Order, d: Parameters<typeof attachDelivery>[2]): Promise<Order> {
    return attachDelivery(tx, placed, d);
  }

  /** See {@link applyDiscounts} (./order-completion.ts). */
  applyDiscounts(tx: Tx, placed: Order, d: Parameters<typeof applyDiscounts>[2]): Promise<Order> {
    return applyDiscounts(tx, placed, d);
  }

  /** Ships units of a confirmed order (see {@link fulfil} in ./fulfilment.ts); the order as it is then. */
  async fulfil(orderId: string, input: Parameters<typeof fulfil>[2], actor: Actor): Promise<Order> {
    await fulfil(
      { db: this.deps.db, ship: (tx, id, by) => this.transitionInTx(tx, id, 'shipped', by) },
      orderId,
      input,
      actor,
    );
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
