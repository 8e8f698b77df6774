/**
 * Completing an order just placed from a cart, in the checkout's transaction: its delivery
 * (address, buyer, freight added to the total) and its promotions (each line's share of the
 * discounts, the freight waived, the history entry).
 */
import type { Tx } from '../../platform/db/transaction.ts';
import { deliverySql } from './delivery.sql.ts';
import { toOrder, type Order } from './orders.model.ts';
import {
  ordersSql,
  type OrderDiscount,
  type ShippingAddress,
  type StoredBuyer,
  type StoredShipping,
} from './orders.sql.ts';
import { totalTooLarge } from './placement.ts';

/**
 * Sets the delivery of an order just placed from a cart, in the same transaction: the address
 * snapshot, the buyer and the freight, which is added to its total. The order as it is now.
 */
export async function attachDelivery(
  tx: Tx,
  placed: Order,
  d: {
    shippingAddress: ShippingAddress | null;
    buyer: StoredBuyer | null;
    shipping: StoredShipping | null;
  },
): Promise<Order> {
  await deliverySql.attach(tx, placed.id, d);
  const row = await ordersSql.findOrder(tx, placed.id);
  if (!row) throw new Error('the order just placed is gone');
  if (!Number.isSafeInteger(row.total_amount) || row.total_amount > 2_147_483_647) throw totalTooLarge();
  // The items as placing answered them (in line order).
  return { ...toOrder(row, [], true), items: placed.items };
}

/**
 * Takes the promotions priced for an order just placed off it, in the same transaction: each
 * line's share (`lineDiscounts`, in the order of its lines), the item discounts, the freight a
 * free-shipping promotion waived; recorded in its history. The order as it is now.
 */
export async function applyDiscounts(
  tx: Tx,
  placed: Order,
  d: {
    lineDiscounts: number[];
    itemDiscount: number;
    shippingDiscount: number;
    discounts: OrderDiscount[];
  },
): Promise<Order> {
  if (d.discounts.length === 0) return placed;
  if (d.lineDiscounts.length !== placed.items.length) throw new Error('a discount per order line expected');
  await deliverySql.applyDiscounts(tx, placed.id, {
    lines: placed.items.map((item, i) => ({ itemId: item.id, discountAmount: d.lineDiscounts[i]! })),
    itemDiscount: d.itemDiscount,
    shippingDiscount: d.shippingDiscount,
    discounts: d.discounts,
  });
  await deliverySql.recordEvents(tx, placed.id, [
    { type: 'promotion.applied', actor: { type: 'system' }, data: { discounts: d.discounts } },
  ]);
  const row = await ordersSql.findOrder(tx, placed.id);
  if (!row) throw new Error('the order just placed is gone');
  return {
    ...toOrder(row, [], true),
    items: placed.items.map((item, i) => ({ ...item, discountAmount: d.lineDiscounts[i]! })),
  };
}
