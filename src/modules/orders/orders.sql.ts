import type { Queryable } from '../../platform/db/pool.ts';
import type { StockLine } from '../inventory/inventory.service.ts';

export const ORDER_STATUSES = [
  'pending',
  'confirmed',
  'shipped',
  'delivered',
  'cancelled',
  'refunded',
] as const;

/** Open orders hold reserved stock; in these statuses their units are still reserved. */
export const HOLDING_STATUSES = ['pending', 'confirmed'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export interface OrderRow {
  id: string;
  customer_id: string | null;
  guest_session_id: string | null;
  status: OrderStatus;
  total_amount: number;
  currency: string;
  created_at: Date;
  updated_at: Date;
  created_key: string;
  /** The delivery (issue 29): NULL on orders placed without one (direct orders, earlier orders). */
  shipping_address: ShippingAddress | null;
  buyer: StoredBuyer | null;
  shipping: StoredShipping | null;
  shipping_amount: number | null;
  discount_amount: number | null;
  /** The promotions on the order as placed (issue 30); NULL: none. */
  discounts: OrderDiscount[] | null;
}

/** A promotion on an order, as placed: what it took off the lines (`items`) or the freight. */
export interface OrderDiscount {
  promotionId: string;
  code?: string;
  name: string;
  amount: number;
  target: 'items' | 'shipping';
}

/** A delivery address as an order keeps it (a snapshot of what the cart had). */
export interface ShippingAddress {
  label?: string | null;
  recipient: string;
  cep: string;
  street: string;
  number: string;
  complement?: string | null;
  district: string;
  city: string;
  state: string;
  phone?: string | null;
}

/** The buyer as an order keeps it: the document normalized (see customers/documents.ts). */
export interface StoredBuyer {
  name: string;
  email: string;
  document: { type: 'cpf' | 'cnpj'; number: string } | null;
}

/** The freight an order was charged: the option chosen on its cart. */
export interface StoredShipping {
  engine: string;
  carrier: string;
  service: string;
  price: number;
  deliveryDays: { min: number; max: number };
}

export interface OrderItemRow {
  id: string;
  order_id: string;
  product_id: string | null;
  /** NULL on lines placed before variants: their product's default variant (same id). */
  variant_id: string | null;
  sku: string | null;
  options: Record<string, string> | null;
  product_name: string | null;
  quantity: number;
  unit_price: number;
  customization: unknown;
  /** The line's share of the order's item discounts (issue 30); NULL: none. */
  discount_amount?: number | null;
}

/** An inserted item as json_agg returns it (no order id: the caller knows it). */
export type ItemJson = Omit<OrderItemRow, 'order_id'>;

export interface NewItem {
  productId: string;
  variantId: string;
  sku: string;
  options: Record<string, string>;
  productName: string;
  quantity: number;
  unitPrice: number;
  customization: unknown;
}

export const ORDER_COLUMNS = `id, customer_id, guest_session_id, status, total_amount, currency, created_at, updated_at,
  created_at::text AS created_key, shipping_address, buyer, shipping, shipping_amount, discount_amount, discounts`;

/** Order items whose customization contains $1 (JSONB @>, served by the GIN index). */
export const ITEM_COLUMNS =
  'id, product_id, variant_id, sku, options, product_name, quantity, unit_price, customization, discount_amount';

export const ITEMS_BY_CUSTOMIZATION_SQL = `SELECT order_id, ${ITEM_COLUMNS}
             FROM order_items WHERE customization @> $1::jsonb
             ORDER BY created_at DESC, id LIMIT $2`;

export const ordersSql = {
  async exists(db: Queryable, orderId: string): Promise<boolean> {
    return ((await db.query('SELECT 1 FROM orders WHERE id = $1', [orderId])).rowCount ?? 0) > 0;
  },

  /** Locks an order; with `owner`, only when it is theirs (a customer's, or a guest session's). */
  async lockOrder(
    tx: Queryable,
    orderId: string,
    owner?: { customerId: string | null; guestSessionId: string | null },
  ): Promise<{ status: string; total_amount: number; currency: string } | undefined> {
    const { rows } = await tx.query<{ status: string; total_amount: number; currency: string }>(
      owner
        ? `SELECT status, total_amount, currency FROM orders
           WHERE id = $1 AND (customer_id = $2 OR guest_session_id = $3) FOR UPDATE`
        : 'SELECT status, total_amount, currency FROM orders WHERE id = $1 FOR UPDATE',
      owner ? [orderId, owner.customerId, owner.guestSessionId] : [orderId],
    );
    return rows[0];
  },

  /**
   * An order's lines summed per variant (what it holds in stock while open); a line from before
   * variants holds its product's default variant, which has the product's id.
   */
  async stockLinesOf(tx: Queryable, orderId: string): Promise<StockLine[]> {
    const { rows } = await tx.query<StockLine>({
      name: 'orders_stock_lines',
      text: `SELECT COALESCE(variant_id, product_id) AS "variantId", SUM(quantity)::int AS quantity FROM order_items
             WHERE order_id = $1 AND product_id IS NOT NULL GROUP BY 1 ORDER BY 1`,
      values: [orderId],
    });
    return rows;
  },

  /** Units held per variant by orders in the holding statuses (pending, confirmed). */
  async heldByOpenOrders(db: Queryable): Promise<StockLine[]> {
    const { rows } = await db.query<StockLine>(
      `SELECT COALESCE(oi.variant_id, oi.product_id) AS "variantId", SUM(oi.quantity)::int AS quantity
         FROM order_items oi JOIN orders o ON o.id = oi.order_id
        WHERE o.status = ANY($1::text[]) AND oi.product_id IS NOT NULL
        GROUP BY 1`,
      [HOLDING_STATUSES],
    );
    return rows;
  },

  async findOrder(db: Queryable, id: string): Promise<OrderRow | undefined> {
    const { rows } = await db.query<OrderRow>({
      name: 'orders_find',
      text: `SELECT ${ORDER_COLUMNS} FROM orders WHERE id = $1`,
      values: [id],
    });
    return rows[0];
  },

  async itemsOf(db: Queryable, orderIds: string[]): Promise<OrderItemRow[]> {
    const { rows } = await db.query<OrderItemRow>({
      name: 'orders_items_of',
      text: `SELECT order_id, ${ITEM_COLUMNS}
             FROM order_items WHERE order_id = ANY($1::uuid[]) ORDER BY order_id, created_at, id`,
      values: [orderIds],
    });
    return rows;
  },

  /**
   * One product's sales per variant, cancelled orders not counted (live, from its order lines
   * through idx_order_items_product): the statistics per variant beside product_stats.
   */
  async variantSales(
    db: Queryable,
    productId: string,
  ): Promise<
    { variant_id: string; sku: string | null; total_orders: number; total_sold: number; revenue: string }[]
  > {
    const { rows } = await db.query<{
      variant_id: string;
      sku: string | null;
      total_orders: number;
      total_sold: number;
      revenue: string;
    }>(
      `SELECT COALESCE(i.variant_id, i.product_id) AS variant_id, MAX(i.sku) AS sku,
              COUNT(DISTINCT i.order_id)::int AS total_orders, SUM(i.quantity)::int AS total_sold,
              SUM(i.quantity::bigint * i.unit_price - COALESCE(i.discount_amount, 0))::text AS revenue
       FROM order_items i JOIN orders o ON o.id = i.order_id
       WHERE i.product_id = $1 AND o.status NOT IN ('cancelled', 'refunded')
       GROUP BY 1 ORDER BY total_sold DESC, 1`,
      [productId],
    );
    return rows;
  },

  /** Whether a paid order of this customer (confirmed, shipped or delivered) held this product. */
  /** Whether the customer has an order that was not cancelled (first-order promotions). */
  async hasOrdered(db: Queryable, customerId: string): Promise<boolean> {
    const { rowCount } = await db.query(
      "SELECT 1 FROM orders WHERE customer_id = $1 AND status <> 'cancelled' LIMIT 1",
      [customerId],
    );
    return (rowCount ?? 0) > 0;
  },

  async hasReceived(db: Queryable, customerId: string, productId: string): Promise<boolean> {
    const { rowCount } = await db.query(
      `SELECT 1 FROM orders o JOIN order_items i ON i.order_id = o.id
        WHERE o.customer_id = $1 AND o.status IN ('confirmed', 'shipped', 'delivered') AND i.product_id = $2
        LIMIT 1`,
      [customerId, productId],
    );
    return (rowCount ?? 0) > 0;
  },

  /** Pending orders older than the TTL, oldest first, locked (others' locked rows are skipped). */
  async lockExpired(tx: Queryable, ttlMinutes: number, limit: number): Promise<string[]> {
    const { rows } = await tx.query<{ id: string }>(
      `SELECT id FROM orders
        WHERE status = 'pending'
          AND COALESCE(payment_expires_at, created_at + make_interval(mins => $1)) < NOW()
        ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [ttlMinutes, limit],
    );
    return rows.map((r) => r.id);
  },

  /** Holds a pending order (and its stock) until `until`: a payment method that settles later. */
  async holdUntil(db: Queryable, id: string, until: Date): Promise<void> {
    await db.query(
      `UPDATE orders SET payment_expires_at = GREATEST(COALESCE(payment_expires_at, $2), $2)
       WHERE id = $1 AND status = 'pending'`,
      [id, until],
    );
  },

  /** Moves an order to `to` only from one of `from`; undefined when its status allows no such move. */
  async moveStatus(
    tx: Queryable,
    id: string,
    to: OrderStatus,
    from: readonly OrderStatus[],
  ): Promise<OrderRow | undefined> {
    const { rows } = await tx.query<OrderRow>({
      name: 'orders_move_status',
      // An order leaves pending once and for all: the address that held it is not kept.
      text: `UPDATE orders SET status = $2, hold_address = NULL WHERE id = $1 AND status = ANY($3::text[]) RETURNING ${ORDER_COLUMNS}`,
      values: [id, to, from],
    });
    return rows[0];
  },

  async list(
    db: Queryable,
    f: {
      status?: OrderStatus;
      customerId?: string;
      from?: string;
      to?: string;
      limit: number;
      after?: { createdAt: string; id: string };
    },
  ): Promise<OrderRow[]> {
    const { rows } = await db.query<OrderRow>({
      name: 'orders_list',
      text: `SELECT ${ORDER_COLUMNS} FROM orders
             WHERE ($1::text IS NULL OR status = $1)
               AND ($2::uuid IS NULL OR customer_id = $2)
               AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid))
               AND ($6::timestamptz IS NULL OR created_at >= $6)
               AND ($7::timestamptz IS NULL OR created_at < $7)
             ORDER BY created_at DESC, id DESC
             LIMIT $5`,
      values: [
        f.status ?? null,
        f.customerId ?? null,
        f.after?.createdAt ?? null,
        f.after?.id ?? null,
        f.limit,
        f.from ?? null,
        f.to ?? null,
      ],
    });
    return rows;
  },

  /**
   * The dashboard's figures: orders per minute over the last hour, today's orders and revenue
   * (today in `timeZone`) and the orders waiting for payment. Index range scans on created_at.
   */
  async overview(
    db: Queryable,
    timeZone: string,
  ): Promise<{
    perMinute: { minute: string; orders: number }[];
    today: { orders: number; revenueCents: number };
    pending: number;
  }> {
    const { rows } = await db.query<{
      per_minute: { minute: string; orders: number }[];
      today_orders: number;
      today_revenue: string;
      pending: number;
    }>({
      name: 'orders_overview',
      text: `WITH minutes AS (
               SELECT m FROM generate_series(date_trunc('minute', now()) - interval '59 minutes',
                                             date_trunc('minute', now()), interval '1 minute') AS m),
             recent AS (
               SELECT date_trunc('minute', created_at) AS m, COUNT(*)::int AS n FROM orders
               WHERE created_at >= date_trunc('minute', now()) - interval '59 minutes' GROUP BY 1),
             today AS (
               SELECT COUNT(*)::int AS n,
                      COALESCE(SUM(total_amount) FILTER (WHERE status IN ('confirmed', 'shipped', 'delivered')), 0) AS revenue
               FROM orders WHERE created_at >= date_trunc('day', now() AT TIME ZONE $1) AT TIME ZONE $1)
             SELECT (SELECT json_agg(json_build_object('minute', to_char(minutes.m AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                                                       'orders', COALESCE(recent.n, 0)) ORDER BY minutes.m)
                     FROM minutes LEFT JOIN recent ON recent.m = minutes.m) AS per_minute,
                    today.n AS today_orders, today.revenue::text AS today_revenue,
                    (SELECT COUNT(*)::int FROM orders WHERE status = 'pending') AS pending
             FROM today`,
      values: [timeZone],
    });
    const r = rows[0]!;
    return {
      perMinute: r.per_minute,
      today: { orders: r.today_orders, revenueCents: Number(r.today_revenue) },
      pending: r.pending,
    };
  },

  /** Order items whose customization contains `fragment` (JSONB containment, the GIN index). */
  async itemsByCustomization(db: Queryable, fragment: unknown, limit: number): Promise<OrderItemRow[]> {
    const { rows } = await db.query<OrderItemRow>({
      name: 'orders_items_by_customization',
      text: ITEMS_BY_CUSTOMIZATION_SQL,
      values: [JSON.stringify(fragment), limit],
    });
    return rows;
  },

  /**
   * Erasure: unlinks the customer's orders (kept for accounting, `customer_id` NULL) and clears the
   * personal text of their lines' customizations. The ids of the unlinked orders.
   */
  async detachCustomer(
    db: Queryable,
    customerId: string,
  ): Promise<{ orderIds: string[]; customizations: number }> {
    const { rows } = await db.query<{ id: string }>(
      'UPDATE orders SET customer_id = NULL WHERE customer_id = $1 RETURNING id',
      [customerId],
    );
    const orderIds = rows.map((r) => r.id);
    // The delivery address and the buyer (name, email, CPF/CNPJ) of each order, and what its
    // history kept of them (the customer's id as the actor of their own steps).
    await db.query('UPDATE orders SET shipping_address = NULL, buyer = NULL WHERE id = ANY($1::uuid[])', [
      orderIds,
    ]);
    await db.query(
      `UPDATE order_events SET data = data - 'shippingAddress' - 'buyer',
         actor = CASE WHEN actor_type = 'customer' THEN NULL ELSE actor END
       WHERE order_id = ANY($1::uuid[])`,
      [orderIds],
    );
    const { rowCount } = await db.query(
      'UPDATE order_items SET customization = NULL WHERE order_id = ANY($1::uuid[]) AND customization IS NOT NULL',
      [orderIds],
    );
    return { orderIds, customizations: rowCount ?? 0 };
  },

  /** A page of a customer's orders with their lines (after `after`, by created_at and id), for the export. */
  async customerPage(
    db: Queryable,
    customerId: string,
    after: { createdAt: string; id: string } | undefined,
    limit: number,
  ): Promise<{ order: Record<string, unknown>; created_at: string; id: string }[]> {
    const { rows } = await db.query<{ order: Record<string, unknown>; created_at: string; id: string }>(
      `SELECT o.id, o.created_at::text AS created_at, jsonb_build_object(
           'id', o.id, 'status', o.status, 'totalAmount', o.total_amount, 'currency', o.currency,
           'createdAt', o.created_at, 'updatedAt', o.updated_at,
           'items', COALESCE((SELECT jsonb_agg(jsonb_build_object('productId', i.product_id, 'quantity', i.quantity,
                      'unitPrice', i.unit_price, 'discountAmount', COALESCE(i.discount_amount, 0),
                      'customization', i.customization) ORDER BY i.created_at, i.id)
                    FROM order_items i WHERE i.order_id = o.id), '[]'::jsonb)) AS order
       FROM orders o
       WHERE o.customer_id = $1 AND ($2::timestamptz IS NULL OR (o.created_at, o.id) > ($2::timestamptz, $3::uuid))
       ORDER BY o.created_at, o.id LIMIT $4`,
      [customerId, after?.createdAt ?? null, after?.id ?? null, limit],
    );
    return rows;
  },
};
