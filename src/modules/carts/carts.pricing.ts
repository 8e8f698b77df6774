/**
 * What carts need from promotions, as a port: carts do not depend on the promotions module; the
 * composition root gives them a pricer (PromotionsService.checkCode and quote).
 */

/** Who is buying, as promotions count them (per-customer limits, first orders). */
export interface CartBuyer {
  customerId: string | null;
  document?: string | null;
  email?: string | null;
}

/** A promotion on the cart: what it takes off the lines (`items`) or the freight (`shipping`). */
export interface CartDiscount {
  promotionId: string;
  code?: string;
  name: string;
  amount: number;
  target: 'items' | 'shipping';
}

/** What the promotions make of a cart (the promotions module answers; see {@link CartPricer}). */
export interface CartPricing {
  discounts: CartDiscount[];
  /** Each line's discount, by the line's id. */
  lines: { key: string; discountAmount: number }[];
  itemDiscount: number;
  shippingDiscount: number;
  /** Codes on the cart (and automatic promotions) that give nothing now, with why. */
  notApplied: { promotionId: string | null; code?: string; reason: string }[];
}

/**
 * Prices a cart with its promotions (the promotions module, given at composition: carts do not
 * depend on it). `check` refuses a code that cannot be used now (404 `promotion_not_found`, 409
 * `promotion_expired` / `promotion_exhausted` / `promotion_not_applicable`).
 */
export interface CartPricer {
  check(code: string, buyer: CartBuyer): Promise<unknown>;
  price(input: {
    lines: { key: string; productId: string; variantId: string; unitPrice: number; quantity: number }[];
    shipping: number;
    codes: string[];
    buyer: CartBuyer;
  }): Promise<CartPricing>;
}

/** The most codes one cart may carry. */
export const MAX_CART_CODES = 5;
