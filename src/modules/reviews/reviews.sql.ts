/** The SQL of reviews: the module's only table, `reviews`. */
import type { Queryable } from '../../platform/db/pool.ts';

export interface ReviewRow {
  id: string;
  product_id: string;
  rating: number;
  body: string | null;
  verified_purchase: boolean;
  created_at: Date;
  created_key: string;
}

const COLUMNS =
  'id, product_id, rating, body, verified_purchase, created_at, created_at::text AS created_key';

export const reviewsSql = {
  /** One review; a second by the same customer for the same product is a unique violation. */
  async insert(
    db: Queryable,
    r: { productId: string; customerId: string; rating: number; body: string | null; verified: boolean },
  ): Promise<ReviewRow> {
    const { rows } = await db.query<ReviewRow>(
      `INSERT INTO reviews (product_id, customer_id, rating, body, verified_purchase)
       VALUES ($1, $2, $3, $4, $5)
       RETURNING ${COLUMNS}`,
      [r.productId, r.customerId, r.rating, r.body, r.verified],
    );
    return rows[0]!;
  },

  /**
   * Up to `limit` of a product's reviews after `after`: verified purchases first, then newest
   * first, a keyset over (verified DESC, created_at DESC, id DESC) served in order by
   * idx_reviews_product_listing.
   */
  async page(
    db: Queryable,
    productId: string,
    after: { verified: boolean; createdAt: string; id: string } | undefined,
    limit: number,
  ): Promise<ReviewRow[]> {
    const { rows } = await db.query<ReviewRow>(
      `SELECT ${COLUMNS} FROM reviews
       WHERE product_id = $1
         AND ($2::boolean IS NULL OR (verified_purchase, created_at, id) < ($2::boolean, $3::timestamptz, $4::uuid))
       ORDER BY verified_purchase DESC, created_at DESC, id DESC LIMIT $5`,
      [productId, after?.verified ?? null, after?.createdAt ?? null, after?.id ?? null, limit],
    );
    return rows;
  },

  /** Erasure: the customer's reviews stay, without their author. */
  async detachAuthor(db: Queryable, customerId: string): Promise<number> {
    const { rowCount } = await db.query('UPDATE reviews SET customer_id = NULL WHERE customer_id = $1', [
      customerId,
    ]);
    return rowCount ?? 0;
  },

  /** The customer's reviews as their data export shows them. */
  async exportOf(db: Queryable, customerId: string): Promise<Record<string, unknown>[]> {
    const { rows } = await db.query<{ r: Record<string, unknown> }>(
      `SELECT jsonb_build_object('id', id, 'productId', product_id, 'rating', rating, 'body', body,
                'createdAt', created_at) AS r
       FROM reviews WHERE customer_id = $1 ORDER BY created_at, id`,
      [customerId],
    );
    return rows.map((x) => x.r);
  },
};
