import { describe, expect, it } from 'vitest';
import { price, splitProportionally, type PricedLine, type PricedPromotion } from './pricing.ts';

const promo = (over: Partial<PricedPromotion> & Pick<PricedPromotion, 'id' | 'kind'>): PricedPromotion => ({
  name: over.id,
  value: 0,
  perLine: false,
  appliesTo: null,
  minSubtotal: 0,
  combinable: false,
  createdAt: '2026-01-01T00:00:00.000Z',
  ...over,
});

const line = (key: string, unitPrice: number, quantity: number, categoryIds: string[] = []): PricedLine => ({
  key,
  productId: `p-${key}`,
  categoryIds,
  unitPrice,
  quantity,
});

/** A small deterministic generator (mulberry32), so the property runs are the same every time. */
function random(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('splitting a discount over lines', () => {
  it('sums exactly to the amount, never gives a line more than it costs, and is deterministic', () => {
    const next = random(42);
    for (let run = 0; run < 2000; run++) {
      const weights = Array.from({ length: 1 + Math.floor(next() * 8) }, () => Math.floor(next() * 500_000));
      const total = weights.reduce((a, b) => a + b, 0);
      const amount = Math.floor(next() * (total + 1));
      const shares = splitProportionally(amount, weights);
      expect(shares.reduce((a, b) => a + b, 0)).toBe(total === 0 ? 0 : amount);
      shares.forEach((s, i) => {
        expect(Number.isInteger(s)).toBe(true);
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThanOrEqual(weights[i]!);
      });
      expect(splitProportionally(amount, weights)).toEqual(shares);
    }
  });

  it('gives the centavos left to the largest fractions, ties to the earlier line', () => {
    // 100 over three equal lines: 33.33 each, the one centavo left goes to the first.
    expect(splitProportionally(100, [1000, 1000, 1000])).toEqual([34, 33, 33]);
    // 10 over 1:2: 3.33 and 6.66, the centavo left goes to the larger fraction.
    expect(splitProportionally(10, [100, 200])).toEqual([3, 7]);
  });

  it('stays exact for amounts whose products pass 2^53', () => {
    const shares = splitProportionally(2_000_000_000, [2_147_483_647, 1_000_000_001, 3]);
    expect(shares.reduce((a, b) => a + b, 0)).toBe(2_000_000_000);
  });
});

describe('pricing a cart', () => {
  it('20 % off a category on a 3-line cart with one line outside it, to the centavo', () => {
    const lines = [
      line('a', 3333, 3, ['roupas', 'camisetas']),
      line('b', 1999, 1, ['roupas']),
      line('c', 5000, 1, ['casa']),
    ];
    const p = promo({ id: 'cat20', kind: 'percentage', value: 20, appliesTo: { categoryIds: ['roupas'] } });
    const r = price(lines, 1500, [p]);
    // Lines a (9999) and b (1999) are in 'roupas' (a through its sub-category): 20 % of 11998 is
    // 2399.6, rounded down to 2399, split 9999:1999 -> 1999.43 and 399.56 -> 1999 + 400.
    expect(r.discounts).toEqual([{ promotionId: 'cat20', name: 'cat20', amount: 2399, target: 'items' }]);
    expect(r.lines).toEqual([
      { key: 'a', discountAmount: 1999 },
      { key: 'b', discountAmount: 400 },
      { key: 'c', discountAmount: 0 },
    ]);
    expect(r.lines.reduce((s, l) => s + l.discountAmount, 0)).toBe(r.itemDiscount);
    expect(r.itemDiscount).toBe(2399);
    expect(r.shippingDiscount).toBe(0);
  });

  it('free shipping above a threshold zeroes the freight only', () => {
    const free = promo({ id: 'frete', kind: 'free_shipping', minSubtotal: 19900 });
    const below = price([line('a', 10000, 1)], 2490, [free]);
    expect(below.shippingDiscount).toBe(0);
    expect(below.notApplied).toEqual([{ promotionId: 'frete', reason: 'min_subtotal' }]);
    const above = price([line('a', 10000, 2)], 2490, [free]);
    expect(above.shippingDiscount).toBe(2490);
    expect(above.itemDiscount).toBe(0);
    expect(above.lines).toEqual([{ key: 'a', discountAmount: 0 }]);
  });

  it('applies the better of two non-combinable promotions, then the combinable ones on what is left', () => {
    const lines = [line('a', 10000, 1), line('b', 5000, 1)];
    const ten = promo({ id: 'ten', kind: 'percentage', value: 10, createdAt: '2026-01-01T00:00:00Z' });
    const fixed = promo({ id: 'fixed', kind: 'fixed', value: 2000, createdAt: '2026-01-02T00:00:00Z' });
    const extra = promo({
      id: 'extra',
      kind: 'percentage',
      value: 50,
      combinable: true,
      appliesTo: { productIds: ['p-b'] },
    });
    const r = price(lines, 0, [ten, fixed, extra]);
    // ten: 1500; fixed: 2000 (wins). extra: 50 % of what is left of b (5000 - 667 = 4333) = 2166.
    expect(r.discounts.map((d) => [d.promotionId, d.amount])).toEqual([
      ['fixed', 2000],
      ['extra', 2166],
    ]);
    expect(r.notApplied).toEqual([{ promotionId: 'ten', reason: 'better_promotion_applies' }]);
    expect(r.lines).toEqual([
      { key: 'a', discountAmount: 1333 },
      { key: 'b', discountAmount: 667 + 2166 },
    ]);
    expect(r.itemDiscount).toBe(4166);
  });

  it('takes a fixed amount per line, never more than a line costs', () => {
    const r = price([line('a', 300, 1), line('b', 5000, 2)], 0, [
      promo({ id: 'each', kind: 'fixed', value: 500, perLine: true }),
    ]);
    expect(r.lines).toEqual([
      { key: 'a', discountAmount: 300 },
      { key: 'b', discountAmount: 500 },
    ]);
    expect(r.itemDiscount).toBe(800);
  });

  it('says why a promotion did not apply', () => {
    const r = price([line('a', 1000, 1)], 0, [
      promo({ id: 'other', kind: 'percentage', value: 10, code: 'OUTRA', appliesTo: { productIds: ['x'] } }),
    ]);
    expect(r.notApplied).toEqual([{ promotionId: 'other', code: 'OUTRA', reason: 'no_matching_items' }]);
    expect(r.discounts).toEqual([]);
  });

  it('never discounts more than the lines cost, however many promotions combine', () => {
    const next = random(7);
    for (let run = 0; run < 300; run++) {
      const lines = Array.from({ length: 1 + Math.floor(next() * 5) }, (_, i) =>
        line(String(i), 1 + Math.floor(next() * 20000), 1 + Math.floor(next() * 3)),
      );
      const offered = Array.from({ length: 1 + Math.floor(next() * 4) }, (_, i) =>
        next() < 0.5
          ? promo({
              id: `p${i}`,
              kind: 'percentage',
              value: 1 + Math.floor(next() * 100),
              combinable: next() < 0.5,
            })
          : promo({
              id: `f${i}`,
              kind: 'fixed',
              value: Math.floor(next() * 30000),
              combinable: next() < 0.5,
              perLine: next() < 0.3,
            }),
      );
      const r = price(lines, 0, offered);
      r.lines.forEach((l, i) =>
        expect(l.discountAmount).toBeLessThanOrEqual(lines[i]!.unitPrice * lines[i]!.quantity),
      );
      expect(r.lines.reduce((s, l) => s + l.discountAmount, 0)).toBe(r.itemDiscount);
      expect(r.discounts.reduce((s, d) => s + d.amount, 0)).toBe(r.itemDiscount);
    }
  });
});
