/**
 * Promotions: what an admin sets up (promotions, shared and single-use codes), what a cart is
 * offered (automatic promotions and the codes applied, checked against their window, limits and
 * the customer's history, then priced by ./pricing.ts), and the redemption written in the order's
 * transaction, exact under contention as stock is (see promotionsSql.takeUse / takeCode).
 */
import { createHash, randomInt } from 'node:crypto';
import { stringify } from 'csv-stringify';
import type { Database, Queryable } from '../../platform/db/pool.ts';
import { pgCode, PG } from '../../platform/db/pg-errors.ts';
import { withTransaction } from '../../platform/db/transaction.ts';
import { decodeCursor, isTimeIdCursor, keysetPage } from '../../platform/cursor.ts';
import { AppError } from '../../platform/errors.ts';
import { isUuid } from '../../platform/ids.ts';
import {
  price,
  type NotApplicableReason,
  type PricedLine,
  type PricedPromotion,
  type Pricing,
} from './pricing.ts';
import { promotionsSql, type PromotionFields, type PromotionRow } from './promotions.sql.ts';
import { PricingReads, toPriced } from './promotions.reads.ts';

export interface Promotion {
  id: string;
  name: string;
  code: string | null;
  automatic: boolean;
  kind: PromotionRow['kind'];
  value: number;
  perLine: boolean;
  appliesTo: PromotionRow['applies_to'];
  minSubtotal: number;
  firstOrderOnly: boolean;
  startsAt: string | null;
  endsAt: string | null;
  usageLimit: number | null;
  usageLimitPerCustomer: number | null;
  combinable: boolean;
  /** Live redemptions (orders that expired unpaid or were cancelled before payment gave theirs back). */
  used: number;
  createdAt: string;
  updatedAt: string;
}

/** What an admin sends: every field optional on update; `code` null removes the shared code. */
export type PromotionInput = Partial<Omit<Promotion, 'id' | 'used' | 'createdAt' | 'updatedAt'>>;

/** A priced cart or order, with the codes that gave a discount (what {@link PromotionsService.redeem} takes). */
export type Quote = Pricing & { codes: { promotionId: string; codeId: string; code: string }[] };

/** Who is buying, for per-customer limits and first-order promotions. */
export interface Buyer {
  customerId?: string | null;
  /** A guest's (or customer's) document and e-mail, when known: guests are counted by them. */
  document?: string | null;
  email?: string | null;
}

/** Letters and digits that cannot be mistaken for one another (no 0/O, 1/I/L). */
export const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
const CODE_RANDOM_LENGTH = 10;
export const MAX_CODES_PER_REQUEST = 100_000;
const CODE_BATCH = 10_000;

const toPromotion = (r: PromotionRow): Promotion => ({
  id: r.id,
  name: r.name,
  code: r.code,
  automatic: r.automatic,
  kind: r.kind,
  value: r.value,
  perLine: r.per_line,
  appliesTo: r.applies_to,
  minSubtotal: r.min_subtotal,
  firstOrderOnly: r.first_order_only,
  startsAt: r.starts_at?.toISOString() ?? null,
  endsAt: r.ends_at?.toISOString() ?? null,
  usageLimit: r.usage_limit,
  usageLimitPerCustomer: r.usage_limit_per_customer,
  combinable: r.combinable,
  used: r.used,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

/** A code as typed, normalised: trimmed, upper-case (lookups ignore case). */
export const normalizeCode = (code: string) => code.trim().toUpperCase();

/**
 * The keys a buyer's uses are counted under: the customer, and the digests of their document and
 * e-mail (so a guest cannot use a once-per-customer code again by checking out as a guest).
 */
export function customerKeys(b: Buyer): string[] {
  const digest = (kind: string, v: string) =>
    `${kind}:${createHash('sha256').update(`${kind}:${v}`).digest('hex')}`;
  const keys = [
    ...(b.customerId ? [`customer:${b.customerId}`] : []),
    ...(b.document ? [digest('document', b.document.replace(/[^0-9A-Za-z]/g, '').toUpperCase())] : []),
    ...(b.email ? [digest('email', b.email.trim().toLowerCase())] : []),
  ];
  return [...new Set(keys)].sort();
}

function fieldsOf(input: PromotionInput, base?: Promotion): PromotionFields {
  const v = { ...base, ...input };
  const fields: PromotionFields = {
    name: v.name ?? '',
    automatic: v.automatic ?? false,
    kind: v.kind ?? 'percentage',
    value: v.kind === 'free_shipping' ? 0 : (v.value ?? 0),
    perLine: v.kind === 'fixed' ? (v.perLine ?? false) : false,
    appliesTo: v.appliesTo ?? null,
    minSubtotal: v.minSubtotal ?? 0,
    firstOrderOnly: v.firstOrderOnly ?? false,
    startsAt: v.startsAt ? new Date(v.startsAt) : null,
    endsAt: v.endsAt ? new Date(v.endsAt) : null,
    usageLimit: v.usageLimit ?? null,
    usageLimitPerCustomer: v.usageLimitPerCustomer ?? null,
    combinable: v.combinable ?? false,
  };
  const bad = (field: string, message: string) => AppError.invalid(message, [{ field, message }]);
  if (!fields.name) throw bad('name', 'required');
  if (fields.kind === 'percentage' && (fields.value < 1 || fields.value > 100))
    throw bad('value', 'a percentage is 1 to 100');
  if (fields.kind === 'fixed' && fields.value < 1)
    throw bad('value', 'a fixed discount is at least 1 centavo');
  if (fields.startsAt && fields.endsAt && fields.startsAt >= fields.endsAt)
    throw bad('endsAt', 'must be after startsAt');
  if (fields.automatic && (v.code ?? null) !== null) throw bad('code', 'an automatic promotion has no code');
  if (fields.usageLimit !== null && base && fields.usageLimit < base.used)
    throw bad('usageLimit', `already used ${base.used} times`);
  return fields;
}

const duplicateCode = () =>
  AppError.conflict('duplicate', 'This code is taken', [
    { field: 'code', message: 'already used by a promotion' },
  ]);

/** The outcome of checking a promotion for a buyer now: undefined when it may be offered. */
type Refusal = {
  code: 'promotion_expired' | 'promotion_exhausted' | 'promotion_not_applicable';
  reason: NotApplicableReason;
};

export class PromotionsService {
  constructor(
    private readonly deps: {
      db: Database;
      /** Each product's category with its ancestors (the catalog knows). */
      categoryPaths: (productIds: string[], db?: Queryable) => Promise<Map<string, string[]>>;
      /** Whether the customer has placed an order before (the orders module knows). */
      hasOrdered: (customerId: string) => Promise<boolean>;
      now?: () => Date;
    },
  ) {}

  /**
   * The automatic promotions, codes and products' category paths, held in process for a few
   * seconds: every cart is priced with them on every read and change. Checkout prices in its
   * transaction, from the database, and redeems exactly; applying a code reads it fresh. A cart may
   * show another instance's change (a promotion edited, a code's last use taken, a product moved)
   * up to CART_READS_TTL_MS (5 s, promotions.reads.ts) late; this instance's changes at once.
   */
  private readonly reads = new PricingReads(() => this.deps.db.primary);

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  // --- Admin ---------------------------------------------------------------------------------

  async create(input: PromotionInput): Promise<Promotion> {
    this.reads.clear();
    const fields = fieldsOf(input);
    const id = await withTransaction(this.deps.db.primary, async (tx) => {
      const id = await promotionsSql.insert(tx, fields);
      if (input.code) await this.setCode(tx, id, input.code);
      return id;
    });
    return this.get(id);
  }

  async update(id: string, input: PromotionInput): Promise<Promotion> {
    this.reads.clear();
    await withTransaction(this.deps.db.primary, async (tx) => {
      const row = isUuid(id) ? await promotionsSql.get(tx, id, true) : undefined;
      if (!row) throw AppError.notFound('Promotion', { promotionId: id });
      try {
        await promotionsSql.update(tx, id, fieldsOf(input, toPromotion(row)));
      } catch (error) {
        if (pgCode(error) === PG.CHECK_VIOLATION)
          throw AppError.invalid('The usage limit is below the uses already made', [
            { field: 'usageLimit', message: 'below the live redemptions' },
          ]);
        throw error;
      }
      if (input.code !== undefined) await this.setCode(tx, id, input.code);
    });
    return this.get(id);
  }

  private async setCode(tx: Queryable, id: string, code: string | null): Promise<void> {
    try {
      await promotionsSql.setSharedCode(tx, id, code === null ? null : normalizeCode(code));
    } catch (error) {
      if (pgCode(error) === PG.UNIQUE_VIOLATION) throw duplicateCode();
      throw error;
    }
  }

  async remove(id: string): Promise<void> {
    this.reads.clear();
    if (!isUuid(id) || !(await promotionsSql.softDelete(this.deps.db.primary, id)))
      throw AppError.notFound('Promotion', { promotionId: id });
  }

  async get(id: string): Promise<Promotion> {
    const row = isUuid(id) ? await promotionsSql.get(this.deps.db.primary, id) : undefined;
    if (!row) throw AppError.notFound('Promotion', { promotionId: id });
    return toPromotion(row);
  }

  async list(limit: number, cursor?: string): Promise<{ items: Promotion[]; nextCursor: string | null }> {
    const after = cursor === undefined ? undefined : decodeCursor(cursor, isTimeIdCursor);
    const rows = await promotionsSql.list(this.deps.db.primary, after, limit + 1);
    return keysetPage(rows, limit, toPromotion, (r) => ({ createdAt: r.created_key, id: r.id }));
  }

  /**
   * Generates `count` unique single-use codes (`PREFIX-XXXXXXXXXX`, from an unambiguous alphabet),
   * inserted in batches; a code that happens to exist already is drawn again. The number written.
   */
  async generateCodes(id: string, { count, prefix }: { count: number; prefix?: string }): Promise<number> {
    await this.get(id);
    const head = prefix ? `${normalizeCode(prefix)}-` : '';
    let written = 0;
    while (written < count) {
      const batch = Math.min(CODE_BATCH, count - written);
      const codes = Array.from({ length: batch }, () => {
        let c = head;
        for (let i = 0; i < CODE_RANDOM_LENGTH; i++) c += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
        return c;
      });
      written += await promotionsSql.insertCodes(this.deps.db.primary, id, codes);
    }
    return written;
  }

  async codes(
    id: string,
    limit: number,
    cursor?: string,
  ): Promise<{
    items: { code: string; redeemed: boolean; orderId: string | null; createdAt: string }[];
    nextCursor: string | null;
  }> {
    await this.get(id);
    const after = cursor === undefined ? undefined : decodeCursor(cursor, isTimeIdCursor);
    const rows = await promotionsSql.codes(this.deps.db.primary, id, after, limit + 1);
    return keysetPage(
      rows,
      limit,
      (r) => ({
        code: r.code,
        redeemed: r.redeemed_order_id !== null,
        orderId: r.redeemed_order_id,
        createdAt: r.created_at.toISOString(),
      }),
      (r) => ({ createdAt: r.created_key, id: r.id }),
    );
  }

  /** Every single-use code of the promotion as CSV (code, redeemed, order_id, created_at), a page at a time. */
  async *exportCodes(id: string): AsyncGenerator<string> {
    await this.get(id);
    const csv = stringify({ header: true, columns: ['code', 'redeemed', 'order_id', 'created_at'] });
    const chunks: string[] = [];
    csv.on('data', (c: Buffer | string) => chunks.push(c.toString()));
    let after: { createdAt: string; id: string } | undefined;
    for (;;) {
      const rows = await promotionsSql.codes(this.deps.db.primary, id, after, 5000);
      for (const r of rows)
        csv.write([
          r.code,
          r.redeemed_order_id !== null,
          r.redeemed_order_id ?? '',
          r.created_at.toISOString(),
        ]);
      // csv-stringify writes synchronously to its readable side: what it made for this page is ready.
      await new Promise<void>((resolve) => setImmediate(resolve));
      yield chunks.splice(0).join('');
      if (rows.length < 5000) break;
      const last = rows[rows.length - 1]!;
      after = { createdAt: last.created_key, id: last.id };
    }
    const ended = new Promise<void>((resolve) => csv.on('end', resolve));
    csv.end();
    csv.resume();
    await ended;
    if (chunks.length) yield chunks.join('');
  }

  async redemptions(
    id: string,
    limit: number,
    cursor?: string,
  ): Promise<{
    items: {
      orderId: string;
      code: string | null;
      customerId: string | null;
      amount: number;
      releasedAt: string | null;
      createdAt: string;
    }[];
    nextCursor: string | null;
  }> {
    await this.get(id);
    const after = cursor === undefined ? undefined : decodeCursor(cursor, isTimeIdCursor);
    const rows = await promotionsSql.redemptions(this.deps.db.primary, id, after, limit + 1);
    return keysetPage(
      rows,
      limit,
      (r) => ({
        orderId: r.order_id,
        code: r.code,
        customerId: r.customer_id,
        amount: r.amount,
        releasedAt: r.released_at?.toISOString() ?? null,
        createdAt: r.created_at.toISOString(),
      }),
      (r) => ({ createdAt: r.created_key, id: r.id }),
    );
  }

  // --- Carts and checkout --------------------------------------------------------------------

  /** Why `p` cannot be used by `buyer` now; undefined: it can. */
  private async refusal(
    db: Queryable,
    p: PromotionRow,
    buyer: Buyer,
    redeemed = false,
  ): Promise<Refusal | undefined> {
    const now = this.now();
    if (p.starts_at && now < p.starts_at) return { code: 'promotion_not_applicable', reason: 'not_started' };
    if (p.ends_at && now >= p.ends_at) return { code: 'promotion_expired', reason: 'ended' };
    if (redeemed || (p.usage_limit !== null && p.used >= p.usage_limit))
      return { code: 'promotion_exhausted', reason: 'usage_limit' };
    if (p.first_order_only) {
      if (!buyer.customerId) return { code: 'promotion_not_applicable', reason: 'first_order_sign_in' };
      if (await this.deps.hasOrdered(buyer.customerId))
        return { code: 'promotion_not_applicable', reason: 'not_first_order' };
    }
    const keys = customerKeys(buyer);
    if (p.usage_limit_per_customer !== null && keys.length > 0)
      if ((await promotionsSql.usedBy(db, p.id, keys)) >= p.usage_limit_per_customer)
        return { code: 'promotion_exhausted', reason: 'customer_limit' };
    return undefined;
  }

  /**
   * The promotion a code names, if `buyer` may use it now: 404 `promotion_not_found`, 409
   * `promotion_expired` / `promotion_exhausted` / `promotion_not_applicable` (with the reason).
   * What the cart's lines make of it is {@link quote}'s.
   */
  async checkCode(code: string, buyer: Buyer): Promise<Promotion> {
    const found = await this.reads.freshCode(normalizeCode(code));
    if (!found) throw new AppError('not_found', 'promotion_not_found', 'No promotion has this code');
    const refused = await this.refusal(
      this.deps.db.primary,
      found.promotion,
      buyer,
      found.singleUse && found.redeemed,
    );
    if (refused) throw refusalError(refused);
    return toPromotion(found.promotion);
  }

  /**
   * Prices lines and freight with the automatic promotions and the codes given: codes that cannot
   * be used now, and promotions whose conditions the lines do not meet, come back in
   * `notApplied` with their reason (a cart keeps its codes and shows why they do nothing).
   */
  async quote(
    input: {
      lines: Omit<PricedLine, 'categoryIds'>[];
      shipping: number;
      codes: string[];
      buyer: Buyer;
    },
    /** The checkout's transaction (the order is priced on what it reads); default: the pool. */
    db: Queryable = this.deps.db.primary,
  ): Promise<Quote> {
    const offered: PricedPromotion[] = [];
    const refused: Pricing['notApplied'] = [];
    const used: { promotionId: string; codeId: string; code: string }[] = [];
    const consider = async (p: PromotionRow, code?: { id: string; text: string; redeemed: boolean }) => {
      const why = await this.refusal(db, p, input.buyer, code?.redeemed ?? false);
      if (why) {
        refused.push({ promotionId: p.id, ...(code ? { code: code.text } : {}), reason: why.reason });
        return;
      }
      if (code) used.push({ promotionId: p.id, codeId: code.id, code: code.text });
      offered.push(toPriced(p, code?.text));
    };
    const pool = db === this.deps.db.primary;
    const automatic = pool ? await this.reads.automatic() : await promotionsSql.automatic(db);
    const texts = [...new Set(input.codes.map(normalizeCode))];
    // Categories only if something could be on offer; beside the codes, but in turn in a transaction.
    const products = [...new Set(input.lines.map((l) => l.productId))];
    const needed = automatic.length > 0 || texts.length > 0;
    const categories =
      pool && needed
        ? this.reads.categoryPaths(products, (ids) => this.deps.categoryPaths(ids, db))
        : undefined;
    categories?.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
    const codes = [];
    if (pool) codes.push(...(await Promise.all(texts.map((text) => this.reads.code(text)))));
    else for (const text of texts) codes.push(await promotionsSql.byCode(db, text));
    for (const p of automatic) await consider(p);
    for (const [i, text] of texts.entries()) {
      const found = codes[i];
      if (!found) refused.push({ promotionId: null, code: text, reason: 'not_found' });
      else if (!offered.some((o) => o.id === found.promotion.id))
        await consider(found.promotion, {
          id: found.codeId,
          text,
          redeemed: found.singleUse && found.redeemed,
        });
    }
    const paths =
      (await categories) ??
      (needed && offered.length ? await this.deps.categoryPaths(products, db) : new Map<string, string[]>());
    const lines = input.lines.map((l) => ({ ...l, categoryIds: paths.get(l.productId) ?? [] }));
    const pricing = price(lines, input.shipping, offered);
    const appliedIds = new Set(pricing.discounts.map((d) => d.promotionId));
    return {
      ...pricing,
      notApplied: [...refused, ...pricing.notApplied],
      codes: used.filter((c) => appliedIds.has(c.promotionId)),
    };
  }

  /**
   * Writes the redemptions of a priced order inside its transaction, exactly: each promotion's use
   * taken by a guarded UPDATE (its row lock counts racing checkouts one at a time), a single-use
   * code taken the same way, a per-customer limit counted under a lock on the buyer's keys. Throws
   * 409 `promotion_exhausted` when any is gone; the caller's transaction then rolls back with the
   * stock it reserved. Promotions are taken in id order, so two orders never wait on each other
   * in opposite orders.
   */
  async redeem(tx: Queryable, order: { orderId: string; buyer: Buyer; pricing: Quote }): Promise<void> {
    const keys = customerKeys(order.buyer);
    const amounts = [...order.pricing.discounts].sort((a, b) => a.promotionId.localeCompare(b.promotionId));
    for (const d of amounts) {
      const code = order.pricing.codes.find((c) => c.promotionId === d.promotionId);
      if (!(await promotionsSql.takeUse(tx, d.promotionId))) throw exhausted('usage_limit');
      if (code && !(await promotionsSql.takeCode(tx, code.codeId, order.orderId))) {
        // A shared code has nothing to take; a single-use one must still be free.
        const found = await promotionsSql.byCode(tx, code.code);
        if (!found || found.singleUse) throw exhausted('usage_limit');
      }
      const p = await promotionsSql.get(tx, d.promotionId);
      if (p?.usage_limit_per_customer != null && keys.length > 0) {
        await promotionsSql.lockCustomerUses(tx, d.promotionId, keys);
        if ((await promotionsSql.usedBy(tx, d.promotionId, keys)) >= p.usage_limit_per_customer)
          throw exhausted('customer_limit');
      }
      await promotionsSql.insertRedemption(tx, {
        promotionId: d.promotionId,
        codeId: code?.codeId ?? null,
        orderId: order.orderId,
        customerKeys: keys,
        amount: d.amount,
      });
    }
    this.reads.forgetCodes(order.pricing.codes.map((c) => c.code));
  }

  /** Gives an order's redemptions back (it expired unpaid or was cancelled before payment). */
  release(tx: Queryable, orderId: string): Promise<number> {
    this.reads.clear(); // what it gives back is read again here (other instances: within 5 s)
    return promotionsSql.release(tx, orderId);
  }
}

const MESSAGES: Record<Refusal['code'], string> = {
  promotion_expired: 'This promotion has ended',
  promotion_exhausted: 'This promotion has been used as many times as it allows',
  promotion_not_applicable: 'This promotion does not apply',
};

const refusalError = (r: Refusal) => AppError.conflict(r.code, MESSAGES[r.code], { reason: r.reason });
const exhausted = (reason: NotApplicableReason) => refusalError({ code: 'promotion_exhausted', reason });
