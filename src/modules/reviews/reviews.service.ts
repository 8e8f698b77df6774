import type { Database } from '../../platform/db/pool.ts';
import { AppError } from '../../platform/errors.ts';
import { isUuid } from '../../platform/ids.ts';
import { pgCode, PG } from '../../platform/db/pg-errors.ts';
import { decodeCursor, isTimeIdCursor, keysetPage } from '../../platform/cursor.ts';

export interface Review {
  id: string;
  productId: string;
  rating: number;
  body: string | null;
  createdAt: string;
}

interface Row {
  id: string;
  product_id: string;
  rating: number;
  body: string | null;
  created_at: Date;
  created_key: string;
}

const toReview = (r: Row): Review => ({
  id: r.id,
  productId: r.product_id,
  rating: r.rating,
  body: r.body,
  createdAt: r.created_at.toISOString(),
});

export class ReviewsService {
  constructor(private readonly deps: { db: Database; onReviewed?: (productId: string) => Promise<void> }) {}

  /** One review per customer per product, on a live product. */
  async create(
    customerId: string,
    productId: string,
    input: { rating: number; body?: string | null },
  ): Promise<Review> {
    if (!isUuid(productId)) throw AppError.notFound('Product', { productId });
    try {
      const { rows } = await this.deps.db.primary.query<Row>(
        `INSERT INTO reviews (product_id, customer_id, rating, body)
         SELECT p.id, $2, $3, $4 FROM products p WHERE p.id = $1 AND p.deleted_at IS NULL
         RETURNING id, product_id, rating, body, created_at, created_at::text AS created_key`,
        [productId, customerId, input.rating, input.body ?? null],
      );
      if (!rows[0]) throw AppError.notFound('Product', { productId });
      // The product page shows the rating.
      await this.deps.onReviewed?.(productId);
      return toReview(rows[0]);
    } catch (error) {
      if (pgCode(error) === PG.UNIQUE_VIOLATION)
        throw AppError.conflict('duplicate', 'You have already reviewed this product');
      throw error;
    }
  }

  async list(
    productId: string,
    limit: number,
    cursor?: string,
  ): Promise<{ items: Review[]; nextCursor: string | null }> {
    if (!isUuid(productId)) throw AppError.notFound('Product', { productId });
    const after = cursor === undefined ? undefined : decodeCursor(cursor, isTimeIdCursor);
    const { rows } = await this.deps.db.read.query<Row>(
      `SELECT id, product_id, rating, body, created_at, created_at::text AS created_key FROM reviews
       WHERE product_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid))
       ORDER BY created_at DESC, id DESC LIMIT $4`,
      [productId, after?.createdAt ?? null, after?.id ?? null, limit + 1],
    );
    return keysetPage(rows, limit, toReview, (last) => ({ createdAt: last.created_key, id: last.id }));
  }
}
