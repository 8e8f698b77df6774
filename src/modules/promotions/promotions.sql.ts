/** The SQL of promotions: promotions, promotion_codes, promotion_redemptions. */
import type { Queryable } from '../../platform/db/pool.ts';

export interface PromotionRow {
  id: string;
  name: string;
  automatic: boolean;
  kind: 'percentage' | 'fixed' | 'free_shipping';
  value: number;
  per_line: boolean;
  applies_to: { productIds?: string[]; categoryIds?: string[]; variantIds?: string[] } | null;
  min_subtotal: number;
  first_order_only: boolean;
  starts_at: Date | null;
  ends_at: Date | null;
  usage_limit: number | null;
  usage_limit_per_customer: number | null;
  combinable: boolean;
  used: number;
  created_at: Date;
  updated_at: Date;
  created_key: string;
  /** The shared code, if the promotion has one. */
  code: string | null;
}

/** What an admin sets; every field of a promotion but its counters. */
export interface PromotionFields {
  name: string;
  automatic: boolean;
  kind: PromotionRow['kind'];
  value: number;
  perLine: boolean;
  appliesTo: PromotionRow['applies_to'];
  minSubtotal: number;
  firstOrderOnly: boolean;
  startsAt: Date | null;
  endsAt: Date | null;
  usageLimit: number | null;
  usageLimitPerCustomer: number | null;
  combinable: boolean;
}

const COLUMNS = `p.id, p.name, p.automatic, p.kind, p.value, p.per_line, p.applies_to, p.min_subtotal,
  p.first_order_only, p.starts_at, p.ends_at, p.usage_limit, p.usage_limit_per_customer, p.combinable,
  p.used, p.created_at, p.updated_at, p.created_at::text AS created_key,
  (SELECT c.code FROM promotion_codes c WHERE c.promotion_id = p.id AND NOT c.single_use LIMIT 1) AS code`;

const fieldValues = (f: PromotionFields) => [
  f.name,
  f.automatic,
  f.kind,
  f.value,
  f.perLine,
  f.appliesTo === null ? null : JSON.stringify(f.appliesTo),
  f.minSubtotal,
  f.firstOrderOnly,
  f.startsAt,
  f.endsAt,
  f.usageLimit,
  f.usageLimitPerCustomer,
  f.combinable,
];

export interface CodeRow {
  code: string;
  single_use: boolean;
  redeemed_order_id: string | null;
  created_at: Date;
  created_key: string;
  id: string;
}

export interface RedemptionRow {
  id: string;
  order_id: string;
  code: string | null;
  /** The customer's id from its `customer:` key; null for a guest (counted by digests only). */
  customer_id: string | null;
  amount: number;
  released_at: Date | null;
  created_at: Date;
  created_key: string;
}

export const promotionsSql = {
  async insert(db: Queryable, f: PromotionFields): Promise<string> {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO promotions (name, automatic, kind, value, per_line, applies_to, min_subtotal, first_order_only,
                               starts_at, ends_at, usage_limit, usage_limit_per_customer, combinable)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
      fieldValues(f),
    );
    return rows[0]!.id;
  },

  /**
   * Replaces every field of a live promotion (locked by the caller); false when there is none. A
   * limit set where there was none starts from the live redemptions: while unlimited, `used` is not
   * kept (see takeUse), and the caller's row lock has waited for every checkout redeeming it.
   */
  async update(db: Queryable, id: string, f: PromotionFields): Promise<boolean> {
    const { rowCount } = await db.query(
      `UPDATE promotions SET name = $2, automatic = $3, kind = $4, value = $5, per_line = $6, applies_to = $7::jsonb,
              min_subtotal = $8, first_order_only = $9, starts_at = $10, ends_at = $11, usage_limit = $12,
              usage_limit_per_customer = $13, combinable = $14,
              used = CASE WHEN $12::int IS NOT NULL AND usage_limit IS NULL
                          THEN (SELECT COUNT(*) FROM promotion_redemptions r
                                WHERE r.promotion_id = $1 AND r.released_at IS NULL)
                          ELSE used END
       WHERE id = $1 AND deleted_at IS NULL`,
      [id, ...fieldValues(f)],
    );
    return rowCount === 1;
  },

  async softDelete(db: Queryable, id: string): Promise<boolean> {
    const { rowCount } = await db.query(
      'UPDATE promotions SET deleted_at = NOW() WHERE id = $1 AND deleted_at IS NULL',
      [id],
    );
    return rowCount === 1;
  },

  async get(db: Queryable, id: string, forUpdate = false): Promise<PromotionRow | undefined> {
    const { rows } = await db.query<PromotionRow>(
      `SELECT ${COLUMNS} FROM promotions p WHERE p.id = $1 AND p.deleted_at IS NULL${forUpdate ? ' FOR UPDATE' : ''}`,
      [id],
    );
    return rows[0];
  },

  /** Live promotions, newest first, a keyset page on (created_at, id). */
  async list(
    db: Queryable,
    after: { createdAt: string; id: string } | undefined,
    limit: number,
  ): Promise<PromotionRow[]> {
    const { rows } = await db.query<PromotionRow>(
      `SELECT ${COLUMNS} FROM promotions p
       WHERE p.deleted_at IS NULL AND ($1::timestamptz IS NULL OR (p.created_at, p.id) < ($1::timestamptz, $2::uuid))
       ORDER BY p.created_at DESC, p.id DESC LIMIT $3`,
      [after?.createdAt ?? null, after?.id ?? null, limit],
    );
    return rows;
  },

  /** The live automatic promotions (a handful; idx_promotions_automatic). */
  async automatic(db: Queryable): Promise<PromotionRow[]> {
    const { rows } = await db.query<PromotionRow>(
      `SELECT ${COLUMNS} FROM promotions p WHERE p.automatic AND p.deleted_at IS NULL ORDER BY p.created_at, p.id`,
    );
    return rows;
  },

  /** A live promotion by one of its codes (upper-cased by the caller), with that code's row. */
  async byCode(
    db: Queryable,
    code: string,
  ): Promise<{ promotion: PromotionRow; codeId: string; singleUse: boolean; redeemed: boolean } | undefined> {
    const { rows } = await db.query<
      PromotionRow & { code_id: string; single_use: boolean; redeemed: boolean }
    >(
      `SELECT ${COLUMNS}, c.id AS code_id, c.single_use, c.redeemed_order_id IS NOT NULL AS redeemed
       FROM promotion_codes c JOIN promotions p ON p.id = c.promotion_id
       WHERE c.code = $1 AND p.deleted_at IS NULL`,
      [code],
    );
    const r = rows[0];
    if (!r) return undefined;
    // The code the shopper typed is the one they see, shared or single-use.
    return { promotion: { ...r, code }, codeId: r.code_id, singleUse: r.single_use, redeemed: r.redeemed };
  },

  /** Sets (or, with null, removes) a promotion's shared code; a code taken by any promotion is a unique violation. */
  async setSharedCode(db: Queryable, promotionId: string, code: string | null): Promise<void> {
    await db.query('DELETE FROM promotion_codes WHERE promotion_id = $1 AND NOT single_use', [promotionId]);
    if (code !== null)
      await db.query('INSERT INTO promotion_codes (promotion_id, code, single_use) VALUES ($1, $2, false)', [
        promotionId,
        code,
      ]);
  },

  /** Inserts single-use codes, skipping any already taken; the codes written. */
  async insertCodes(db: Queryable, promotionId: string, codes: string[]): Promise<number> {
    const { rowCount } = await db.query(
      `INSERT INTO promotion_codes (promotion_id, code, single_use)
       SELECT $1, c, true FROM unnest($2::text[]) AS c
       ON CONFLICT (code) DO NOTHING`,
      [promotionId, codes],
    );
    return rowCount ?? 0;
  },

  /** A promotion's single-use codes, oldest first, a keyset page on (created_at, id). */
  async codes(
    db: Queryable,
    promotionId: string,
    after: { createdAt: string; id: string } | undefined,
    limit: number,
  ): Promise<CodeRow[]> {
    const { rows } = await db.query<CodeRow>(
      `SELECT id, code, single_use, redeemed_order_id, created_at, created_at::text AS created_key
       FROM promotion_codes
       WHERE promotion_id = $1 AND single_use
         AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::uuid))
       ORDER BY created_at, id LIMIT $4`,
      [promotionId, after?.createdAt ?? null, after?.id ?? null, limit],
    );
    return rows;
  },

  /** Live redemptions of the promotion by any of these customer keys. */
  async usedBy(db: Queryable, promotionId: string, keys: string[]): Promise<number> {
    const { rows } = await db.query<{ n: number }>(
      `SELECT COUNT(*)::int AS n FROM promotion_redemptions
       WHERE customer_keys && $2::text[] AND released_at IS NULL AND promotion_id = $1`,
      [promotionId, keys],
    );
    return rows[0]!.n;
  },

  /**
   * Locks the promotion's uses by these customer keys for the rest of the transaction (sorted by
   * the caller, so two checkouts sharing keys take them in one order): a per-customer limit is then
   * counted one checkout at a time.
   */
  async lockCustomerUses(db: Queryable, promotionId: string, keys: string[]): Promise<void> {
    await db.query(
      `SELECT pg_advisory_xact_lock(hashtextextended('promotion-use:' || $1 || ':' || k, 0))
       FROM unnest($2::text[]) WITH ORDINALITY AS t(k, n) ORDER BY n`,
      [promotionId, keys],
    );
  },

  /**
   * One more use of the promotion, if its limit allows. With a limit, the guarded UPDATE takes the
   * promotion's row lock, so concurrent redemptions are counted one at a time and `used` never
   * passes `usage_limit` (the CHECK would refuse it too). Without one, nothing is counted and the
   * row is only share-locked: checkouts using an unlimited promotion (a storewide sale) never wait
   * for each other, only for an admin changing it. False: exhausted, or no such live promotion.
   */
  async takeUse(db: Queryable, promotionId: string): Promise<boolean> {
    // The guarded UPDATE first: a share lock taken before it would have to be upgraded, and two
    // checkouts upgrading the same row deadlock.
    const { rowCount } = await db.query(
      `UPDATE promotions SET used = used + 1
       WHERE id = $1 AND deleted_at IS NULL AND usage_limit IS NOT NULL AND used < usage_limit`,
      [promotionId],
    );
    if (rowCount === 1) return true;
    const { rows } = await db.query<{ unlimited: boolean }>(
      'SELECT usage_limit IS NULL AS unlimited FROM promotions WHERE id = $1 AND deleted_at IS NULL FOR SHARE',
      [promotionId],
    );
    return rows[0]?.unlimited ?? false;
  },

  /** Takes a free single-use code for the order (a guarded UPDATE: one order at most). */
  async takeCode(db: Queryable, codeId: string, orderId: string): Promise<boolean> {
    const { rowCount } = await db.query(
      'UPDATE promotion_codes SET redeemed_order_id = $2 WHERE id = $1 AND single_use AND redeemed_order_id IS NULL',
      [codeId, orderId],
    );
    return rowCount === 1;
  },

  async insertRedemption(
    db: Queryable,
    r: {
      promotionId: string;
      codeId: string | null;
      orderId: string;
      customerKeys: string[];
      amount: number;
    },
  ): Promise<void> {
    await db.query(
      `INSERT INTO promotion_redemptions (promotion_id, code_id, order_id, customer_keys, amount)
       VALUES ($1, $2, $3, $4::text[], $5)`,
      [r.promotionId, r.codeId, r.orderId, r.customerKeys, r.amount],
    );
  },

  /**
   * Gives back an order's live redemptions: each released, its promotion's use returned, its
   * single-use code freed. The number released.
   */
  async release(db: Queryable, orderId: string): Promise<number> {
    const { rows } = await db.query<{ n: number }>(
      `WITH r AS (
         UPDATE promotion_redemptions SET released_at = NOW()
         WHERE order_id = $1 AND released_at IS NULL
         RETURNING promotion_id, code_id
       ), p AS (
         UPDATE promotions p SET used = p.used - 1 FROM r
         WHERE p.id = r.promotion_id AND p.usage_limit IS NOT NULL AND p.used > 0 RETURNING 1
       ), c AS (
         UPDATE promotion_codes c SET redeemed_order_id = NULL FROM r
         WHERE c.id = r.code_id AND c.redeemed_order_id = $1 RETURNING 1
       )
       SELECT COUNT(*)::int AS n FROM r`,
      [orderId],
    );
    return rows[0]!.n;
  },

  /** A promotion's redemptions, newest first, a keyset page on (created_at, id). */
  async redemptions(
    db: Queryable,
    promotionId: string,
    after: { createdAt: string; id: string } | undefined,
    limit: number,
  ): Promise<RedemptionRow[]> {
    const { rows } = await db.query<RedemptionRow>(
      `SELECT r.id, r.order_id, c.code, r.amount, r.released_at, r.created_at, r.created_at::text AS created_key,
              (SELECT substr(k, 10) FROM unnest(r.customer_keys) k WHERE k LIKE 'customer:%' LIMIT 1) AS customer_id
       FROM promotion_redemptions r LEFT JOIN promotion_codes c ON c.id = r.code_id
       WHERE r.promotion_id = $1 AND ($2::timestamptz IS NULL OR (r.created_at, r.id) < ($2::timestamptz, $3::uuid))
       ORDER BY r.created_at DESC, r.id DESC LIMIT $4`,
      [promotionId, after?.createdAt ?? null, after?.id ?? null, limit],
    );
    return rows;
  },
};
