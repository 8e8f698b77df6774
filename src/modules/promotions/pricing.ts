/**
 * Promotion pricing: which promotions a cart earns and how much each takes off which line, to the
 * centavo. Pure functions (no I/O, no clock): the service loads the promotions, the lines and the
 * customer's facts, and this decides. The same input always gives the same answer.
 *
 * The rule when several apply (documented in docs/promotions.md):
 * 1. Free-shipping promotions take the freight off; they are never weighed against item discounts.
 * 2. Among the non-combinable item promotions that apply, the one worth most to the shopper wins
 *    (ties: the older promotion, then the lower id).
 * 3. Every combinable item promotion that applies is added after it, oldest first, each on what
 *    the earlier ones left of its lines: the discount never exceeds what the lines cost.
 */

import { splitProportionally } from '../../platform/money.ts';

export { splitProportionally };

export type PromotionKind = 'percentage' | 'fixed' | 'free_shipping';

export interface PricedPromotion {
  id: string;
  name: string;
  /** The code the shopper applied it with; absent for an automatic promotion. */
  code?: string;
  kind: PromotionKind;
  /** percentage: 1-100; fixed: centavos. */
  value: number;
  /** fixed only: the amount comes off each line it applies to. */
  perLine: boolean;
  appliesTo: { productIds?: string[]; categoryIds?: string[]; variantIds?: string[] } | null;
  minSubtotal: number;
  combinable: boolean;
  /** For the tie-break: older first. */
  createdAt: string;
}

export interface PricedLine {
  /** The line's own id (cart line or order line position): how the answer names it. */
  key: string;
  productId: string;
  variantId?: string | null;
  /** The product's category and every ancestor of it. */
  categoryIds: readonly string[];
  unitPrice: number;
  quantity: number;
}

export interface AppliedDiscount {
  promotionId: string;
  code?: string;
  name: string;
  /** Centavos off: the lines' share for an item promotion, the freight for free shipping. */
  amount: number;
  /** Where it came off. */
  target: 'items' | 'shipping';
}

/** Why a promotion on offer gave nothing: its conditions here, its dates and limits in the service. */
export type NotApplicableReason =
  | 'min_subtotal'
  | 'no_matching_items'
  | 'better_promotion_applies'
  | 'not_found'
  | 'not_started'
  | 'ended'
  | 'usage_limit'
  | 'customer_limit'
  | 'first_order_sign_in'
  | 'not_first_order';

export interface Pricing {
  subtotal: number;
  discounts: AppliedDiscount[];
  /** Every line's discount (0 when none), in the order given; sums to the item discounts. */
  lines: { key: string; discountAmount: number }[];
  /** Item discounts summed (lines), plus the freight taken off. */
  itemDiscount: number;
  shippingDiscount: number;
  /** Promotions offered (codes and automatic) that did not apply, with why. */
  notApplied: { promotionId: string | null; code?: string; reason: NotApplicableReason }[];
}

const lineTotal = (l: PricedLine) => l.unitPrice * l.quantity;

/** The lines a promotion applies to: every line without a restriction, else those it names. */
export function matchingLines(p: PricedPromotion, lines: readonly PricedLine[]): number[] {
  const a = p.appliesTo;
  const restricted = a && (a.productIds?.length || a.categoryIds?.length || a.variantIds?.length);
  return lines.flatMap((l, i) => {
    if (!restricted) return [i];
    const hit =
      (a.productIds?.includes(l.productId) ?? false) ||
      (l.variantId != null && (a.variantIds?.includes(l.variantId) ?? false)) ||
      l.categoryIds.some((c) => a.categoryIds?.includes(c) ?? false);
    return hit ? [i] : [];
  });
}

/** What `p` takes off `remaining` (each line's amount still payable), per line; undefined: none. */
function itemShares(p: PricedPromotion, idx: number[], remaining: readonly number[]): number[] | undefined {
  const base = idx.reduce((s, i) => s + remaining[i]!, 0);
  if (base === 0) return undefined;
  const shares = remaining.map(() => 0);
  if (p.kind === 'fixed' && p.perLine) {
    for (const i of idx) shares[i] = Math.min(p.value, remaining[i]!);
    return shares;
  }
  // Percentages round down to the centavo (the store never gives more than it says).
  const amount =
    p.kind === 'percentage' ? Number((BigInt(base) * BigInt(p.value)) / 100n) : Math.min(p.value, base);
  const split = splitProportionally(
    amount,
    idx.map((i) => remaining[i]!),
  );
  idx.forEach((i, k) => (shares[i] = split[k]!));
  return shares;
}

const older = (a: PricedPromotion, b: PricedPromotion) =>
  a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id);

/**
 * Prices `lines` (and `shipping`, the freight) with the promotions on offer: each one's conditions
 * (minimum subtotal, matching lines) checked here; dates, limits and first-order conditions are the
 * caller's (they need the database). See the rule at the top of this file.
 */
export function price(
  lines: readonly PricedLine[],
  shipping: number,
  offered: readonly PricedPromotion[],
): Pricing {
  const subtotal = lines.reduce((s, l) => s + lineTotal(l), 0);
  const notApplied: Pricing['notApplied'] = [];
  const refuse = (p: PricedPromotion, reason: NotApplicableReason) =>
    notApplied.push({ promotionId: p.id, ...(p.code ? { code: p.code } : {}), reason });
  const candidates: { p: PricedPromotion; idx: number[] }[] = [];
  for (const p of [...offered].sort(older)) {
    if (subtotal < p.minSubtotal) refuse(p, 'min_subtotal');
    else if (p.kind === 'free_shipping') candidates.push({ p, idx: [] });
    else {
      const idx = matchingLines(p, lines);
      if (idx.length === 0) refuse(p, 'no_matching_items');
      else candidates.push({ p, idx });
    }
  }

  const discounts: AppliedDiscount[] = [];
  const applied = (p: PricedPromotion, amount: number, target: AppliedDiscount['target']) =>
    discounts.push({ promotionId: p.id, ...(p.code ? { code: p.code } : {}), name: p.name, amount, target });

  // 1. Freight: the first free-shipping promotion takes it all; any other is not needed.
  let shippingDiscount = 0;
  for (const { p } of candidates.filter((c) => c.p.kind === 'free_shipping')) {
    if (shippingDiscount === 0 && shipping > 0) {
      shippingDiscount = shipping;
      applied(p, shipping, 'shipping');
    } else refuse(p, 'better_promotion_applies');
  }

  // 2. The best non-combinable item promotion, then 3. every combinable one on what is left.
  const remaining = lines.map(lineTotal);
  const take = (shares: number[]) => shares.forEach((s, i) => (remaining[i]! -= s));
  const items = candidates.filter((c) => c.p.kind !== 'free_shipping');
  let best: { p: PricedPromotion; shares: number[]; amount: number } | undefined;
  for (const { p, idx } of items.filter((c) => !c.p.combinable)) {
    const shares = itemShares(p, idx, remaining);
    const amount = shares?.reduce((a, b) => a + b, 0) ?? 0;
    if (shares && amount > (best?.amount ?? 0)) {
      if (best) refuse(best.p, 'better_promotion_applies');
      best = { p, shares, amount };
    } else refuse(p, 'better_promotion_applies');
  }
  const lineDiscounts = lines.map(() => 0);
  const book = (p: PricedPromotion, shares: number[]) => {
    const amount = shares.reduce((a, b) => a + b, 0);
    shares.forEach((s, i) => (lineDiscounts[i]! += s));
    take(shares);
    applied(p, amount, 'items');
  };
  if (best) book(best.p, best.shares);
  for (const { p, idx } of items.filter((c) => c.p.combinable)) {
    const shares = itemShares(p, idx, remaining);
    if (shares && shares.some((s) => s > 0)) book(p, shares);
    else refuse(p, 'no_matching_items');
  }

  return {
    subtotal,
    discounts,
    lines: lines.map((l, i) => ({ key: l.key, discountAmount: lineDiscounts[i]! })),
    itemDiscount: lineDiscounts.reduce((a, b) => a + b, 0),
    shippingDiscount,
    notApplied,
  };
}
