/**
 * Installment plans (parcelamento) in integer centavos: every plan's installments are a
 * deterministic split of its total that sums to it exactly; interest-free plans cost the order's
 * total; plans with interest follow the Price table; no installment under the store's minimum.
 */
import { describe, expect, it } from 'vitest';
import {
  installmentPlans,
  splitInstallments,
  totalWithInterest,
} from '../src/modules/payments/installments.ts';

const RULE = { max: 12, minAmount: 500, interestFree: 3, monthlyRateBp: 199 };

describe('installments', () => {
  it('splits a total into installments that sum to it exactly, the odd centavos first, the same way every time', () => {
    expect(splitInstallments(10000, 3)).toEqual([3334, 3333, 3333]);
    expect(splitInstallments(10001, 3)).toEqual([3334, 3334, 3333]);
    expect(splitInstallments(5, 12)).toEqual([1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
    expect(splitInstallments(0, 2)).toEqual([0, 0]);
    for (let total = 0; total <= 5000; total += 37)
      for (let count = 1; count <= 24; count++) {
        const parts = splitInstallments(total, count);
        expect(parts).toHaveLength(count);
        expect(parts.reduce((a, b) => a + b, 0)).toBe(total);
        expect(Math.max(...parts) - Math.min(...parts)).toBeLessThanOrEqual(1);
        expect(parts).toEqual([...parts].sort((a, b) => b - a));
        expect(splitInstallments(total, count)).toEqual(parts);
      }
    expect(() => splitInstallments(10.5, 2)).toThrow(RangeError);
    expect(() => splitInstallments(100, 0)).toThrow(RangeError);
  });

  it('offers interest-free plans at the order total, then the Price table at the monthly rate, while the installment is at least the minimum', () => {
    const plans = installmentPlans(100000, RULE);
    expect(plans).toHaveLength(12);
    expect(plans.slice(0, 3).every((p) => p.interestFree && p.total === 100000)).toBe(true);
    // 12 x at 1.99% a month on R$ 1.000,00: 94,50 a month (Price), 1.134,02 in all.
    expect(plans[11]).toMatchObject({ count: 12, total: 113402, interestFree: false });
    expect(totalWithInterest(100000, 12, 199)).toBe(113402);
    for (const p of plans) {
      const parts = splitInstallments(p.total, p.count);
      expect(parts.reduce((a, b) => a + b, 0)).toBe(p.total);
      expect(parts[0]).toBe(p.amount);
      expect(parts.at(-1)!).toBeGreaterThanOrEqual(RULE.minAmount);
    }
    // Totals only grow with the count; the installment only shrinks.
    for (let i = 1; i < plans.length; i++) {
      expect(plans[i]!.total).toBeGreaterThanOrEqual(plans[i - 1]!.total);
      expect(plans[i]!.amount).toBeLessThanOrEqual(plans[i - 1]!.amount);
    }
    // R$ 20,00 with a R$ 5,00 minimum: 4 installments at most; 1 is always offered.
    expect(installmentPlans(2000, RULE).map((p) => p.count)).toEqual([1, 2, 3, 4]);
    expect(installmentPlans(100, RULE).map((p) => p.count)).toEqual([1]);
    // A rate of 0: every plan interest-free.
    expect(
      installmentPlans(120000, { ...RULE, monthlyRateBp: 0 }).every(
        (p) => p.interestFree && p.total === 120000,
      ),
    ).toBe(true);
    // The provider's counts narrow the store's.
    expect(installmentPlans(100000, RULE, [1, 2, 6, 18]).map((p) => p.count)).toEqual([1, 2, 6]);
  });
});
