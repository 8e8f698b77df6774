import type { Database } from '../../platform/db/pool.ts';
import { defineJob, type Job } from '../../platform/jobs/job.ts';
import { decodeCursor, keysetPage } from '../../platform/cursor.ts';
import { isUuid } from '../../platform/ids.ts';
import { statsSql } from './stats.sql.ts';

export interface ProductStat {
  productId: string;
  name: string;
  totalOrders: number;
  totalSold: number;
  avgRating: number | null;
  reviewCount: number;
  popularityScore: number;
}

export class StatsService {
  constructor(private readonly deps: { db: Database }) {}

  /** Recomputes product_stats without blocking readers (the view has a unique index). */
  async refresh(): Promise<{ refreshedAt: string; durationMs: number }> {
    const started = performance.now();
    await statsSql.refresh(this.deps.db.primary);
    return { refreshedAt: new Date().toISOString(), durationMs: Math.round(performance.now() - started) };
  }

  /** Best sellers first; keyset on (total_sold DESC, product_id). */
  async list(limit: number, cursor?: string): Promise<{ items: ProductStat[]; nextCursor: string | null }> {
    const after = cursor === undefined ? undefined : decodeCursor(cursor, isStatsCursor);
    const rows = await statsSql.bestSellers(this.deps.db.read, after, limit + 1);
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
    const rows = await statsSql.popularityOf(this.deps.db.primary, productIds);
    return new Map(rows.map((r) => [r.product_id, r.popularity_score]));
  }

  /** Popularity scores after `after` in product id order, `limit` at a time. */
  async popularityAfter(
    after: string | null,
    limit: number,
  ): Promise<{ productId: string; popularity: number }[]> {
    const rows = await statsSql.popularityAfter(this.deps.db.primary, after, limit);
    return rows.map((r) => ({ productId: r.product_id, popularity: r.popularity_score }));
  }

  refreshJob(): Job {
    return defineJob({
      name: 'refresh-product-stats',
      schedule: '*/5 * * * *',
      description: 'Refreshes the product_stats view (concurrently: reads go on meanwhile)',
      run: () => this.refresh(),
    });
  }
}

function isStatsCursor(v: unknown): v is { sold: number; productId: string } {
  const o = v as { sold?: unknown; productId?: unknown } | null;
  return Number.isInteger(o?.sold) && typeof o?.productId === 'string' && isUuid(o.productId);
}
