/**
 * Installments (parcelamento): the plans a store offers for an order's total, computed in integer
 * centavos. A plan of up to `interestFree` installments costs the order's total; a longer one
 * carries the store's monthly rate (Price table: equal installments of a loan of the total at that
 * rate, the total rounded to the centavo). Every plan's installments are a deterministic split of
 * its total that sums to it exactly ({@link splitInstallments}).
 */
/** The store's installment rule for card payments (INSTALLMENTS_* in the configuration). */
export interface InstallmentsRule {
  /** The most installments offered. */
  max: number;
  /** The smallest installment offered, centavos (a plan with a smaller one is not offered). */
  minAmount: number;
  /** Plans up to this many installments carry no interest (the store absorbs it). */
  interestFree: number;
  /** Monthly interest of longer plans, in basis points (199 is 1.99% a month). */
  monthlyRateBp: number;
}

export interface InstallmentPlan {
  count: number;
  /** The largest installment (the first ones: see {@link splitInstallments}), centavos. */
  amount: number;
  /** What the payer pays in all, centavos: the amount charged. */
  total: number;
  interestFree: boolean;
}

/**
 * `total` centavos in `count` installments: the same amount each, the centavos left over going one
 * each to the first installments. Deterministic, and the parts sum to `total` exactly.
 */
export function splitInstallments(total: number, count: number): number[] {
  if (!Number.isInteger(total) || total < 0) throw new RangeError('total must be whole centavos');
  if (!Number.isInteger(count) || count < 1) throw new RangeError('count must be a positive integer');
  const base = Math.floor(total / count);
  const extra = total - base * count;
  return Array.from({ length: count }, (_, i) => base + (i < extra ? 1 : 0));
}

/** The total of `count` installments at `rateBp` basis points a month on `principal` centavos. */
export function totalWithInterest(principal: number, count: number, rateBp: number): number {
  if (rateBp <= 0 || count <= 1) return principal;
  const i = rateBp / 10_000;
  const installment = (principal * i) / (1 - Math.pow(1 + i, -count));
  return Math.round(installment * count);
}

/**
 * The plans offered for `total` centavos under the store's rule: 1 installment always; more while
 * the smallest installment is at least `minAmount` and the count at most `max`. `allowed`, when
 * given (the provider's own rules for the card), keeps only the counts it names.
 */
export function installmentPlans(
  total: number,
  rule: InstallmentsRule,
  allowed?: readonly number[],
): InstallmentPlan[] {
  const plans: InstallmentPlan[] = [];
  for (let count = 1; count <= rule.max; count++) {
    if (allowed && count > 1 && !allowed.includes(count)) continue;
    const interestFree = count <= rule.interestFree || rule.monthlyRateBp === 0;
    const planTotal = interestFree ? total : totalWithInterest(total, count, rule.monthlyRateBp);
    const parts = splitInstallments(planTotal, count);
    if (count > 1 && parts.at(-1)! < rule.minAmount) break;
    plans.push({ count, amount: parts[0]!, total: planTotal, interestFree });
  }
  return plans;
}
