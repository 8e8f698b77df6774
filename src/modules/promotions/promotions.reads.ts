/**
 * What cart pricing reads and may keep for a few seconds: the automatic promotions, the codes
 * and the products' category paths (see PromotionsService.reads for why that is safe).
 */
import type { Queryable } from '../../platform/db/pool.ts';
import type { PricedPromotion } from './pricing.ts';
import { promotionsSql, type PromotionRow } from './promotions.sql.ts';

/** How long a cart's pricing may use what it read of the promotions (see PromotionsService.reads). */
export const CART_READS_TTL_MS = 5_000;

/** Products whose category paths, and codes, are kept at most each (past it, the kept ones are dropped). */
const MAX_KEPT = 10_000;

type CodeRow = Awaited<ReturnType<typeof promotionsSql.byCode>>;

/** The automatic promotions and products' category paths cart pricing reads, kept {@link CART_READS_TTL_MS}. */
export class PricingReads {
  private auto: { at: number; rows: Promise<PromotionRow[]> } | undefined;
  private readonly paths = new Map<string, { at: number; path: string[] }>();
  private readonly codes = new Map<string, { at: number; row: Promise<CodeRow> }>();

  constructor(private readonly db: () => Queryable) {}

  /**
   * Each product's category with its ancestors: the ones read less than {@link CART_READS_TTL_MS}
   * ago from here, the others through `read` (and kept).
   */
  async categoryPaths(
    productIds: string[],
    read: (ids: string[]) => Promise<Map<string, string[]>>,
  ): Promise<Map<string, string[]>> {
    const now = Date.now();
    const out = new Map<string, string[]>();
    const missing: string[] = [];
    for (const id of productIds) {
      const kept = this.paths.get(id);
      if (kept && now - kept.at <= CART_READS_TTL_MS) out.set(id, kept.path);
      else missing.push(id);
    }
    if (missing.length === 0) return out;
    const fresh = await read(missing);
    if (this.paths.size + missing.length > MAX_KEPT) this.paths.clear();
    for (const id of missing) {
      const path = fresh.get(id) ?? [];
      this.paths.set(id, { at: now, path });
      out.set(id, path);
    }
    return out;
  }

  automatic(): Promise<PromotionRow[]> {
    const now = Date.now();
    if (!this.auto || now - this.auto.at > CART_READS_TTL_MS) {
      const rows = promotionsSql.automatic(this.db());
      this.auto = { at: now, rows };
      rows.catch(() => (this.auto = undefined));
    }
    return this.auto.rows;
  }

  /** A (normalized) code with its promotion: as read here less than {@link CART_READS_TTL_MS} ago, else read now. */
  code(text: string): Promise<CodeRow> {
    const kept = this.codes.get(text);
    return kept && Date.now() - kept.at <= CART_READS_TTL_MS ? kept.row : this.freshCode(text);
  }

  /** A code read now, and kept: applying a code reads it fresh, and its cart is priced with that. */
  freshCode(text: string): Promise<CodeRow> {
    const row = promotionsSql.byCode(this.db(), text);
    if (this.codes.size >= MAX_KEPT) this.codes.clear();
    this.codes.set(text, { at: Date.now(), row });
    row.catch(() => {
      if (this.codes.get(text)?.row === row) this.codes.delete(text);
    });
    return row;
  }

  /** Codes this instance has just redeemed: the next pricing reads them again. */
  forgetCodes(texts: string[]): void {
    for (const text of texts) this.codes.delete(text);
  }

  clear(): void {
    this.auto = undefined;
    this.paths.clear();
    this.codes.clear();
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
