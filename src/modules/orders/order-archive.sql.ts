/**
 * The SQL of archival on the orders' side: the final orders read with everything archival keeps,
 * deleted once archived (unless they changed meanwhile), and put back by a restore.
 */
import type { Queryable } from '../../platform/db/pool.ts';
import type { ArchivableOrder as ArchivableRow } from './orders.model.ts';

export const orderArchiveSql = {
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
};
