/** The stats module's SQL: the product_stats materialized view (defined in the migrations). */
import type { Queryable } from '../../platform/db/pool.ts';

export interface Row {
  product_id: string;
  name: string;
  total_orders: number;
  total_sold: number;
  avg_rating: number | null;
  review_count: number;
  popularity_score: number;
}

type Popularity = { product_id: string; popularity_score: number };

export const statsSql = {
  /**
   * Recomputes the view without blocking readers (it has a unique index), through the view
   * owner's function: the app's database role is not the owner (src/platform/db/roles.ts).
   */
  async refresh(db: Queryable): Promise<void> {
    await db.query('SELECT refresh_product_stats()');
  },

  /** Best sellers first; keyset on (total_sold DESC, product_id), after `after` when given. */
  async bestSellers(
    db: Queryable,
    after: { sold: number; productId: string } | undefined,
    limit: number,
  ): Promise<Row[]> {
    const { rows } = await db.query<Row>(
      `SELECT product_id, name, total_orders, total_sold, avg_rating, review_count, popularity_score
       FROM product_stats
       WHERE $1::int IS NULL OR (total_sold < $1::int OR (total_sold = $1::int AND product_id > $2::uuid))
       ORDER BY total_sold DESC, product_id
       LIMIT $3`,
      [after?.sold ?? null, after?.productId ?? null, limit],
    );
    return rows;
  },

  async popularityOf(db: Queryable, productIds: string[]): Promise<Popularity[]> {
    const { rows } = await db.query<Popularity>(
      'SELECT product_id, popularity_score FROM product_stats WHERE product_id = ANY($1::uuid[])',
      [productIds],
    );
    return rows;
  },

  async popularityAfter(db: Queryable, after: string | null, limit: number): Promise<Popularity[]> {
    const { rows } = await db.query<Popularity>(
      `SELECT product_id, popularity_score FROM product_stats
        WHERE $1::uuid IS NULL OR product_id > $1::uuid ORDER BY product_id LIMIT $2`,
      [after, limit],
    );
    return rows;
  },
};
