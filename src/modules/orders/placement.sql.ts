/**
 * The SQL of placing an order: the one statement that admits the holder, reserves the stock and
 * writes the order, its items and its events (with or without claiming an Idempotency-Key), and
 * the pieces of the transactional way (the admission, the insert of a placed order).
 */
import type { Queryable } from '../../platform/db/pool.ts';
import type { KeyClaim } from '../idempotency/idempotency.service.ts';
import { outboxInsertSql, outboxValues, type DomainEvent } from '../../platform/events/outbox.ts';
import type { StockLevel } from '../inventory/inventory.service.ts';
import { lowStockEventsSql, reserveOneLiveSql } from '../inventory/reservation.published.ts';
import {
  ITEM_COLUMNS,
  ORDER_COLUMNS,
  type ItemJson,
  type NewItem,
  type OrderItemRow,
  type OrderRow,
} from './orders.sql.ts';

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

/**
 * The holder admission (order_hold_admit, see {@link HoldAdmission}) given the positions of its
 * parameters: address, customer, guest session, units, then the six numbers of the limits.
 */
const admitSql = (address: number, customer: number, guest: number, units: number, limits: number) =>
  `order_hold_admit($${address}::text, $${customer}::uuid, $${guest}::text, $${units}::int, ${[0, 1, 2, 3, 4]
    .map((i) => `$${limits + i}::int`)
    .join(', ')})`;

/** See {@link placementSql.placeOne}. $1 variant, $2 total quantity, $3 order id, $4 customer, $5 guest
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

export const placementSql = {
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
};
