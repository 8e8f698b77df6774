import type { Database } from '../../platform/db/pool.ts';
import { defineJob, type Job } from '../../platform/jobs/job.ts';
import { decodeCursor, keysetPage } from '../../platform/cursor.ts';
import { isUuid } from '../../platform/ids.ts';

export interface ProductStat {
  productId: string;
  name: string;
  totalOrders: number;
  totalSold: number;
  avgRating: number | null;
  reviewCount: number;
  popularityScore: number;
}

interface Row {
  product_id: string;
  name: string;
  total_orders: number;
  total_sold: number;
  avg_rating: number | null;
  review_count: number;
  popularity_score: number;
}

export class StatsService {
  constructor(private readonly deps: { db: Database }) {}

  /**
   * Recomputes product_stats without blocking readers (the view has a unique index), through the
   * view owner's function: the app's database role is not the owner (src/platform/db/roles.ts).
   */
  async refresh(): Promise<{ refreshedAt: string; durationMs: number }> {
    const started = performance.now();
    await this.deps.db.primary.query('SELECT refresh_product_stats()');
    return { refreshedAt: new Date().toISOString(), durationMs: Math.round(performance.now() - started) };
  }

  /** Best sellers first; keyset on (total_sold DESC, product_id). */
  async list(limit: number, cursor?: string): Promise<{ items: ProductStat[]; nextCursor: string | null }> {
    const after = cursor === undefined ? undefined : decodeCursor(cursor, isStatsCursor);
    const { rows } = await this.deps.db.read.query<Row>(
      `SELECT product_id, name, total_orders, total_sold, avg_rating, review_count, popularity_score
       FROM product_stats
       WHERE $1::int IS NULL OR (total_sold < $1::int OR (total_sold = $1::int AND product_id > $2::uuid))
       ORDER BY total_sold DESC, product_id
       LIMIT $3`,
      [after?.sold ?? null, after?.productId ?? null, limit + 1],
    );
    return keysetPage(
      rows,
      limit,
      (r) => ({
        productId: r.product_id,
        name: r.name,
        totalOrders: r.total_orders,
        totalSold: r.total_sold,
        avgRating: r.avg_rating,
        reviewCount: r.review_count,
        popularityScore: r.popularity_score,
      }),
      (last) => ({ sold: last.total_sold, productId: last.product_id }),
    );
  }

  /** Popularity scores of these products (absent: never ordered nor reviewed). */
  async popularityOf(productIds: string[]): Promise<Map<string, number>> {
    const { rows } = await this.deps.db.primary.query<{ product_id: string; popularity_score: number }>(
      'SELECT product_id, popularity_score FROM product_stats WHERE product_id = ANY($1::uuid[])',
      [productIds],
    );
    return new Map(rows.map((r) => [r.product_id, r.popularity_score]));
  }

  /** Popularity scores after `after` in product id order, `limit` at a time. */
  async popularityAfter(
    after: string | null,
    limit: number,
  ): Promise<{ productId: string; popularity: number }[]> {
    const { rows } = await this.deps.db.primary.query<{ product_id: string; popularity_score: number }>(
      `SELECT product_id, popularity_score FROM product_stats
        WHERE $1::uuid IS NULL OR product_id > $1::uuid ORDER BY product_id LIMIT $2`,
      [after, limit],
    );
    return rows.map((r) => ({ productId: r.product_id, popularity: r.popularity_score }));
  }

  refreshJob(): Job {
    return defineJob({
      name: 'refresh-product-stats',
      description: 'Refreshes the product_stats view (concurrently: reads go on meanwhile)',
      run: () => this.refresh(),
    });
  }
}

function isStatsCursor(v: unknown): v is { sold: number; productId: string } {
  const o = v as { sold?: unknown; productId?: unknown } | null;
  return Number.isInteger(o?.sold) && typeof o?.productId === 'string' && isUuid(o.productId);
}
