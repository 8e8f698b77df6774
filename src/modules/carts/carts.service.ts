import type { Database, Queryable } from '../../platform/db/pool.ts';
import { withTransaction, type Tx } from '../../platform/db/transaction.ts';
import { AppError } from '../../platform/errors.ts';
import { isUuid } from '../../platform/ids.ts';
import type { OrderLineInput, Owner } from '../orders/orders.service.ts';
import { MAX_CART_CODES, type CartBuyer, type CartDiscount, type CartPricer } from './carts.pricing.ts';
import {
  cartsSql,
  MAX_CART_LINES,
  PURGE_CUSTOMER_CARTS,
  PURGE_GUEST_CARTS,
  type CartLineRow,
  type CartRow,
  type Touched,
} from './carts.sql.ts';
import { defineJob, type Job } from '../../platform/jobs/job.ts';
import { deleteInBatches } from '../../platform/jobs/batches.ts';

/** The caller as carts see it: a session, maybe logged in as a customer. */
export interface CartCaller {
  sessionId: string;
  customerId: string | null;
}

export interface CartLine {
  id: string;
  productId: string;
  variantId: string;
  sku: string | null;
  options: Record<string, string>;
  name: string;
  quantity: number;
  unitPrice: number;
  lineTotal: number;
  customization: unknown;
  /** False when the product was withdrawn or the stock no longer covers the line. */
  available: boolean;
  /** The line's share of the cart's item discounts, to the centavo. */
  discountAmount: number;
}

export type { CartBuyer, CartDiscount, CartPricer, CartPricing } from './carts.pricing.ts';

/**
 * What a cart keeps for its delivery, as set by the checkout module (snapshots; the carts module
 * stores them and adds the chosen freight to the totals, nothing more).
 */
export interface CartDelivery {
  shippingAddress: Record<string, unknown> | null;
  buyer: Record<string, unknown> | null;
  /** The chosen freight option: at least its `price` (centavos). */
  shippingMethod: ({ price: number } & Record<string, unknown>) | null;
}

export interface Cart extends CartDelivery {
  id: string;
  status: CartRow['status'];
  currency: string;
  items: CartLine[];
  itemCount: number;
  /** The goods (live lines at their current prices): `totals.subtotal`. */
  totalAmount: number;
  /** `discount`: the item discounts; `shipping`: the freight charged (after free shipping). */
  totals: { subtotal: number; discount: number; shipping: number; total: number };
  /** The codes applied, and every promotion on the cart with what it takes off. */
  promotionCodes: string[];
  discounts: CartDiscount[];
  /** Codes applied (or automatic promotions) that give nothing now, with the reason. */
  promotionNotices: { code?: string; promotionId: string | null; reason: string }[];
  orderId: string | null;
  expiresAt: string;
  createdAt: string;
  updatedAt: string;
}

const toLine = (r: CartLineRow): CartLine => ({
  id: r.id,
  productId: r.product_id,
  variantId: r.variant_id,
  sku: r.sku,
  options: r.options ?? {},
  name: r.name,
  quantity: r.quantity,
  unitPrice: r.base_price,
  lineTotal: r.base_price * r.quantity,
  customization: r.customization ?? null,
  available: !r.deleted && (r.available_quantity ?? 0) >= r.quantity,
  discountAmount: 0,
});

const deliveryOf = (c: CartRow): CartDelivery => ({
  shippingAddress: c.shipping_address,
  buyer: c.buyer,
  shippingMethod: c.shipping_method as CartDelivery['shippingMethod'],
});

function toCart(c: CartRow, rows: CartLineRow[]): Cart {
  const items = rows.map(toLine);
  const live = items.filter((_, i) => !rows[i]!.deleted);
  const subtotal = live.reduce((n, l) => n + l.lineTotal, 0);
  const delivery = deliveryOf(c);
  const shipping = delivery.shippingMethod?.price ?? 0;
  return {
    id: c.id,
    status: c.status,
    currency: c.currency,
    items,
    itemCount: live.reduce((n, l) => n + l.quantity, 0),
    totalAmount: subtotal,
    totals: { subtotal, discount: 0, shipping, total: subtotal + shipping },
    promotionCodes: c.promotion_codes ?? [],
    discounts: [],
    promotionNotices: [],
    ...delivery,
    orderId: c.order_id,
    expiresAt: c.expires_at.toISOString(),
    createdAt: c.created_at.toISOString(),
    updatedAt: c.updated_at.toISOString(),
  };
}

export class CartsService {
  constructor(
    private readonly deps: {
      db: Database;
      /** A guest cart lives this long after its last change; then the purge job deletes it. */
      guestCartDays: number;
      /** A customer's cart (not checked out) untouched this long is deleted by its purge job. */
      customerCartDays: number;
      /** Active carts one owner may hold. */
      perOwner: number;
      /** Prices carts with their promotions; without one, carts carry no discounts. */
      pricer?: CartPricer;
    },
  ) {}

  /** Who buys the cart, as promotions count them: its customer, and the buyer it was given. */
  static buyerOf(cart: Pick<Cart, 'buyer'>, customerId: string | null): CartBuyer {
    const b = cart.buyer as { email?: string; document?: string | { number?: string } | null } | null;
    const document = typeof b?.document === 'string' ? b.document : (b?.document?.number ?? null);
    return { customerId, document, email: b?.email ?? null };
  }

  /**
   * The cart with its promotions priced on its live lines (after any transaction: pricing reads
   * through the pool). Codes that give nothing stay on the cart, shown with their reason.
   */
  private async priced(cart: Cart, rows: CartLineRow[], customerId: string | null): Promise<Cart> {
    const withdrawn = new Set(rows.filter((r) => r.deleted).map((r) => r.id));
    const live = cart.items.filter((l) => !withdrawn.has(l.id));
    if (!this.deps.pricer || live.length === 0 || cart.status !== 'active') return cart;
    const p = await this.deps.pricer.price({
      lines: live.map((l) => ({
        key: l.id,
        productId: l.productId,
        variantId: l.variantId,
        unitPrice: l.unitPrice,
        quantity: l.quantity,
      })),
      shipping: cart.totals.shipping,
      codes: cart.promotionCodes,
      buyer: CartsService.buyerOf(cart, customerId),
    });
    const share = new Map(p.lines.map((l) => [l.key, l.discountAmount]));
    const shipping = cart.totals.shipping - p.shippingDiscount;
    return {
      ...cart,
      items: cart.items.map((l) => ({ ...l, discountAmount: share.get(l.id) ?? 0 })),
      totals: {
        subtotal: cart.totals.subtotal,
        discount: p.itemDiscount,
        shipping,
        total: cart.totals.subtotal - p.itemDiscount + shipping,
      },
      discounts: p.discounts,
      promotionNotices: p.notApplied.map((n) => ({
        ...(n.code ? { code: n.code } : {}),
        promotionId: n.promotionId,
        reason: n.reason,
      })),
    };
  }

  /**
   * Applies a promotion code to the caller's active cart: refused when it cannot be used now
   * (404 `promotion_not_found`, 409 `promotion_expired` / `promotion_exhausted`) or gives this
   * cart nothing (409 `promotion_not_applicable` with the reason: `min_subtotal`,
   * `no_matching_items`, `better_promotion_applies`...). The cart as it is after.
   */
  async applyCode(caller: CartCaller, id: string, code: string): Promise<Cart> {
    const normalized = code.trim().toUpperCase();
    const before = await this.get(caller, id);
    if (before.status !== 'active') throw AppError.conflict('cart_closed', `The cart is ${before.status}`);
    if (before.promotionCodes.includes(normalized)) return before;
    if (before.promotionCodes.length >= MAX_CART_CODES)
      throw AppError.conflict('too_many_codes', `A cart carries at most ${MAX_CART_CODES} codes`);
    const pricer = this.deps.pricer;
    if (!pricer) throw AppError.unavailable('promotions');
    await pricer.check(normalized, CartsService.buyerOf(before, caller.customerId));
    const tried = await this.priced(
      { ...before, promotionCodes: [...before.promotionCodes, normalized] },
      await cartsSql.lines(this.deps.db.primary, id),
      caller.customerId,
    );
    if (!tried.discounts.some((d) => d.code === normalized)) {
      const why = tried.promotionNotices.find((n) => n.code === normalized)?.reason ?? 'no_matching_items';
      throw AppError.conflict('promotion_not_applicable', 'This promotion does not apply to this cart', {
        reason: why,
      });
    }
    return this.setCodes(caller, id, (codes) =>
      codes.includes(normalized) ? codes : [...codes, normalized].slice(0, MAX_CART_CODES),
    );
  }

  /** Takes a code off the caller's active cart; 404 `promotion_not_found` when it is not on it. */
  async removeCode(caller: CartCaller, id: string, code: string): Promise<Cart> {
    const normalized = code.trim().toUpperCase();
    return this.setCodes(caller, id, (codes) => {
      if (!codes.includes(normalized))
        throw new AppError('not_found', 'promotion_not_found', 'This code is not on the cart');
      return codes.filter((c) => c !== normalized);
    });
  }

  private async setCodes(caller: CartCaller, id: string, next: (codes: string[]) => string[]): Promise<Cart> {
    const [row, lines] = await withTransaction(this.deps.db.primary, async (tx) => {
      const row = await this.activeOwned(tx, caller, id);
      const updated = await cartsSql.setPromotionCodes(
        tx,
        id,
        next(row.promotion_codes ?? []),
        this.deps.guestCartDays,
      );
      return [updated, await cartsSql.lines(tx, id)] as const;
    });
    return this.priced(toCart(row, lines), lines, caller.customerId);
  }

  /** A new cart: the customer's when logged in, else bound to the guest's session. */
  async create(caller: CartCaller): Promise<Cart> {
    const owner = { customerId: caller.customerId, sessionId: caller.customerId ? null : caller.sessionId };
    const row = await withTransaction(this.deps.db.primary, async (tx) => {
      const active = await cartsSql.lockAndCountActive(tx, owner);
      if (active >= this.deps.perOwner)
        throw AppError.conflict(
          'cart_limit_reached',
          `At most ${this.deps.perOwner} active carts: use or delete one of them`,
          { active, max: this.deps.perOwner },
        );
      return cartsSql.create(tx, owner, this.deps.guestCartDays);
    });
    return toCart(row, []);
  }

  async get(caller: CartCaller, id: string): Promise<Cart> {
    // The lines are read beside the cart (one round trip's wait, not two); they are answered only
    // once the cart is found to be the caller's.
    const db = this.deps.db.primary;
    const [cart, lines] = await Promise.all([
      this.owned(db, caller, id),
      isUuid(id) ? cartsSql.lines(db, id) : Promise.resolve([]),
    ]);
    return this.priced(toCart(cart, lines), lines, caller.customerId);
  }

  async addItem(
    caller: CartCaller,
    id: string,
    line: {
      productId?: string | undefined;
      variantId?: string | undefined;
      quantity: number;
      customization?: Record<string, unknown> | null;
    },
  ): Promise<Cart> {
    return this.change(caller, id, async (tx) => {
      if (line.variantId !== undefined ? !isUuid(line.variantId) : !isUuid(line.productId ?? ''))
        throw line.variantId !== undefined ? unknownVariant() : unknownProduct();
      const r = await cartsSql.addLine(
        tx,
        id,
        {
          productId: line.productId ?? null,
          variantId: line.variantId ?? null,
          quantity: line.quantity,
          customization: line.customization,
        },
        this.deps.guestCartDays,
        MAX_CART_LINES,
      );
      if (r.variants === 0) throw line.variantId !== undefined ? unknownVariant() : unknownProduct();
      if (r.variants > 1)
        throw new AppError(
          'invalid',
          'variant_required',
          'This product has several variants: name the variant (variantId)',
          { details: [{ field: 'variantId', message: 'required', productId: line.productId }] },
        );
      if (!r.touched) throw AppError.conflict('cart_full', `A cart holds at most ${MAX_CART_LINES} lines`);
      return r.touched;
    });
  }

  updateItem(caller: CartCaller, id: string, itemId: string, quantity: number): Promise<Cart> {
    return this.change(caller, id, async (tx) => {
      const touched = isUuid(itemId)
        ? await cartsSql.updateLine(tx, id, itemId, quantity, this.deps.guestCartDays)
        : undefined;
      if (!touched) throw AppError.notFound('Cart item');
      return touched;
    });
  }

  removeItem(caller: CartCaller, id: string, itemId: string): Promise<Cart> {
    return this.change(caller, id, async (tx) => {
      const touched = isUuid(itemId)
        ? await cartsSql.deleteLine(tx, id, itemId, this.deps.guestCartDays)
        : undefined;
      if (!touched) throw AppError.notFound('Cart item');
      return touched;
    });
  }

  /**
   * A change of the caller's active cart, locked for it (concurrent changes of one cart queue),
   * and the cart as it is after the change, read in the same transaction.
   */
  private async change(caller: CartCaller, id: string, fn: (tx: Tx) => Promise<Touched>): Promise<Cart> {
    const [row, lines] = await withTransaction(this.deps.db.primary, async (tx) => {
      const cart = await this.activeOwned(tx, caller, id);
      const touched = await fn(tx);
      return [{ ...cart, ...touched }, await cartsSql.lines(tx, id)] as const;
    });
    // Promotions are priced again on every change (a line removed below a minimum drops one).
    return this.priced(toCart(row, lines), lines, caller.customerId);
  }

  /**
   * Sets parts of the caller's active cart's delivery (the checkout module decides what they hold):
   * undefined leaves a part as it is, null removes it. The cart as it is after.
   */
  async setDelivery(caller: CartCaller, id: string, d: Partial<CartDelivery>): Promise<Cart> {
    const [row, lines] = await withTransaction(this.deps.db.primary, async (tx) => {
      await this.activeOwned(tx, caller, id);
      const row = await cartsSql.setDelivery(tx, id, d, this.deps.guestCartDays);
      return [row, await cartsSql.lines(tx, id)] as const;
    });
    return this.priced(toCart(row, lines), lines, caller.customerId);
  }

  /**
   * What the caller's active cart orders, its row locked in `tx` (a concurrent change or second
   * checkout waits); 409 `cart_empty` without lines. The checkout module places the order in the
   * same transaction and then calls {@link markCheckedOut}.
   */
  async linesForCheckout(
    tx: Tx,
    caller: CartCaller,
    id: string,
  ): Promise<{ owner: Owner; lines: OrderLineInput[]; cart: Cart }> {
    const cart = await this.activeOwned(tx, caller, id, true);
    const lines = await cartsSql.lines(tx, id);
    if (lines.length === 0) throw AppError.conflict('cart_empty', 'The cart has no items');
    return {
      // The cart as it is under the lock: its delivery, its lines priced now.
      cart: toCart(cart, lines),
      owner: cart.customer_id ? { customerId: cart.customer_id } : { guestSessionId: cart.session_id! },
      lines: lines.map((l) => ({
        productId: l.product_id,
        variantId: l.variant_id,
        quantity: l.quantity,
        customization: l.customization as Record<string, unknown> | null,
      })),
    };
  }

  /** Records that the cart became this order (in the transaction that placed it). */
  markCheckedOut(tx: Tx, id: string, orderId: string): Promise<void> {
    return cartsSql.markCheckedOut(tx, id, orderId);
  }

  private async owned(db: Queryable, caller: CartCaller, id: string, forUpdate = false): Promise<CartRow> {
    const cart = isUuid(id) ? await cartsSql.find(db, id, forUpdate) : undefined;
    const mine =
      cart &&
      (cart.customer_id ? cart.customer_id === caller.customerId : cart.session_id === caller.sessionId);
    if (!cart || !mine) throw AppError.notFound('Cart', { cartId: id });
    return cart;
  }

  private async activeOwned(
    db: Queryable,
    caller: CartCaller,
    id: string,
    forUpdate = true,
  ): Promise<CartRow> {
    const cart = await this.owned(db, caller, id, forUpdate);
    if (cart.status !== 'active')
      throw AppError.conflict('cart_closed', `The cart is ${cart.status.replace('_', ' ')}`);
    return cart;
  }

  /** Retention: guest carts untouched for the retention period are deleted with their items. */
  purgeJob(batch = 1000): Job {
    const days = this.deps.guestCartDays;
    return defineJob({
      name: 'purge-guest-carts',
      schedule: '30 3 * * *',
      retentionStep: 2,
      description: `Deletes guest carts (and their items) untouched for ${days} days; customer carts are kept`,
      run: async (ctx) => ({
        deleted: await deleteInBatches(this.deps.db.primary, PURGE_GUEST_CARTS, [days], ctx, {
          batch,
          unit: 'carts',
        }),
      }),
    });
  }

  /** Retention: customer carts not checked out and untouched for the retention period go too. */
  purgeCustomerCartsJob(batch = 1000): Job {
    const days = this.deps.customerCartDays;
    return defineJob({
      name: 'purge-customer-carts',
      schedule: '35 3 * * *',
      retentionStep: 3,
      description: `Deletes customer carts (and their items) not checked out and untouched for ${days} days`,
      run: async (ctx) => ({
        deleted: await deleteInBatches(this.deps.db.primary, PURGE_CUSTOMER_CARTS, [days], ctx, {
          batch,
          unit: 'carts',
        }),
      }),
    });
  }

  /** Erasure, in the caller's transaction: the customer's carts go, with their lines. */
  deleteOfCustomer(tx: Tx, customerId: string): Promise<number> {
    return cartsSql.deleteOfCustomer(tx, customerId);
  }

  /** The customer's carts with their lines, as their data export shows them. */
  exportOf(customerId: string): Promise<Record<string, unknown>[]> {
    return cartsSql.exportOf(this.deps.db.primary, customerId);
  }
}

function unknownProduct(): AppError {
  return AppError.invalid('The product does not exist or is no longer sold', [
    { field: 'productId', message: 'unknown product' },
  ]);
}

function unknownVariant(): AppError {
  return AppError.invalid('The variant does not exist or is no longer sold', [
    { field: 'variantId', message: 'unknown variant' },
  ]);
}
