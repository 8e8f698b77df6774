/**
 * The `data` of a delivery: the event's ids (its outbox payload) and the resource as the admin API
 * shows it, read through the owning module's service when the event is fanned out (the readers
 * are given by the composition root; this module reads no other module's table). A resource that
 * is gone (archived order, deleted product) is null.
 */
import { AppError } from '../../platform/errors.ts';
import { ORDER_EVENTS } from './webhooks.catalogue.ts';

/** The owning modules' reads, each as its admin API answers (no secrets). */
export interface ResourceReaders {
  /** GET /admin/orders/:id without its fulfilments and history. */
  order(orderId: string): Promise<unknown>;
  /** One shipment as GET /admin/orders/:id lists it; undefined when there is none. */
  fulfillment(orderId: string, fulfillmentId: string): Promise<unknown>;
  /** GET /store/products/:id, read fresh (not from the cache). */
  product(productId: string): Promise<unknown>;
  /** One variant's stock as GET /admin/inventory/low-stock lists it; undefined when there is none. */
  variantStock(variantId: string): Promise<unknown>;
  /** GET /admin/customers/:id (the document masked). */
  customer(customerId: string): Promise<unknown>;
}

/** Whether the event's `data` needs a read (the fan-out then looks for a subscriber first). */
export function readsResource(type: string): boolean {
  return (
    ORDER_EVENTS.has(type) ||
    type.startsWith('product.') ||
    type === 'inventory.low_stock' ||
    type === 'customer.created'
  );
}

/** The resource, or null when it is gone (a not-found answer); any other failure is thrown. */
const orNull = (read: Promise<unknown>): Promise<unknown> =>
  read.then(
    (v) => v ?? null,
    (err: unknown) => {
      if (err instanceof AppError && err.kind === 'not_found') return null;
      throw err;
    },
  );

/** The `data` of an event's deliveries. */
export async function dataOf(
  type: string,
  payload: Record<string, unknown>,
  read: ResourceReaders,
): Promise<Record<string, unknown>> {
  const id = (key: string): string | undefined => {
    const v = payload[key];
    return typeof v === 'string' ? v : undefined;
  };
  const orderId = id('orderId');
  if (type === 'fulfillment.created' && orderId) {
    const fulfillmentId = id('fulfillmentId') ?? null;
    const [fulfillment, order] = await Promise.all([
      fulfillmentId ? orNull(read.fulfillment(orderId, fulfillmentId)) : null,
      orNull(read.order(orderId)),
    ]);
    return { orderId, fulfillmentId, fulfillment, order };
  }
  if (ORDER_EVENTS.has(type) && orderId) return { ...payload, order: await orNull(read.order(orderId)) };
  const productId = id('productId');
  if (type.startsWith('product.') && productId)
    return {
      ...payload,
      product: type === 'product.deleted' ? null : await orNull(read.product(productId)),
    };
  const variantId = id('variantId');
  if (type === 'inventory.low_stock' && variantId)
    return { ...payload, stock: await orNull(read.variantStock(variantId)) };
  const customerId = id('customerId');
  if (type === 'customer.created' && customerId)
    return { ...payload, customer: await orNull(read.customer(customerId)) };
  return { ...payload };
}
