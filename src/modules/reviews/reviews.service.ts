import type { Database, Queryable } from '../../platform/db/pool.ts';
import { reviewsSql, type ReviewRow as Row } from './reviews.sql.ts';
import { AppError } from '../../platform/errors.ts';
import { isUuid } from '../../platform/ids.ts';
import { pgCode, PG } from '../../platform/db/pg-errors.ts';
import { decodeCursor, isTimeIdCursor, keysetPage } from '../../platform/cursor.ts';

export interface Review {
  id: string;
  productId: string;
  rating: number;
  body: string | null;
  /** The author received the product (a delivered order held it) when they reviewed it. */
  verifiedPurchase: boolean;
  createdAt: string;
}

/** A keyset position in a product's reviews: verified purchases first, then newest first. */
interface ReviewCursor {
  verified: boolean;
  createdAt: string;
  id: string;
}

const isReviewCursor = (v: unknown): v is ReviewCursor =>
  typeof (v as { verified?: unknown } | null)?.verified === 'boolean' && isTimeIdCursor(v);

const toReview = (r: Row): Review => ({
  id: r.id,
  productId: r.product_id,
  rating: r.rating,
  body: r.body,
  verifiedPurchase: r.verified_purchase,
  createdAt: r.created_at.toISOString(),
});

export class ReviewsService {
  constructor(
    private readonly deps: {
      db: Database;
      /** Whether the customer received the product (the orders module knows). */
      hasReceived: (customerId: string, productId: string) => Promise<boolean>;
      /** Whether the product is live (the catalog knows). */
      isLive: (productId: string) => Promise<boolean>;
      onReviewed?: (productId: string) => Promise<void>;
    },
  ) {}

  /**
   * One review per customer per product, on a live product. Anyone logged in may review; a review
   * by a customer who received the product is marked a verified purchase and listed first.
   */
  async create(
    customerId: string,
    productId: string,
    input: { rating: number; body?: string | null },
  ): Promise<Review> {
    if (!isUuid(productId)) throw AppError.notFound('Product', { productId });
    const [live, verified] = await Promise.all([
      this.deps.isLive(productId),
      this.deps.hasReceived(customerId, productId),
    ]);
    if (!live) throw AppError.notFound('Product', { productId });
    try {
      // A product deleted just now keeps the review (the foreign key holds; a restore shows it).
      const row = await reviewsSql.insert(this.deps.db.primary, {
        productId,
        customerId,
        rating: input.rating,
        body: input.body ?? null,
        verified,
      });
      // The product page shows the rating.
      await this.deps.onReviewed?.(productId);
      return toReview(row);
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
    const after = cursor === undefined ? undefined : decodeCursor(cursor, isReviewCursor);
    // Verified purchases first, then newest first: a keyset over (verified DESC, created_at DESC, id
    // DESC), served in order by idx_reviews_product_listing.
    const rows = await reviewsSql.page(this.deps.db.read, productId, after, limit + 1);
    return keysetPage(rows, limit, toReview, (last) => ({
      verified: last.verified_purchase,
      createdAt: last.created_key,
      id: last.id,
    }));
  }

  /** Erasure, in the caller's transaction: the customer's reviews stay, without their author. */
  detachAuthor(tx: Queryable, customerId: string): Promise<number> {
    return reviewsSql.detachAuthor(tx, customerId);
  }

  /** The customer's reviews as their data export shows them. */
  exportOf(customerId: string): Promise<Record<string, unknown>[]> {
    return reviewsSql.exportOf(this.deps.db.primary, customerId);
  }
}
