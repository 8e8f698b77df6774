/**
 * What cart pricing reads of the promotions and may keep for a few seconds: the automatic
 * promotions (see PromotionsService.reads for why that is safe).
 */
import type { Queryable } from '../../platform/db/pool.ts';
import type { PricedPromotion } from './pricing.ts';
import { promotionsSql, type PromotionRow } from './promotions.sql.ts';

/** How long a cart's pricing may use what it read of the promotions (see PromotionsService.reads). */
export const CART_READS_TTL_MS = 5_000;

/** The automatic promotions cart pricing reads, kept {@link CART_READS_TTL_MS}. */
export class PricingReads {
  private auto: { at: number; rows: Promise<PromotionRow[]> } | undefined;

  constructor(private readonly db: () => Queryable) {}

  automatic(): Promise<PromotionRow[]> {
    const now = Date.now();
    if (!this.auto || now - this.auto.at > CART_READS_TTL_MS) {
      const rows = promotionsSql.automatic(this.db());
      this.auto = { at: now, rows };
      rows.catch(() => (this.auto = undefined));
    }
    return this.auto.rows;
  }

  clear(): void {
    this.auto = undefined;
  }
}

/** A promotion as pricing takes it (with the code it came through, if any). */
export const toPriced = (p: PromotionRow, code?: string): PricedPromotion => ({
  id: p.id,
  name: p.name,
  ...(code ? { code } : {}),
  kind: p.kind,
  value: p.value,
  perLine: p.per_line,
  appliesTo: p.applies_to,
  minSubtotal: p.min_subtotal,
  combinable: p.combinable,
  createdAt: p.created_at.toISOString(),
});
