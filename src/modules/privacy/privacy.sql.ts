/**
 * The SQL of erasure and export. It reads and writes the tables of several modules (customers,
 * orders, reviews, carts, idempotency records) because an erasure must change them all in one
 * transaction; no other module's SQL is imported.
 */
import type { Queryable } from '../../platform/db/pool.ts';

export interface CustomerRow {
  id: string;
  email: string;
  name: string;
  phone: string | null;
  address: unknown;
  document_type: string | null;
  document_number: string | null;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
  anonymized_at: Date | null;
}

export const privacySql = {
  async lockCustomer(db: Queryable, id: string): Promise<CustomerRow | undefined> {
    const { rows } = await db.query<CustomerRow>(
      `SELECT id, email, name, phone, address, document_type, document_number, created_at, updated_at, deleted_at, anonymized_at
       FROM customers WHERE id = $1 FOR UPDATE`,
      [id],
    );
    return rows[0];
  },

  async customer(db: Queryable, id: string): Promise<CustomerRow | undefined> {
    const { rows } = await db.query<CustomerRow>(
      `SELECT id, email, name, phone, address, document_type, document_number, created_at, updated_at, deleted_at, anonymized_at
       FROM customers WHERE id = $1 AND deleted_at IS NULL`,
      [id],
    );
    return rows[0];
  },

  /** Replaces every personal field: a random placeholder email, no name, phone, address or password. */
  async eraseCustomer(db: Queryable, id: string, placeholderEmail: string): Promise<void> {
    await db.query(
      `UPDATE customers SET email = $2, name = 'Erased customer', phone = NULL, address = NULL,
         document_type = NULL, document_number = NULL,
         password_hash = NULL, deleted_at = COALESCE(deleted_at, NOW()), anonymized_at = NOW()
       WHERE id = $1`,
      [id, placeholderEmail],
    );
  },

  /**
   * Unlinks the customer's orders (kept for accounting, `customer_id` NULL), clears the personal
   * text of their items' customizations and what their payment attempts kept for the payer
   * (`next_action`: PIX codes, boleto vouchers with name, CPF and address), unlinks their archived
   * orders and destroys their archive key (the sealed part of every archive line of theirs becomes
   * unreadable). Returns the ids of the orders, hot and archived, whose invoices must go.
   */
  async detachOrders(
    db: Queryable,
    id: string,
  ): Promise<{ orders: number; orderIds: string[]; archivedOrderIds: string[]; customizations: number }> {
    const { rows } = await db.query<{ id: string }>(
      'UPDATE orders SET customer_id = NULL WHERE customer_id = $1 RETURNING id',
      [id],
    );
    const ids = rows.map((r) => r.id);
    // Archived orders: unlinked in the index; a restore brings them back without personal fields.
    const { rows: archived } = await db.query<{ order_id: string }>(
      'UPDATE order_archive SET customer_id = NULL, erased = true WHERE customer_id = $1 RETURNING order_id',
      [id],
    );
    await db.query('DELETE FROM archive_customer_keys WHERE customer_id = $1', [id]);
    const { rowCount } = await db.query(
      'UPDATE order_items SET customization = NULL WHERE order_id = ANY($1::uuid[]) AND customization IS NOT NULL',
      [ids],
    );
    // The delivery address and the buyer (name, email, CPF/CNPJ) of each order, and what its history
    // kept of them (the customer's id as the actor of their own steps).
    await db.query('UPDATE orders SET shipping_address = NULL, buyer = NULL WHERE id = ANY($1::uuid[])', [
      ids,
    ]);
    await db.query(
      `UPDATE order_events SET data = data - 'shippingAddress' - 'buyer',
         actor = CASE WHEN actor_type = 'customer' THEN NULL ELSE actor END
       WHERE order_id = ANY($1::uuid[])`,
      [ids],
    );
    await db.query(
      'UPDATE payment_attempts SET next_action = NULL WHERE order_id = ANY($1::uuid[]) AND next_action IS NOT NULL',
      [ids],
    );
    return {
      orders: ids.length,
      orderIds: ids,
      archivedOrderIds: archived.map((r) => r.order_id),
      customizations: rowCount ?? 0,
    };
  },

  /** The address book goes whole. */
  async deleteAddresses(db: Queryable, id: string): Promise<number> {
    const { rowCount } = await db.query('DELETE FROM customer_addresses WHERE customer_id = $1', [id]);
    return rowCount ?? 0;
  },

  async addresses(db: Queryable, id: string): Promise<Record<string, unknown>[]> {
    const { rows } = await db.query<{ a: Record<string, unknown> }>(
      `SELECT jsonb_build_object('id', id, 'label', label, 'recipient', recipient, 'cep', cep, 'street', street,
                'number', number, 'complement', complement, 'district', district, 'city', city, 'state', state,
                'phone', phone, 'isDefault', is_default, 'createdAt', created_at) AS a
       FROM customer_addresses WHERE customer_id = $1 ORDER BY created_at, id`,
      [id],
    );
    return rows.map((x) => x.a);
  },

  async detachReviews(db: Queryable, id: string): Promise<number> {
    const { rowCount } = await db.query('UPDATE reviews SET customer_id = NULL WHERE customer_id = $1', [id]);
    return rowCount ?? 0;
  },

  /** The records of the customer's uploads (their keys hold the file names given); the files go after the commit. */
  async deleteUploadRecords(db: Queryable, ownerPrefix: string): Promise<void> {
    await db.query('DELETE FROM upload_records WHERE owner = $1', [ownerPrefix]);
  },

  async deleteCarts(db: Queryable, id: string): Promise<number> {
    const { rowCount } = await db.query('DELETE FROM carts WHERE customer_id = $1', [id]);
    return rowCount ?? 0;
  },

  /** Stored answers of the customer's keyed requests (their orders, with personal details). */
  async deleteIdempotencyRecords(db: Queryable, id: string): Promise<number> {
    const { rowCount } = await db.query('DELETE FROM idempotency_keys WHERE scope = $1', [`customer:${id}`]);
    return rowCount ?? 0;
  },

  /** A page of the customer's orders (after `after`, by created_at and id) with items and payments. */
  async ordersPage(
    db: Queryable,
    id: string,
    after: { createdAt: string; id: string } | undefined,
    limit: number,
  ): Promise<{ order: Record<string, unknown>; created_at: string; id: string }[]> {
    const { rows } = await db.query<{ order: Record<string, unknown>; created_at: string; id: string }>(
      `SELECT o.id, o.created_at::text AS created_at, jsonb_build_object(
           'id', o.id, 'status', o.status, 'totalAmount', o.total_amount, 'currency', o.currency,
           'createdAt', o.created_at, 'updatedAt', o.updated_at,
           'shippingAddress', o.shipping_address, 'buyer', o.buyer, 'shipping', o.shipping,
           'items', COALESCE((SELECT jsonb_agg(jsonb_build_object('productId', i.product_id, 'quantity', i.quantity,
                      'unitPrice', i.unit_price, 'customization', i.customization) ORDER BY i.created_at, i.id)
                    FROM order_items i WHERE i.order_id = o.id), '[]'::jsonb),
           'payments', COALESCE((SELECT jsonb_agg(jsonb_build_object('id', p.id, 'provider', p.provider,
                      'status', p.status, 'amount', p.amount, 'currency', p.currency, 'createdAt', p.created_at)
                      ORDER BY p.created_at, p.id)
                    FROM payment_attempts p WHERE p.order_id = o.id), '[]'::jsonb)) AS order
       FROM orders o
       WHERE o.customer_id = $1 AND ($2::timestamptz IS NULL OR (o.created_at, o.id) > ($2::timestamptz, $3::uuid))
       ORDER BY o.created_at, o.id LIMIT $4`,
      [id, after?.createdAt ?? null, after?.id ?? null, limit],
    );
    return rows;
  },

  async archivedOrders(db: Queryable, id: string): Promise<Record<string, unknown>[]> {
    const { rows } = await db.query<{ a: Record<string, unknown> }>(
      `SELECT jsonb_build_object('id', order_id, 'status', status, 'totalAmount', total_amount, 'currency', currency,
                'createdAt', created_at, 'archivedAt', archived_at) AS a
       FROM order_archive WHERE customer_id = $1 ORDER BY created_at, order_id`,
      [id],
    );
    return rows.map((x) => x.a);
  },

  async reviews(db: Queryable, id: string): Promise<Record<string, unknown>[]> {
    const { rows } = await db.query<{ r: Record<string, unknown> }>(
      `SELECT jsonb_build_object('id', id, 'productId', product_id, 'rating', rating, 'body', body,
                'createdAt', created_at) AS r
       FROM reviews WHERE customer_id = $1 ORDER BY created_at, id`,
      [id],
    );
    return rows.map((x) => x.r);
  },

  async carts(db: Queryable, id: string): Promise<Record<string, unknown>[]> {
    const { rows } = await db.query<{ c: Record<string, unknown> }>(
      `SELECT jsonb_build_object('id', c.id, 'status', c.status, 'createdAt', c.created_at,
                'items', COALESCE((SELECT jsonb_agg(jsonb_build_object('productId', i.product_id,
                   'quantity', i.quantity, 'customization', i.customization) ORDER BY i.created_at, i.id)
                 FROM cart_items i WHERE i.cart_id = c.id), '[]'::jsonb)) AS c
       FROM carts c WHERE c.customer_id = $1 ORDER BY c.created_at, c.id`,
      [id],
    );
    return rows.map((x) => x.c);
  },
};
