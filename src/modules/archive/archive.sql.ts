/**
 * The SQL of order archival: its own tables (the index of archived orders, the archived sales,
 * the customers' archive keys). The orders, items, attempts and refunds it archives are read,
 * deleted and restored by the orders and payments modules, in archival's transaction.
 */
import type { Queryable } from '../../platform/db/pool.ts';
import type { ArchivableOrder } from '../orders/orders.service.ts';

/** One archived order as it is written to a JSON line: every column of the orders, items, attempts and refunds. */
export interface ArchivedOrder extends ArchivableOrder {
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
  /** The order's delivery address and buyer (absent in objects written before issue 29). */
  shippingAddress?: unknown;
  buyer?: unknown;
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

export const archiveSql = {
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

  /** Drops a restored order's index row. */
  async unindex(db: Queryable, orderId: string): Promise<void> {
    await db.query('DELETE FROM order_archive WHERE order_id = $1', [orderId]);
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

  /**
   * Erasure: unlinks the customer's archived orders in the index (a restore brings them back without
   * personal fields) and destroys their archive key, so the sealed part of every archive line of
   * theirs becomes unreadable. The ids of those orders.
   */
  async detachCustomer(db: Queryable, customerId: string): Promise<string[]> {
    const { rows } = await db.query<{ order_id: string }>(
      'UPDATE order_archive SET customer_id = NULL, erased = true WHERE customer_id = $1 RETURNING order_id',
      [customerId],
    );
    await db.query('DELETE FROM archive_customer_keys WHERE customer_id = $1', [customerId]);
    return rows.map((r) => r.order_id);
  },

  /** The customer's archived orders as their export shows them. */
  async exportOf(db: Queryable, customerId: string): Promise<Record<string, unknown>[]> {
    const { rows } = await db.query<{ a: Record<string, unknown> }>(
      `SELECT jsonb_build_object('id', order_id, 'status', status, 'totalAmount', total_amount, 'currency', currency,
                'createdAt', created_at, 'archivedAt', archived_at) AS a
       FROM order_archive WHERE customer_id = $1 ORDER BY created_at, order_id`,
      [customerId],
    );
    return rows.map((x) => x.a);
  },
};
