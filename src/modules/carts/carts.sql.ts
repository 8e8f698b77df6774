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
  /** The delivery (issue 29): address snapshot, buyer, chosen freight option (snapshots, JSON). */
  shipping_address: Record<string, unknown> | null;
  buyer: Record<string, unknown> | null;
  shipping_method: Record<string, unknown> | null;
  /** The promotion codes applied (issue 30), upper-cased, in the order applied. */
  promotion_codes: string[];
}

export interface CartLineRow {
  id: string;
  product_id: string;
  variant_id: string;
  sku: string | null;
  options: Record<string, string> | null;
  name: string;
  base_price: number;
  deleted: boolean;
  available_quantity: number | null;
  quantity: number;
  customization: unknown;
}

const CART_COLUMNS =
  'id, customer_id, session_id, status, currency, order_id, created_at, updated_at, expires_at, shipping_address, buyer, shipping_method, promotion_codes';

export const MAX_CART_LINES = 100;

/** The cart's times after a change. */
export interface Touched {
  expires_at: Date;
  updated_at: Date;
}

/**
 * A change keeps the cart alive: when the CTE `changed` changed a line, the cart ($1) expires the
 * retention period (parameter `days`, a fixed position) after now.
 */
const touchAfterChange = (days: number) => `t AS (
    UPDATE carts SET expires_at = NOW() + make_interval(days => $${days})
    WHERE id = $1 AND EXISTS (SELECT 1 FROM changed)
    RETURNING expires_at, updated_at
  )`;

/**
 * Runs a line change (`changed`, a fixed CTE of this file: $1 cart, $3.. its values) and the
 * touch in one statement; undefined when it changed nothing.
 */
async function touchAfter(db: Queryable, changed: string, values: unknown[]): Promise<Touched | undefined> {
  const { rows } = await db.query<Touched>(
    `WITH ${changed}, ${touchAfterChange(2)} SELECT expires_at, updated_at FROM t`,
    values,
  );
  return rows[0];
}

export const cartsSql = {
  /**
   * Active carts of an owner, counted under an advisory lock held to the end of the caller's
   * transaction, so that carts created at once by one owner are counted one after the other.
   */
  async lockAndCountActive(
    tx: Queryable,
    owner: { customerId: string | null; sessionId: string | null },
  ): Promise<number> {
    const ownerKey = owner.customerId ? `c:${owner.customerId}` : `s:${owner.sessionId}`;
    await tx.query("SELECT pg_advisory_xact_lock(hashtextextended('cart-quota:' || $1, 0))", [ownerKey]);
    const { rows } = await tx.query<{ n: number }>(
      owner.customerId
        ? "SELECT COUNT(*)::int AS n FROM carts WHERE customer_id = $1 AND status = 'active'"
        : "SELECT COUNT(*)::int AS n FROM carts WHERE session_id = $1 AND customer_id IS NULL AND status = 'active'",
      [owner.customerId ?? owner.sessionId],
    );
    return rows[0]!.n;
  },

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
      // A line from before variants holds its product's default variant, which has the product's id.
      text: `SELECT ci.id, ci.product_id, COALESCE(ci.variant_id, ci.product_id) AS variant_id, v.sku, v.options,
                    p.name, COALESCE(v.price, p.base_price) AS base_price,
                    (p.deleted_at IS NOT NULL OR v.id IS NULL OR v.deleted_at IS NOT NULL) AS deleted,
                    i.available_quantity, ci.quantity, ci.customization
             FROM cart_items ci
             JOIN products p ON p.id = ci.product_id
             LEFT JOIN product_variants v ON v.id = COALESCE(ci.variant_id, ci.product_id)
             LEFT JOIN inventory i ON i.variant_id = COALESCE(ci.variant_id, ci.product_id)
             WHERE ci.cart_id = $1
             ORDER BY ci.created_at, ci.id`,
      values: [cartId],
    });
    return rows;
  },

  /**
   * Adds a line to a cart the caller holds locked, in one statement: only when it names one live
   * variant of a live product (a variant, or a product with one variant) and the cart has fewer
   * than `max` lines (counted after the lock, so concurrent adds cannot pass it), and then the
   * cart's expiry moves (see {@link touchAfterChange}). Says which check failed: `variants` is how
   * many live variants the line could mean (0: unknown; more than 1: a variant is required).
   */
  async addLine(
    db: Queryable,
    cartId: string,
    l: { productId: string | null; variantId: string | null; quantity: number; customization: unknown },
    guestDays: number,
    max: number,
  ): Promise<{ variants: number; added: boolean; touched: Touched | undefined }> {
    const { rows } = await db.query<{ variants: number; added: boolean } & Touched>({
      name: 'carts_add_line',
      text: `WITH v AS (
               SELECT v.id, v.product_id FROM product_variants v JOIN products p ON p.id = v.product_id
               WHERE v.deleted_at IS NULL AND p.deleted_at IS NULL
                 AND CASE WHEN $7::uuid IS NOT NULL THEN v.id = $7 AND ($2::uuid IS NULL OR v.product_id = $2)
                          ELSE v.product_id = $2 END
             ), k AS (SELECT COUNT(*)::int AS k FROM v),
             n AS (SELECT COUNT(*) AS n FROM cart_items WHERE cart_id = $1),
             changed AS (
               INSERT INTO cart_items (cart_id, product_id, variant_id, quantity, customization)
               SELECT $1, v.product_id, v.id, $3, $4 FROM v, n, k WHERE k.k = 1 AND n.n < $6
               RETURNING 1
             ), ${touchAfterChange(5)}
             SELECT (SELECT k FROM k) AS variants, EXISTS (SELECT 1 FROM changed) AS added,
                    (SELECT expires_at FROM t) AS expires_at, (SELECT updated_at FROM t) AS updated_at`,
      values: [
        cartId,
        l.productId,
        l.quantity,
        l.customization === undefined || l.customization === null ? null : JSON.stringify(l.customization),
        guestDays,
        max,
        l.variantId,
      ],
    });
    const { variants, added, ...touched } = rows[0]!;
    return { variants, added, touched: added ? touched : undefined };
  },

  /** Sets a line's quantity and moves the cart's expiry; undefined when the cart has no such line. */
  async updateLine(
    db: Queryable,
    cartId: string,
    itemId: string,
    quantity: number,
    guestDays: number,
  ): Promise<Touched | undefined> {
    return touchAfter(
      db,
      `changed AS (UPDATE cart_items SET quantity = $4 WHERE cart_id = $1 AND id = $3 RETURNING 1)`,
      [cartId, guestDays, itemId, quantity],
    );
  },

  /** Removes a line and moves the cart's expiry; undefined when the cart has no such line. */
  async deleteLine(
    db: Queryable,
    cartId: string,
    itemId: string,
    guestDays: number,
  ): Promise<Touched | undefined> {
    return touchAfter(db, `changed AS (DELETE FROM cart_items WHERE cart_id = $1 AND id = $3 RETURNING 1)`, [
      cartId,
      guestDays,
      itemId,
    ]);
  },

  /** Replaces the cart's promotion codes (the cart locked by the caller); the cart as it is after. */
  async setPromotionCodes(
    tx: Queryable,
    cartId: string,
    codes: string[],
    guestDays: number,
  ): Promise<CartRow> {
    const { rows } = await tx.query<CartRow>(
      `UPDATE carts SET promotion_codes = $2, expires_at = NOW() + make_interval(days => $3)
       WHERE id = $1 RETURNING ${CART_COLUMNS}`,
      [cartId, codes, guestDays],
    );
    return rows[0]!;
  },

  /**
   * Sets the parts of the cart's delivery given (undefined: unchanged; null: removed) in the
   * caller's transaction, the cart locked; the cart as it is after.
   */
  async setDelivery(
    tx: Queryable,
    cartId: string,
    d: { shippingAddress?: unknown; buyer?: unknown; shippingMethod?: unknown },
    guestDays: number,
  ): Promise<CartRow> {
    const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));
    const { rows } = await tx.query<CartRow>(
      `UPDATE carts SET
         shipping_address = CASE WHEN $2 THEN $3::jsonb ELSE shipping_address END,
         buyer = CASE WHEN $4 THEN $5::jsonb ELSE buyer END,
         shipping_method = CASE WHEN $6 THEN $7::jsonb ELSE shipping_method END,
         expires_at = NOW() + make_interval(days => $8)
       WHERE id = $1 RETURNING ${CART_COLUMNS}`,
      [
        cartId,
        d.shippingAddress !== undefined,
        json(d.shippingAddress),
        d.buyer !== undefined,
        json(d.buyer),
        d.shippingMethod !== undefined,
        json(d.shippingMethod),
        guestDays,
      ],
    );
    return rows[0]!;
  },

  async markCheckedOut(db: Queryable, cartId: string, orderId: string): Promise<void> {
    await db.query("UPDATE carts SET status = 'checked_out', order_id = $2 WHERE id = $1", [cartId, orderId]);
  },

  /** Erasure: deletes the customer's carts with their lines. */
  async deleteOfCustomer(db: Queryable, customerId: string): Promise<number> {
    const { rowCount } = await db.query('DELETE FROM carts WHERE customer_id = $1', [customerId]);
    return rowCount ?? 0;
  },

  /** The customer's carts with their lines, as their export shows them. */
  async exportOf(db: Queryable, customerId: string): Promise<Record<string, unknown>[]> {
    const { rows } = await db.query<{ c: Record<string, unknown> }>(
      `SELECT jsonb_build_object('id', c.id, 'status', c.status, 'createdAt', c.created_at,
                'items', COALESCE((SELECT jsonb_agg(jsonb_build_object('productId', i.product_id,
                   'quantity', i.quantity, 'customization', i.customization) ORDER BY i.created_at, i.id)
                 FROM cart_items i WHERE i.cart_id = c.id), '[]'::jsonb)) AS c
       FROM carts c WHERE c.customer_id = $1 ORDER BY c.created_at, c.id`,
      [customerId],
    );
    return rows.map((x) => x.c);
  },
};

/**
 * Deletes (with their items) up to $2 guest carts untouched for $1 days; customer carts are kept.
 * Uses idx_carts_guest_updated.
 */
export const PURGE_GUEST_CARTS = `DELETE FROM carts WHERE id IN (
  SELECT id FROM carts WHERE customer_id IS NULL AND updated_at < NOW() - make_interval(days => $1) LIMIT $2)`;

/**
 * Deletes (with their items) up to $2 customer carts not checked out and untouched for $1 days.
 * Checked-out carts stay with the order they became. Uses idx_carts_customer_updated.
 */
export const PURGE_CUSTOMER_CARTS = `DELETE FROM carts WHERE id IN (
  SELECT id FROM carts WHERE customer_id IS NOT NULL AND status <> 'checked_out'
    AND updated_at < NOW() - make_interval(days => $1) LIMIT $2)`;
