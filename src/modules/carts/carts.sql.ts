import type { Queryable } from '../../platform/db/pool.ts';

export interface CartRow {
  id: string;
  customer_id: string | null;
  session_id: string | null;
  status: 'active' | 'checked_out' | 'abandoned';
  currency: string;
  order_id: string | null;
  created_at: Date;
  updated_at: Date;
  expires_at: Date;
}

export interface CartLineRow {
  id: string;
  product_id: string;
  name: string;
  base_price: number;
  deleted: boolean;
  available_quantity: number | null;
  quantity: number;
  customization: unknown;
}

const CART_COLUMNS =
  'id, customer_id, session_id, status, currency, order_id, created_at, updated_at, expires_at';

export const MAX_CART_LINES = 100;

export const cartsSql = {
  async create(
    db: Queryable,
    owner: { customerId: string | null; sessionId: string | null },
    guestDays: number,
  ): Promise<CartRow> {
    const { rows } = await db.query<CartRow>(
      `INSERT INTO carts (customer_id, session_id, expires_at) VALUES ($1, $2, NOW() + make_interval(days => $3))
       RETURNING ${CART_COLUMNS}`,
      [owner.customerId, owner.sessionId, guestDays],
    );
    return rows[0]!;
  },

  async find(db: Queryable, id: string, forUpdate = false): Promise<CartRow | undefined> {
    const { rows } = await db.query<CartRow>(
      forUpdate
        ? `SELECT ${CART_COLUMNS} FROM carts WHERE id = $1 FOR UPDATE`
        : `SELECT ${CART_COLUMNS} FROM carts WHERE id = $1`,
      [id],
    );
    return rows[0];
  },

  async lines(db: Queryable, cartId: string): Promise<CartLineRow[]> {
    const { rows } = await db.query<CartLineRow>({
      name: 'carts_lines',
      text: `SELECT ci.id, ci.product_id, p.name, p.base_price, p.deleted_at IS NOT NULL AS deleted,
                    i.available_quantity, ci.quantity, ci.customization
             FROM cart_items ci
             JOIN products p ON p.id = ci.product_id
             LEFT JOIN inventory i ON i.product_id = ci.product_id
             WHERE ci.cart_id = $1
             ORDER BY ci.created_at, ci.id`,
      values: [cartId],
    });
    return rows;
  },

  async countLines(db: Queryable, cartId: string): Promise<number> {
    const { rows } = await db.query<{ n: number }>(
      'SELECT COUNT(*) AS n FROM cart_items WHERE cart_id = $1',
      [cartId],
    );
    return rows[0]!.n;
  },

  async addLine(
    db: Queryable,
    cartId: string,
    l: { productId: string; quantity: number; customization: unknown },
  ): Promise<string> {
    const { rows } = await db.query<{ id: string }>(
      'INSERT INTO cart_items (cart_id, product_id, quantity, customization) VALUES ($1, $2, $3, $4) RETURNING id',
      [
        cartId,
        l.productId,
        l.quantity,
        l.customization === undefined || l.customization === null ? null : JSON.stringify(l.customization),
      ],
    );
    return rows[0]!.id;
  },

  async updateLine(db: Queryable, cartId: string, itemId: string, quantity: number): Promise<boolean> {
    const { rowCount } = await db.query(
      'UPDATE cart_items SET quantity = $3 WHERE cart_id = $1 AND id = $2',
      [cartId, itemId, quantity],
    );
    return rowCount === 1;
  },

  async deleteLine(db: Queryable, cartId: string, itemId: string): Promise<boolean> {
    const { rowCount } = await db.query('DELETE FROM cart_items WHERE cart_id = $1 AND id = $2', [
      cartId,
      itemId,
    ]);
    return rowCount === 1;
  },

  /** A change keeps the cart alive: its expiry moves the retention period past now. */
  async touch(db: Queryable, cartId: string, guestDays: number): Promise<void> {
    await db.query('UPDATE carts SET expires_at = NOW() + make_interval(days => $2) WHERE id = $1', [
      cartId,
      guestDays,
    ]);
  },

  async markCheckedOut(db: Queryable, cartId: string, orderId: string): Promise<void> {
    await db.query("UPDATE carts SET status = 'checked_out', order_id = $2 WHERE id = $1", [cartId, orderId]);
  },
};

/**
 * Deletes (with their items) up to $2 guest carts untouched for $1 days; customer carts are kept.
 * Uses idx_carts_guest_updated.
 */
export const PURGE_GUEST_CARTS = `DELETE FROM carts WHERE id IN (
  SELECT id FROM carts WHERE customer_id IS NULL AND updated_at < NOW() - make_interval(days => $1) LIMIT $2)`;
