/**
 * Fulfilments: units of a confirmed order shipped with a carrier and tracking code; the order
 * becomes shipped when none is left.
 */
import type { Database } from '../../platform/db/pool.ts';
import { withTransaction, type Tx } from '../../platform/db/transaction.ts';
import { AppError } from '../../platform/errors.ts';
import { recordEvents } from '../../platform/events/outbox.ts';
import { isUuid } from '../../platform/ids.ts';
import { deliverySql, type Actor } from './delivery.sql.ts';
import { TRANSITIONS, trackingUrlOf } from './orders.model.ts';
import { ordersSql, type OrderStatus } from './orders.sql.ts';

/** The most fulfilments one order may have (a shipment per unit of a large order is plenty). */
export const MAX_FULFILLMENTS = 100;

/**
 * Ships units of a confirmed order: `items` (default: every unit not shipped yet), each at most
 * what is left of its line. Records the fulfilment, its history entry and `fulfillment.created`;
 * when no unit is left, the order becomes `shipped` (its stock consumed) in the same transaction.
 */
export async function fulfil(
  deps: { db: Database; ship: (tx: Tx, orderId: string, actor: Actor) => Promise<unknown> },
  orderId: string,
  input: { carrier: string; trackingCode: string; items?: { orderItemId: string; quantity: number }[] },
  actor: Actor,
): Promise<void> {
  if (!isUuid(orderId)) throw AppError.notFound('Order', { orderId });
  await withTransaction(deps.db.primary, async (tx) => {
    const order = await ordersSql.lockOrder(tx, orderId);
    if (!order) throw AppError.notFound('Order', { orderId });
    if (order.status !== 'confirmed')
      throw AppError.conflict('invalid_transition', `An order that is ${order.status} cannot be shipped`, {
        from: order.status,
        to: 'shipped',
        allowed: TRANSITIONS[order.status as OrderStatus],
      });
    const items = await ordersSql.itemsOf(tx, [orderId]);
    const done = await deliverySql.fulfillmentsOf(tx, [orderId]);
    if (done.length >= MAX_FULFILLMENTS)
      throw AppError.conflict('fulfillment_limit_reached', `At most ${MAX_FULFILLMENTS} shipments per order`);
    const left = new Map(items.map((i) => [i.id, i.quantity]));
    for (const f of done)
      for (const x of f.items) left.set(x.orderItemId, (left.get(x.orderItemId) ?? 0) - x.quantity);
    const shipping =
      input.items ??
      [...left].filter(([, q]) => q > 0).map(([orderItemId, quantity]) => ({ orderItemId, quantity }));
    if (shipping.length === 0)
      throw AppError.conflict('already_fulfilled', 'Every unit of this order was shipped');
    const seen = new Set<string>();
    shipping.forEach((x, i) => {
      const remaining = left.get(x.orderItemId);
      if (remaining === undefined || seen.has(x.orderItemId))
        throw AppError.invalid('Not a line of this order (or named twice)', [
          { field: `items.${i}.orderItemId`, message: 'not a line of this order, or repeated' },
        ]);
      seen.add(x.orderItemId);
      if (x.quantity > remaining)
        throw AppError.invalid(`Only ${remaining} units of this line are left to ship`, [
          { field: `items.${i}.quantity`, message: `at most ${remaining}` },
        ]);
      left.set(x.orderItemId, remaining - x.quantity);
    });
    const trackingUrl = trackingUrlOf(input.carrier, input.trackingCode);
    const f = await deliverySql.insertFulfillment(tx, {
      orderId,
      carrier: input.carrier,
      trackingCode: input.trackingCode,
      trackingUrl,
      items: shipping,
    });
    await deliverySql.recordEvents(tx, orderId, [
      {
        type: 'fulfillment.created',
        actor,
        data: {
          fulfillmentId: f.id,
          carrier: f.carrier,
          trackingCode: f.tracking_code,
          trackingUrl,
          items: shipping,
        },
      },
    ]);
    await recordEvents(tx, [
      {
        type: 'fulfillment.created',
        aggregateType: 'order',
        aggregateId: orderId,
        payload: {
          orderId,
          fulfillmentId: f.id,
          carrier: f.carrier,
          trackingCode: f.tracking_code,
          trackingUrl,
          items: shipping,
        },
      },
    ]);
    if ([...left.values()].every((q) => q <= 0)) await deps.ship(tx, orderId, actor);
  });
}
