import { describe, expect, it } from 'vitest';
import { ORDER_STATUSES } from './orders.sql.ts';
import { canTransition, ownerOf, sourcesOf, TRANSITIONS } from './orders.service.ts';

describe('order status machine', () => {
  it('moves forward only: pending -> confirmed -> shipped -> delivered', () => {
    expect(canTransition('pending', 'confirmed')).toBe(true);
    expect(canTransition('confirmed', 'shipped')).toBe(true);
    expect(canTransition('shipped', 'delivered')).toBe(true);
    expect(canTransition('confirmed', 'pending')).toBe(false);
    expect(canTransition('pending', 'shipped')).toBe(false);
    expect(canTransition('delivered', 'shipped')).toBe(false);
  });

  it('cancels only before shipping', () => {
    expect(canTransition('pending', 'cancelled')).toBe(true);
    expect(canTransition('confirmed', 'cancelled')).toBe(true);
    expect(canTransition('shipped', 'cancelled')).toBe(false);
    expect(canTransition('delivered', 'cancelled')).toBe(false);
  });

  it('leaves delivered and cancelled only to refunded, and nothing leaves refunded', () => {
    for (const to of ORDER_STATUSES) {
      expect(canTransition('delivered', to)).toBe(to === 'refunded');
      expect(canTransition('cancelled', to)).toBe(to === 'refunded');
      expect(canTransition('refunded', to)).toBe(false);
    }
    expect(sourcesOf('refunded').sort()).toEqual(['cancelled', 'delivered', 'shipped']);
  });

  it('knows every status, and the sources of each target are exactly those allowed to reach it', () => {
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...ORDER_STATUSES].sort());
    expect(sourcesOf('cancelled').sort()).toEqual(['confirmed', 'pending']);
    expect(sourcesOf('shipped')).toEqual(['confirmed']);
    expect(sourcesOf('pending')).toEqual([]);
  });
});

describe('ownerOf', () => {
  it('is the customer when logged in, else the guest session', () => {
    expect(ownerOf({ id: 's1', customerId: 'c1' })).toEqual({ customerId: 'c1' });
    expect(ownerOf({ id: 's1', customerId: null })).toEqual({ guestSessionId: 's1' });
  });
});
