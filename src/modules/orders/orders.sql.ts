import type { Queryable } from '../../platform/db/pool.ts';
import type { KeyClaim } from '../idempotency/idempotency.service.ts';
import { outboxInsertSql, outboxValues, type DomainEvent } from '../../platform/events/outbox.ts';
import type { StockLevel, StockLine } from '../inventory/inventory.service.ts';
import { lowStockEventsSql, reserveOneLiveSql } from '../inventory/reservation.published.ts';
import type { ArchivableOrder as ArchivableRow } from './orders.model.ts';

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
type ItemJson = Omit<OrderItemRow, 'order_id'>;

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

/**
 * One new pending order's holders and the limits they are held to (order_hold_admit, migration
 * 1765260000000): the orders and units held unpaid by its address and by its customer or guest
 * session, counting pending orders whose hold has not ended (payment_expires_at, or placement plus
 * the TTL). A limit of 0 is no limit.
 */
export interface HoldAdmission {
  address: string | null;
  customerId: string | null;
  guestSessionId: string | null;
  units: number;
  ttlMinutes: number;
  perAddress: { orders: number; units: number };
  perOwner: { orders: number; units: number };
}

const holdLimitValues = (h: HoldAdmission) => [
  h.ttlMinutes,
  h.perAddress.orders,
  h.perAddress.units,
  h.perOwner.orders,
  h.perOwner.units,
];
/** PLACE_ONE_SQL's $9-$14. */
const holdValues = (h: HoldAdmission) => [h.address, ...holdLimitValues(h)];

const ORDER_COLUMNS = `id, customer_id, guest_session_id, status, total_amount, currency, created_at, updated_at,
  created_at::text AS created_key, shipping_address, buyer, shipping, shipping_amount, discount_amount, discounts`;

/** Order items whose customization contains $1 (JSONB @>, served by the GIN index). */
const ITEM_COLUMNS =
  'id, product_id, variant_id, sku, options, product_name, quantity, unit_price, customization, discount_amount';

export const ITEMS_BY_CUSTOMIZATION_SQL = `SELECT order_id, ${ITEM_COLUMNS}
             FROM order_items WHERE customization @> $1::jsonb
             ORDER BY created_at DESC, id LIMIT $2`;

/**
 * The holder admission (order_hold_admit, see {@link HoldAdmission}) given the positions of its
 * parameters: address, customer, guest session, units, then the six numbers of the limits.
 */
const admitSql = (address: number, customer: number, guest: number, units: number, limits: number) =>
  `order_hold_admit($${address}::text, $${customer}::uuid, $${guest}::text, $${units}::int, ${[0, 1, 2, 3, 4]
    .map((i) => `$${limits + i}::int`)
    .join(', ')})`;

/** See {@link ordersSql.placeOne}. $1 variant, $2 total quantity, $3 order id, $4 customer, $5 guest
 * session, $6 line quantities, $7 line customizations, $8 order.placed payload but its total, $9 the
 * holding address, $10-$14 the hold limits (see {@link HoldAdmission}), $15 the low-stock threshold.
 * The admission runs first (the reservation's one-time guard), before any stock row is locked; a
 * refusal raises. A reservation that takes the variant to the threshold emits inventory.low_stock
 * in the same insert (a condition on the row it already returns: no extra read). */
const placeOneSql = (claim: string) => `WITH g AS (
    SELECT ${admitSql(9, 4, 5, 2, 10)} AS admitted
  ), r AS (
    ${reserveOneLiveSql('(SELECT admitted FROM g)')}
  ), o AS (
    INSERT INTO orders (id, customer_id, guest_session_id, status, total_amount, currency, hold_address)
    SELECT $3, $4, $5, 'pending', r."basePrice"::bigint * $2, 'BRL', $9 FROM r
    RETURNING ${ORDER_COLUMNS}
  ), i AS (
    INSERT INTO order_items (order_id, product_id, variant_id, sku, options, product_name, quantity, unit_price, customization)
    SELECT $3, r."productId", $1, r.sku, r.options, r.name, t.quantity, r."basePrice", t.customization
    FROM r, unnest($6::int[], $7::jsonb[]) WITH ORDINALITY AS t(quantity, customization, n)
    ORDER BY t.n
    RETURNING ${ITEM_COLUMNS}
  ), lv AS (
    SELECT jsonb_build_object('productId', r."productId",
             'availableQuantity', r."availableQuantity" + r."otherAvailable",
             'reservedQuantity', r."reservedQuantity" + r."otherReserved",
             'variants', jsonb_build_array(jsonb_build_object('variantId', r."variantId",
               'availableQuantity', r."availableQuantity", 'reservedQuantity', r."reservedQuantity"))) AS level
    FROM r
  )${claim}, e AS (
    INSERT INTO outbox (aggregate_type, aggregate_id, event_type, payload)
    SELECT 'order', o.id::text, 'order.placed', $8::jsonb || jsonb_build_object('totalAmount', o.total_amount,
             'items', (SELECT jsonb_agg(jsonb_build_object('productId', r."productId", 'variantId', r."variantId",
                                                           'quantity', t.quantity) ORDER BY t.n)
                       FROM unnest($6::int[]) WITH ORDINALITY AS t(quantity, n)))
    FROM o, r
    UNION ALL
    SELECT 'product', r."productId"::text, 'inventory.changed', lv.level FROM r, lv
    UNION ALL
    ${lowStockEventsSql('r', '$2', '$15')}
  )
  SELECT o.*, (SELECT json_agg(i) FROM i) AS items, lv.level
  FROM o, lv`;
const PLACE_ONE_SQL = placeOneSql('');
/**
 * PLACE_ONE_SQL that also claims an Idempotency-Key for the order it places: $16 scope, $17 key
 * digest, $18 request digest, $19 encrypted secret, $20 how long to wait for a live claim of the
 * same key. A key claimed already fails the whole statement (unique violation): nothing of it is
 * written. The wait is set in the claim's own source row, so it bounds only that insert's wait.
 */
const PLACE_ONE_CLAIMED_SQL = placeOneSql(`, k AS (
    INSERT INTO idempotency_keys (scope, key, request_hash, status, response_secret, order_id)
    SELECT $16, $17, $18, 'in_progress', $19, o.id FROM o, (SELECT set_config('lock_timeout', $20, true)) AS wait
  )`);

export const ordersSql = {
  /** The oldest orders in `statuses` past `days`, with their items, a batch at a time (for archival). */
  async archivable(
    db: Queryable,
    statuses: string[],
    days: number,
    limit: number,
  ): Promise<{ order: ArchivableRow['order']; items: ArchivableRow['items'] }[]> {
    const { rows } = await db.query<{ line: ArchivableRow }>(
      `SELECT jsonb_build_object(
           'order', jsonb_build_object('id', o.id, 'customer_id', o.customer_id, 'guest_session_id', o.guest_session_id,
              'status', o.status, 'total_amount', o.total_amount, 'currency', o.currency,
              'created_at', o.created_at::text, 'updated_at', o.updated_at::text,
              'shipping_address', o.shipping_address, 'buyer', o.buyer, 'shipping', o.shipping,
              'shipping_amount', o.shipping_amount, 'discount_amount', o.discount_amount,
              'discounts', o.discounts),
           'fulfillments', COALESCE((SELECT jsonb_agg(jsonb_build_object('id', f.id, 'carrier', f.carrier,
                'tracking_code', f.tracking_code, 'tracking_url', f.tracking_url, 'items', f.items,
                'created_at', f.created_at::text) ORDER BY f.created_at, f.id)
              FROM order_fulfillments f WHERE f.order_id = o.id), '[]'::jsonb),
           'events', COALESCE((SELECT jsonb_agg(jsonb_build_object('type', e.type, 'actor_type', e.actor_type,
                'actor', e.actor, 'data', e.data, 'customer_visible', e.customer_visible, 'at', e.at::text)
                ORDER BY e.id)
              FROM order_events e WHERE e.order_id = o.id), '[]'::jsonb),
           'items', COALESCE((SELECT jsonb_agg(jsonb_build_object('id', i.id, 'product_id', i.product_id,
                'variant_id', i.variant_id, 'sku', i.sku, 'options', i.options, 'product_name', i.product_name,
                'quantity', i.quantity, 'unit_price', i.unit_price, 'customization', i.customization,
                'discount_amount', i.discount_amount, 'created_at', i.created_at::text) ORDER BY i.created_at, i.id)
              FROM order_items i WHERE i.order_id = o.id), '[]'::jsonb)) AS line
       FROM orders o
       WHERE o.status = ANY($1::text[]) AND o.created_at < NOW() - make_interval(days => $2)
       ORDER BY o.created_at, o.id LIMIT $3`,
      [statuses, days, limit],
    );
    return rows.map((r) => r.line);
  },

  /**
   * Deletes the orders (items, attempts and refunds go by cascade) that have not changed since
   * they were read (same updated_at, still in `statuses`); returns those deleted.
   */
  async deleteUnchanged(
    db: Queryable,
    orders: { id: string; updated_at: string }[],
    statuses: string[],
  ): Promise<string[]> {
    const { rows } = await db.query<{ id: string }>(
      `DELETE FROM orders o USING unnest($1::uuid[], $2::text[]) AS b(id, updated_at)
       WHERE o.id = b.id AND o.updated_at = b.updated_at::timestamptz AND o.status = ANY($3::text[])
       RETURNING o.id`,
      [orders.map((o) => o.id), orders.map((o) => o.updated_at), statuses],
    );
    return rows.map((r) => r.id);
  },

  async exists(db: Queryable, orderId: string): Promise<boolean> {
    return ((await db.query('SELECT 1 FROM orders WHERE id = $1', [orderId])).rowCount ?? 0) > 0;
  },

  /**
   * Puts an archived order and its items back (rows already there are kept), with its delivery,
   * fulfilments and history when the archive holds them.
   */
  async restore(
    db: Queryable,
    o: ArchivableRow['order'],
    items: ArchivableRow['items'],
    extra: Pick<ArchivableRow, 'fulfillments' | 'events'> = {},
  ): Promise<void> {
    const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));
    const { rowCount } = await db.query(
      `INSERT INTO orders (id, customer_id, guest_session_id, status, total_amount, currency, created_at, updated_at,
         shipping_address, buyer, shipping, shipping_amount, discount_amount, discounts)
       VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz, $8::timestamptz, $9, $10, $11, $12, $13, $14)
       ON CONFLICT (id) DO NOTHING`,
      [
        o.id,
        o.customer_id,
        o.guest_session_id,
        o.status,
        o.total_amount,
        o.currency,
        o.created_at,
        o.updated_at,
        json(o.shipping_address),
        json(o.buyer),
        json(o.shipping),
        o.shipping_amount ?? null,
        o.discount_amount ?? null,
        json(o.discounts),
      ],
    );
    if (rowCount && extra.fulfillments?.length)
      await db.query(
        `INSERT INTO order_fulfillments (id, order_id, carrier, tracking_code, tracking_url, items, created_at)
         SELECT t.id, $1, t.carrier, t.tracking_code, t.tracking_url, t.items, t.created_at
         FROM jsonb_to_recordset($2::jsonb)
              AS t(id uuid, carrier text, tracking_code text, tracking_url text, items jsonb, created_at timestamptz)
         ON CONFLICT (id) DO NOTHING`,
        [o.id, JSON.stringify(extra.fulfillments)],
      );
    if (rowCount && extra.events?.length)
      await db.query(
        `INSERT INTO order_events (order_id, type, actor_type, actor, data, customer_visible, at)
         SELECT $1, e.v->>'type', e.v->>'actor_type', e.v->>'actor', e.v->'data',
                (e.v->>'customer_visible')::boolean, (e.v->>'at')::timestamptz
         FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS e(v, n)
         ORDER BY e.n`,
        [o.id, JSON.stringify(extra.events)],
      );
    for (const i of items)
      await db.query(
        `INSERT INTO order_items (id, order_id, product_id, quantity, unit_price, customization, created_at,
                                  variant_id, sku, options, product_name, discount_amount)
         VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz, $8, $9, $10, $11, $12) ON CONFLICT (id) DO NOTHING`,
        [
          i.id,
          o.id,
          i.product_id,
          i.quantity,
          i.unit_price,
          i.customization,
          i.created_at,
          i.variant_id ?? null,
          i.sku ?? null,
          i.options ?? null,
          i.product_name ?? null,
          i.discount_amount ?? null,
        ],
      );
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

  /**
   * A one-variant order as one statement: reserve the units of a live variant (guarded: never
   * below zero; the row lock queues concurrent buyers), then write the order at the current price,
   * its items and its events (`order.placed`, `inventory.changed`). Everything in it commits or
   * nothing does. Undefined when the reservation did not happen (unknown, deleted or short
   * variant): then nothing was written.
   */
  async placeOne(
    db: Queryable,
    o: {
      id: string;
      variantId: string;
      /** Of all the lines (they name one variant). */
      quantity: number;
      customerId: string | null;
      guestSessionId: string | null;
      lines: { quantity: number; customization: unknown }[];
      /** order.placed's payload without totalAmount and items, which the statement adds. */
      placedPayload: object;
      /** Who holds it: admitted (or refused) by the same statement. */
      hold: HoldAdmission;
      /** Free units at or below which the variant emits inventory.low_stock (on the way down). */
      lowStockThreshold: number;
      /** Claims this Idempotency-Key in the same statement. */
      claim?: KeyClaim;
    },
  ): Promise<{ order: OrderRow; items: OrderItemRow[]; level: StockLevel } | undefined> {
    const { rows } = await db.query<OrderRow & { items: ItemJson[]; level: StockLevel }>({
      name: o.claim ? 'orders_place_one_claimed' : 'orders_place_one',
      text: o.claim ? PLACE_ONE_CLAIMED_SQL : PLACE_ONE_SQL,
      values: [
        o.variantId,
        o.quantity,
        o.id,
        o.customerId,
        o.guestSessionId,
        o.lines.map((l) => l.quantity),
        o.lines.map((l) =>
          l.customization === undefined || l.customization === null ? null : JSON.stringify(l.customization),
        ),
        JSON.stringify(o.placedPayload),
        ...holdValues(o.hold),
        o.lowStockThreshold,
        ...(o.claim
          ? [
              o.claim.scope,
              o.claim.keyDigest,
              o.claim.requestDigest,
              o.claim.encryptedSecret,
              o.claim.lockTimeout,
            ]
          : []),
      ],
    });
    const row = rows[0];
    if (!row) return undefined;
    const { items, level, ...order } = row;
    return { order, items: items.map((i) => ({ ...i, order_id: order.id })), level };
  },

  /**
   * Writes a placed order, its items and its outbox events in one statement (one round trip; the
   * foreign keys are checked at its end, when the order row exists). Items come back in line order.
   */
  async insertPlaced(
    tx: Queryable,
    o: {
      id: string;
      customerId: string | null;
      guestSessionId: string | null;
      total: number;
      /** The address holding it while pending (see {@link HoldAdmission}). */
      holdAddress: string | null;
      items: NewItem[];
      events: DomainEvent[];
    },
  ): Promise<{ order: OrderRow; items: OrderItemRow[] }> {
    const { rows } = await tx.query<OrderRow & { items: ItemJson[] }>({
      name: 'orders_insert_placed',
      text: `WITH o AS (
               INSERT INTO orders (id, customer_id, guest_session_id, status, total_amount, currency, hold_address)
               VALUES ($1, $2, $3, 'pending', $4, 'BRL', $9) RETURNING ${ORDER_COLUMNS}
             ), i AS (
               INSERT INTO order_items (order_id, product_id, quantity, unit_price, customization,
                                        variant_id, sku, options, product_name)
               SELECT $1, t.product_id, t.quantity, t.unit_price, t.customization,
                      t.variant_id, t.sku, t.options, t.product_name
               FROM unnest($5::uuid[], $6::int[], $7::int[], $8::jsonb[], $10::uuid[], $11::text[], $12::jsonb[], $13::text[])
                    WITH ORDINALITY AS t(product_id, quantity, unit_price, customization, variant_id, sku, options, product_name, n)
               ORDER BY t.n
               RETURNING ${ITEM_COLUMNS}
             ), e AS (
               ${outboxInsertSql(14)}
             )
             SELECT o.*, (SELECT json_agg(i) FROM i) AS items FROM o`,
      values: [
        o.id,
        o.customerId,
        o.guestSessionId,
        o.total,
        o.items.map((i) => i.productId),
        o.items.map((i) => i.quantity),
        o.items.map((i) => i.unitPrice),
        o.items.map((i) =>
          i.customization === undefined || i.customization === null ? null : JSON.stringify(i.customization),
        ),
        o.holdAddress,
        o.items.map((i) => i.variantId),
        o.items.map((i) => i.sku),
        o.items.map((i) => JSON.stringify(i.options)),
        o.items.map((i) => i.productName),
        ...outboxValues(o.events),
      ],
    });
    const { items, ...order } = rows[0]!;
    // json_agg keeps the order of the rows it is given, which is the order they were inserted in.
    return { order, items: items.map((i) => ({ ...i, order_id: order.id })) };
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

  /**
   * Admits one more pending order for its holders inside the caller's transaction (the locks last
   * until it ends), or raises SFH01 (address) / SFH02 (customer or guest session): see
   * {@link HoldAdmission}.
   */
  async admitHold(tx: Queryable, hold: HoldAdmission): Promise<void> {
    await tx.query({
      name: 'orders_admit_hold',
      text: `SELECT ${admitSql(1, 2, 3, 4, 5)}`,
      values: [hold.address, hold.customerId, hold.guestSessionId, hold.units, ...holdLimitValues(hold)],
    });
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
