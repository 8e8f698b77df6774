/**
 * The event catalogue: every event type an endpoint may subscribe to, with the JSON schema of its
 * `data` (served in OpenAPI through the routes, listed at GET /admin/webhooks/event-types and in
 * docs/webhooks.md). These are the events the platform writes to its outbox; `webhook.test` is
 * sent only by POST /admin/webhooks/:id/test.
 */
import { z } from 'zod';

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

const orderData = <S extends z.ZodRawShape>(shape: S) =>
  z.object({ orderId: z.uuid(), ...shape, order: WebhookOrderSchema.nullable() });

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
  'product.created': {
    description: 'A product was created',
    data: z.object({ productId: z.uuid() }),
  },
  'product.updated': {
    description: 'A product changed (fields: which ones, when known)',
    data: z.object({ productId: z.uuid(), fields: z.array(z.string()).optional() }),
  },
  'product.deleted': {
    description: 'A product was deleted (soft: it can be restored)',
    data: z.object({ productId: z.uuid() }),
  },
  'inventory.changed': {
    description: "A product's stock levels changed",
    data: z.object({
      productId: z.uuid(),
      availableQuantity: z.number().int(),
      reservedQuantity: z.number().int(),
    }),
  },
  'category.updated': {
    description: 'A category was created, changed, deleted or restored',
    data: z.object({ categoryId: z.uuid() }),
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
  EVENT_TYPES.filter((t) => t.startsWith('order.') || t.startsWith('payment.')),
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
