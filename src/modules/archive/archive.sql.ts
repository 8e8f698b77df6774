/**
 * The SQL of order archival: it reads and deletes orders with their items and payment attempts
 * and refunds (the tables of the orders and payments modules) because an archived batch must leave them in
 * one transaction with its index rows; no other module's SQL is imported.
 */
import type { Queryable } from '../../platform/db/pool.ts';

/** One archived order as it is written to a JSON line: every column of the three tables. */
export interface ArchivedOrder {
  order: {
    id: string;
    customer_id: string | null;
    guest_session_id: string | null;
    status: string;
    total_amount: number;
    currency: string;
    created_at: string;
    updated_at: string;
  };
  items: {
    id: string;
    product_id: string | null;
    quantity: number;
    unit_price: number;
    customization: unknown;
    created_at: string;
  }[];
  payments: Record<string, unknown>[];
  /** Absent in objects written before refunds existed. */
  refunds?: Record<string, unknown>[];
  /**
   * The customer's id and the customizations of the items, sealed with the customer's archive key
   * (absent for guest orders, and in objects written before keys existed, which hold them in clear).
   */
  sealed?: { iv: string; tag: string; data: string };
}

/** What a sealed part holds. */
export interface SealedPersonal {
  customerId: string;
  customizations: Record<string, unknown>;
}

/** An archived order as the index knows it. */
export interface ArchiveIndexRow {
  order_id: string;
  status: string;
  total_amount: number;
  currency: string;
  created_at: Date;
  archived_at: Date;
}

export const FINAL_STATUSES = ['delivered', 'cancelled', 'refunded'];

export const archiveSql = {
  /** The oldest final orders past the age, whole, a batch at a time (timestamps as PostgreSQL text). */
  async candidates(db: Queryable, days: number, limit: number): Promise<ArchivedOrder[]> {
    const { rows } = await db.query<{ line: ArchivedOrder }>(
      `SELECT jsonb_build_object(
           'order', jsonb_build_object('id', o.id, 'customer_id', o.customer_id, 'guest_session_id', o.guest_session_id,
              'status', o.status, 'total_amount', o.total_amount, 'currency', o.currency,
              'created_at', o.created_at::text, 'updated_at', o.updated_at::text),
           'items', COALESCE((SELECT jsonb_agg(jsonb_build_object('id', i.id, 'product_id', i.product_id,
                'quantity', i.quantity, 'unit_price', i.unit_price, 'customization', i.customization,
                'created_at', i.created_at::text) ORDER BY i.created_at, i.id)
              FROM order_items i WHERE i.order_id = o.id), '[]'::jsonb),
           -- Without next_action: a final order's voucher or PIX code is of no use, and a boleto's names the payer.
           'payments', COALESCE((SELECT jsonb_agg(to_jsonb(p) - 'next_action' ORDER BY p.created_at, p.id)
              FROM payment_attempts p WHERE p.order_id = o.id), '[]'::jsonb),
           'refunds', COALESCE((SELECT jsonb_agg(to_jsonb(r) ORDER BY r.created_at, r.id)
              FROM payment_refunds r WHERE r.order_id = o.id), '[]'::jsonb)) AS line
       FROM orders o
       WHERE o.status = ANY($1::text[]) AND o.created_at < NOW() - make_interval(days => $2)
       ORDER BY o.created_at, o.id LIMIT $3`,
      [FINAL_STATUSES, days, limit],
    );
    return rows.map((r) => r.line);
  },

  /**
   * Deletes the orders of a verified batch that have not changed since they were read (same
   * updated_at, still final), with their items and attempts (cascade); returns those deleted.
   */
  async deleteArchived(db: Queryable, orders: ArchivedOrder['order'][]): Promise<string[]> {
    const { rows } = await db.query<{ id: string }>(
      `DELETE FROM orders o USING unnest($1::uuid[], $2::text[]) AS b(id, updated_at)
       WHERE o.id = b.id AND o.updated_at = b.updated_at::timestamptz AND o.status = ANY($3::text[])
       RETURNING o.id`,
      [orders.map((o) => o.id), orders.map((o) => o.updated_at), FINAL_STATUSES],
    );
    return rows.map((r) => r.id);
  },

  async index(db: Queryable, orders: ArchivedOrder['order'][], objectKey: string): Promise<void> {
    await db.query(
      `INSERT INTO order_archive (order_id, customer_id, guest_session_id, status, total_amount, currency, created_at, object_key)
       SELECT * , $8::text FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::int[], $6::text[], $7::timestamptz[])
       ON CONFLICT (order_id) DO NOTHING`,
      [
        orders.map((o) => o.id),
        orders.map((o) => o.customer_id),
        orders.map((o) => o.guest_session_id),
        orders.map((o) => o.status),
        orders.map((o) => o.total_amount),
        orders.map((o) => o.currency),
        orders.map((o) => o.created_at),
        objectKey,
      ],
    );
  },

  /** Adds (or, with a negative sign, removes) what orders sold to the archived sales per product. */
  async addSales(
    db: Queryable,
    sales: Map<string, { orders: number; units: number }>,
    sign: 1 | -1,
  ): Promise<void> {
    if (sales.size === 0) return;
    const ids = [...sales.keys()];
    await db.query(
      `INSERT INTO archived_sales (product_id, total_orders, total_sold)
       SELECT * FROM unnest($1::uuid[], $2::int[], $3::int[])
       ON CONFLICT (product_id) DO UPDATE SET total_orders = archived_sales.total_orders + EXCLUDED.total_orders,
         total_sold = archived_sales.total_sold + EXCLUDED.total_sold`,
      [ids, ids.map((id) => sign * sales.get(id)!.orders), ids.map((id) => sign * sales.get(id)!.units)],
    );
  },

  async find(
    db: Queryable,
    orderId: string,
  ): Promise<{ object_key: string; erased: boolean; customer_id: string | null } | undefined> {
    const { rows } = await db.query<{ object_key: string; erased: boolean; customer_id: string | null }>(
      'SELECT object_key, erased, customer_id FROM order_archive WHERE order_id = $1 FOR UPDATE',
      [orderId],
    );
    return rows[0];
  },

  async isHot(db: Queryable, orderId: string): Promise<boolean> {
    return ((await db.query('SELECT 1 FROM orders WHERE id = $1', [orderId])).rowCount ?? 0) > 0;
  },

  /** Puts an archived order back in the hot tables (items and attempts too) and drops its index row. */
  async restore(
    db: Queryable,
    line: ArchivedOrder,
    erased: boolean,
    personal?: { customerId: string | null; customizations: Record<string, unknown> },
  ): Promise<void> {
    const o = line.order;
    // A line with a sealed part takes the customer from the index and the customizations from the
    // unsealed part (none once the customer's key was destroyed); an older line holds them in clear.
    const customerId = erased ? null : personal ? personal.customerId : o.customer_id;
    const customization = (i: ArchivedOrder['items'][number]) =>
      erased ? null : personal ? (personal.customizations[i.id] ?? null) : i.customization;
    await db.query(
      `INSERT INTO orders (id, customer_id, guest_session_id, status, total_amount, currency, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz, $8::timestamptz) ON CONFLICT (id) DO NOTHING`,
      [
        o.id,
        customerId,
        o.guest_session_id,
        o.status,
        o.total_amount,
        o.currency,
        o.created_at,
        o.updated_at,
      ],
    );
    for (const i of line.items)
      await db.query(
        `INSERT INTO order_items (id, order_id, product_id, quantity, unit_price, customization, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz) ON CONFLICT (id) DO NOTHING`,
        [i.id, o.id, i.product_id, i.quantity, i.unit_price, customization(i), i.created_at],
      );
    for (const p of line.payments)
      await db.query(
        // Attempts archived before the method and refund columns existed get their defaults.
        `INSERT INTO payment_attempts SELECT * FROM jsonb_populate_record(NULL::payment_attempts,
           '{"method": "card", "refunded_amount": 0}'::jsonb || $1::jsonb)
         ON CONFLICT (id) DO NOTHING`,
        [p],
      );
    for (const r of line.refunds ?? [])
      await db.query(
        `INSERT INTO payment_refunds SELECT * FROM jsonb_populate_record(NULL::payment_refunds, $1::jsonb)
         ON CONFLICT (id) DO NOTHING`,
        [r],
      );
    await db.query('DELETE FROM order_archive WHERE order_id = $1', [o.id]);
  },

  /** The archive keys of customers, made for those who have none yet. */
  async customerKeys(db: Queryable, ids: string[], fresh: () => Buffer): Promise<Map<string, Buffer>> {
    if (ids.length === 0) return new Map();
    await db.query(
      `INSERT INTO archive_customer_keys (customer_id, key)
       SELECT * FROM unnest($1::uuid[], $2::bytea[]) ON CONFLICT (customer_id) DO NOTHING`,
      [ids, ids.map(() => fresh())],
    );
    const { rows } = await db.query<{ customer_id: string; key: Buffer }>(
      'SELECT customer_id, key FROM archive_customer_keys WHERE customer_id = ANY($1::uuid[])',
      [ids],
    );
    return new Map(rows.map((r) => [r.customer_id, r.key]));
  },

  async customerKey(db: Queryable, id: string): Promise<Buffer | undefined> {
    const { rows } = await db.query<{ key: Buffer }>(
      'SELECT key FROM archive_customer_keys WHERE customer_id = $1',
      [id],
    );
    return rows[0]?.key;
  },

  /** A page of a customer's archived orders (their own history still lists them). */
  async ofCustomer(db: Queryable, customerId: string, limit: number): Promise<ArchiveIndexRow[]> {
    const { rows } = await db.query<ArchiveIndexRow>(
      `SELECT order_id, status, total_amount, currency, created_at, archived_at FROM order_archive
       WHERE customer_id = $1 ORDER BY created_at DESC LIMIT $2`,
      [customerId, limit],
    );
    return rows;
  },
};
