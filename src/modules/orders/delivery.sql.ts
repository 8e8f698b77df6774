/**
 * The SQL of an order's delivery (issue 29), apart from the placing statements: the address,
 * buyer and freight set on an order placed from a cart, its fulfilments, and its history.
 */
import type { Queryable } from '../../platform/db/pool.ts';
import type { OrderDiscount, ShippingAddress, StoredBuyer, StoredShipping } from './orders.sql.ts';

export interface FulfillmentRow {
  id: string;
  order_id: string;
  carrier: string;
  tracking_code: string;
  tracking_url: string | null;
  items: { orderItemId: string; quantity: number }[];
  created_at: Date;
}

export type ActorType = 'customer' | 'guest' | 'admin' | 'provider' | 'job' | 'system';

/** Who did something to an order: a customer (id), a guest, an admin key (name), a provider, a job. */
export interface Actor {
  type: ActorType;
  name?: string | null;
}

export interface OrderEventRow {
  id: string;
  order_id: string;
  type: string;
  actor_type: ActorType;
  actor: string | null;
  data: Record<string, unknown>;
  customer_visible: boolean;
  at: Date;
}

export interface NewOrderEvent {
  type: string;
  actor: Actor;
  data?: Record<string, unknown>;
  /** Shown in the store order's `history` (default true). */
  customerVisible?: boolean;
}

export const deliverySql = {
  /**
   * Sets the delivery of a pending order just placed (same transaction) and adds the freight to
   * its total: `total_amount` is goods minus discount plus freight from here on.
   */
  async attach(
    tx: Queryable,
    orderId: string,
    d: {
      shippingAddress: ShippingAddress | null;
      buyer: StoredBuyer | null;
      shipping: StoredShipping | null;
    },
  ): Promise<void> {
    const price = d.shipping?.price ?? 0;
    await tx.query(
      `UPDATE orders SET shipping_address = $2, buyer = $3, shipping = $4, shipping_amount = $5,
         discount_amount = 0, total_amount = total_amount + $5
       WHERE id = $1 AND status = 'pending'`,
      [
        orderId,
        d.shippingAddress === null ? null : JSON.stringify(d.shippingAddress),
        d.buyer === null ? null : JSON.stringify(d.buyer),
        d.shipping === null ? null : JSON.stringify(d.shipping),
        price,
      ],
    );
  },

  /**
   * Takes a pending order's promotions off it (same transaction as placing): each line's share,
   * the item discounts on the order, and the freight a free-shipping promotion waived.
   */
  async applyDiscounts(
    tx: Queryable,
    orderId: string,
    d: {
      lines: { itemId: string; discountAmount: number }[];
      itemDiscount: number;
      shippingDiscount: number;
      discounts: OrderDiscount[];
    },
  ): Promise<void> {
    await tx.query(
      `UPDATE order_items i SET discount_amount = d.amount
       FROM unnest($2::uuid[], $3::int[]) AS d(id, amount)
       WHERE i.order_id = $1 AND i.id = d.id`,
      [orderId, d.lines.map((l) => l.itemId), d.lines.map((l) => l.discountAmount)],
    );
    await tx.query(
      `UPDATE orders SET discounts = $2, discount_amount = $3,
         shipping_amount = COALESCE(shipping_amount, 0) - $4, total_amount = total_amount - $3 - $4
       WHERE id = $1 AND status = 'pending'`,
      [orderId, JSON.stringify(d.discounts), d.itemDiscount, d.shippingDiscount],
    );
  },

  async fulfillmentsOf(db: Queryable, orderIds: string[]): Promise<FulfillmentRow[]> {
    const { rows } = await db.query<FulfillmentRow>(
      `SELECT id, order_id, carrier, tracking_code, tracking_url, items, created_at
       FROM order_fulfillments WHERE order_id = ANY($1::uuid[]) ORDER BY order_id, created_at, id`,
      [orderIds],
    );
    return rows;
  },

  async insertFulfillment(
    tx: Queryable,
    f: {
      orderId: string;
      carrier: string;
      trackingCode: string;
      trackingUrl: string | null;
      items: { orderItemId: string; quantity: number }[];
    },
  ): Promise<FulfillmentRow> {
    const { rows } = await tx.query<FulfillmentRow>(
      `INSERT INTO order_fulfillments (order_id, carrier, tracking_code, tracking_url, items)
       VALUES ($1, $2, $3, $4, $5) RETURNING id, order_id, carrier, tracking_code, tracking_url, items, created_at`,
      [f.orderId, f.carrier, f.trackingCode, f.trackingUrl, JSON.stringify(f.items)],
    );
    return rows[0]!;
  },

  async recordEvents(tx: Queryable, orderId: string, events: NewOrderEvent[]): Promise<void> {
    if (events.length === 0) return;
    await tx.query(
      `INSERT INTO order_events (order_id, type, actor_type, actor, data, customer_visible)
       SELECT $1, t.type, t.actor_type, t.actor, t.data, t.visible
       FROM unnest($2::text[], $3::text[], $4::text[], $5::jsonb[], $6::boolean[]) WITH ORDINALITY
            AS t(type, actor_type, actor, data, visible, n)
       ORDER BY t.n`,
      [
        orderId,
        events.map((e) => e.type),
        events.map((e) => e.actor.type),
        events.map((e) => e.actor.name ?? null),
        events.map((e) => JSON.stringify(e.data ?? {})),
        events.map((e) => e.customerVisible ?? true),
      ],
    );
  },

  async eventsOf(db: Queryable, orderId: string, customerVisibleOnly: boolean): Promise<OrderEventRow[]> {
    const { rows } = await db.query<OrderEventRow>(
      `SELECT e.id::text AS id, e.order_id, e.type, e.actor_type, e.actor, e.data, e.customer_visible, e.at
       FROM order_events e
       WHERE e.order_id = $1 AND ($2::boolean IS FALSE OR e.customer_visible) ORDER BY e.id LIMIT 1000`,
      [orderId, customerVisibleOnly],
    );
    return rows;
  },
};
