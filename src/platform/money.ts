/**
 * Money splits, in integer centavos: deterministic, and the parts always add up to the whole
 * (discounts over lines, a line's price over its units for a partial refund).
 */

/**
 * Splits `amount` over `weights` in proportion, to whole centavos, summing exactly to `amount`
 * (largest remainder: each share rounded down, the centavos left go one each to the largest
 * fractions, ties to the earlier position). Never gives a share above its weight when `amount`
 * is at most the weights' sum.
 */
export function splitProportionally(amount: number, weights: readonly number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  if (amount === 0 || total === 0) return weights.map(() => 0);
  // In BigInt: amount x weight passes 2^53 for carts of a few million reais.
  const [a, t] = [BigInt(amount), BigInt(total)];
  const shares = weights.map((w) => Number((a * BigInt(w)) / t));
  const order = weights
    .map((w, i) => ({ i, frac: (a * BigInt(w)) % t }))
    .sort((x, y) => (y.frac > x.frac ? 1 : y.frac < x.frac ? -1 : x.i - y.i));
  let left = amount - shares.reduce((s, x) => s + x, 0);
  for (const { i } of order) {
    if (left === 0) break;
    shares[i]!++;
    left--;
  }
  return shares;
}

/** What `units` of a line of `quantity` units that cost `paid` in all come to, after `before` units taken earlier. */
export function unitsAmount(paid: number, quantity: number, before: number, units: number): number {
  const perUnit = splitProportionally(
    paid,
    Array.from({ length: quantity }, () => 1),
  );
  return perUnit.slice(before, before + units).reduce((a, b) => a + b, 0);
}
