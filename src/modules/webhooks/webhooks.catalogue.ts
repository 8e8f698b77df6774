/**
 * The event catalogue: every event type an endpoint may subscribe to, with the JSON schema of its
 * `data` (served in OpenAPI through the routes, listed at GET /admin/webhooks/event-types and in
 * docs/webhooks.md). These are the events the platform writes to its outbox; `webhook.test` is
 * sent only by POST /admin/webhooks/:id/test. An event's `data` is its ids (the outbox payload)
 * and the resource as the admin API shows it, read by its owning module when the event is fanned
 * out (webhooks.payloads.ts); null when the resource is gone.
 */
import { z } from 'zod';
import { ProductDetailSchema } from '../catalog/catalog.schemas.ts';
import { AdminCustomerSchema } from '../customers/customers.routes.ts';
import { FulfillmentSchema } from '../orders/orders.schemas.ts';

const Money = z.number().int().describe('integer centavos');

/** An order as GET /admin/orders/:id shows it, read when the event is fanned out. */
export const WebhookOrderSchema = z
  .object({
    id: z.uuid(),
    status: z.string(),
    totalAmount: Money,
    currency: z.string(),
    customerId: z.uuid().nullable(),
    items: z.array(
      z.object({
        id: z.uuid(),
        productId: z.uuid().nullable(),
        quantity: z.number().int(),
        unitPrice: Money,
        customization: z.unknown().nullable(),
      }),
    ),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'WebhookOrder' });

/** A variant's stock as GET /admin/inventory/low-stock lists it, read when the event is fanned out. */
export const WebhookVariantStockSchema = z
  .object({
    productId: z.uuid(),
    variantId: z.uuid(),
    sku: z.string(),
    name: z.string().describe("the product's name"),
    availableQuantity: z.number().int(),
    reservedQuantity: z.number().int(),
  })
  .meta({ id: 'WebhookVariantStock' });

const product = <S extends z.ZodRawShape>(shape: S) =>
  z.object({
    productId: z.uuid(),
    ...shape,
    product: ProductDetailSchema.nullable().describe(
      'the product as GET /store/products/:id shows it; null once deleted',
    ),
  });

const orderData = <S extends z.ZodRawShape>(shape: S) =>
  z.object({
    orderId: z.uuid(),
    ...shape,
    order: WebhookOrderSchema.nullable(),
    redacted: z.boolean().optional().describe('true once an erasure emptied this delivery'),
  });

const payment = <S extends z.ZodRawShape>(shape: S) =>
  orderData({ attemptId: z.uuid(), provider: z.string().optional(), ...shape });

export const EVENT_CATALOGUE = {
  'order.placed': {
    description: 'An order was placed (stock reserved, payment pending)',
    data: orderData({
      currency: z.string(),
      totalAmount: Money,
      items: z.array(z.object({ productId: z.uuid(), quantity: z.number().int() })),
    }),
  },
  'order.status_changed': {
    description: 'An order moved to another status (confirmed, shipped, delivered, cancelled, refunded)',
    data: orderData({ status: z.string() }),
  },
  'payment.succeeded': {
    description: 'A payment attempt succeeded',
    data: payment({ amount: Money, currency: z.string() }),
  },
  'payment.failed': {
    description: 'A pending payment attempt failed',
    data: payment({ reason: z.string() }),
  },
  'payment.refunded': {
    description: 'Money went back to the buyer (whole or partial)',
    data: payment({ amount: Money, reason: z.string().optional(), whole: z.boolean() }),
  },
  'payment.refund_required': {
    description: 'A payment must be given back (the order could not take it) and is being refunded',
    data: payment({ amount: Money, reason: z.string(), refundId: z.string().optional() }),
  },
  'payment.attention': {
    description: 'A payment needs a person to look at it (amount or currency mismatch)',
    data: payment({ reason: z.string() }),
  },
  'fulfillment.created': {
    description: 'Units of a confirmed order were shipped (a shipment with its carrier and tracking code)',
    data: orderData({
      fulfillmentId: z.uuid(),
      fulfillment: FulfillmentSchema.nullable().describe(
        'the shipment as GET /admin/orders/:id lists it under fulfillments',
      ),
    }),
  },
  'product.created': {
    description: 'A product was created',
    data: product({}),
  },
  'product.updated': {
    description: 'A product changed (fields: which ones, when known)',
    data: product({ fields: z.array(z.string()).optional() }),
  },
  'product.deleted': {
    description: 'A product was deleted (soft: it can be restored); product is null',
    data: product({}),
  },
  'inventory.changed': {
    description: "A product's stock levels changed",
    data: z.object({
      productId: z.uuid(),
      availableQuantity: z.number().int(),
      reservedQuantity: z.number().int(),
      variants: z
        .array(
          z.object({
            variantId: z.uuid(),
            availableQuantity: z.number().int(),
            reservedQuantity: z.number().int(),
          }),
        )
        .optional()
        .describe('the variants that changed'),
    }),
  },
  'inventory.low_stock': {
    description:
      "A variant's free units fell from above the low-stock threshold (LOW_STOCK_THRESHOLD) to it or below: once per crossing",
    data: z.object({
      productId: z.uuid(),
      variantId: z.uuid(),
      availableQuantity: z.number().int().describe('free units right after the change that crossed'),
      threshold: z.number().int(),
      stock: WebhookVariantStockSchema.nullable().describe('the variant stock now; null when gone'),
    }),
  },
  'category.updated': {
    description: 'A category was created, changed, deleted or restored',
    data: z.object({ categoryId: z.uuid() }),
  },
  'customer.created': {
    description: 'A customer registered an account (personal data: email, name, phone, masked document)',
    data: z.object({
      customerId: z.uuid(),
      customer: AdminCustomerSchema.nullable().describe(
        'the customer as GET /admin/customers/:id shows it; null after an erasure',
      ),
      redacted: z.boolean().optional().describe('true once an erasure emptied this delivery'),
    }),
  },
  'customer.anonymized': {
    description: "A customer's personal data was erased (their orders are kept, anonymised)",
    data: z.object({
      customerId: z.uuid(),
      orderIds: z.array(z.uuid()),
      archivedOrderIds: z.array(z.uuid()),
    }),
  },
  'webhook.test': {
    description: 'Sent by POST /admin/webhooks/:id/test only (any endpoint receives it)',
    data: z.object({ endpointId: z.uuid(), message: z.string() }),
  },
} as const satisfies Record<string, { description: string; data: z.ZodType }>;

export type WebhookEventType = keyof typeof EVENT_CATALOGUE;
export const EVENT_TYPES = Object.keys(EVENT_CATALOGUE) as [WebhookEventType, ...WebhookEventType[]];
/** What an endpoint may subscribe to (everything but the test event, which every endpoint gets). */
export const SUBSCRIBABLE_TYPES = EVENT_TYPES.filter((t) => t !== 'webhook.test') as [
  WebhookEventType,
  ...WebhookEventType[],
];

/** Events whose `data` carries the order as the API shows it. */
export const ORDER_EVENTS = new Set<string>(
  EVENT_TYPES.filter(
    (t) => t.startsWith('order.') || t.startsWith('payment.') || t === 'fulfillment.created',
  ),
);

/** The body of every delivery, one schema per event type (a discriminated union on `type`). */
export const WebhookBodySchema = z
  .discriminatedUnion(
    'type',
    EVENT_TYPES.map((type) =>
      z
        .object({
          type: z.literal(type),
          timestamp: z.string().describe('ISO 8601: when the event happened'),
          data: EVENT_CATALOGUE[type].data,
        })
        .meta({
          id: `WebhookEvent_${type.replace('.', '_')}`,
          description: EVENT_CATALOGUE[type].description,
        }),
    ) as unknown as [z.ZodObject, ...z.ZodObject[]],
  )
  .meta({ id: 'WebhookBody' });
