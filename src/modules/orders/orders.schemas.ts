import { z } from 'zod';
import { CursorSchema, LimitSchema, boundedJson, jsonDepthExceeds } from '../../http/schemas.ts';
import { ORDER_STATUSES } from './orders.sql.ts';

/** Free-form customization (engraving, size, an upload key...), at most 4 KB of JSON. */
export const CustomizationSchema = boundedJson(z.record(z.string().max(100), z.unknown()), {
  maxDepth: 8,
  maxBytes: 4096,
})
  .nullable()
  .optional();

export const OrderLineSchema = z
  .object({
    variantId: z.uuid().optional().describe('The variant ordered'),
    productId: z
      .uuid()
      .optional()
      .describe('A one-variant product (else 400 variant_required); with variantId, its product'),
    quantity: z.number().int().min(1).max(10_000),
    customization: CustomizationSchema,
  })
  .strict()
  .refine((l) => l.variantId !== undefined || l.productId !== undefined, {
    message: 'a line names a variantId or a productId',
    path: ['variantId'],
  });

export const PlaceOrderBody = z.object({ items: z.array(OrderLineSchema).min(1).max(100) }).strict();

export const FulfillmentSchema = z
  .object({
    id: z.uuid(),
    carrier: z.string(),
    trackingCode: z.string(),
    trackingUrl: z.string().nullable(),
    items: z.array(z.object({ orderItemId: z.uuid(), quantity: z.number().int() })),
    createdAt: z.string(),
  })
  .meta({ id: 'Fulfillment' });

export const HistoryEntrySchema = z
  .object({
    type: z.string().describe('order.placed, order.status_changed, payment.*, refund.*, fulfillment.created'),
    at: z.string(),
    actor: z.object({
      type: z.enum(['customer', 'guest', 'admin', 'provider', 'job', 'system']),
      name: z.string().nullable().describe('The customer id, admin key name, provider or job'),
    }),
    data: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'OrderHistoryEntry' });

/** A promotion on a cart or an order: what it takes off the lines (`items`) or the freight. */
export const DiscountSchema = z
  .object({
    promotionId: z.uuid(),
    code: z.string().optional().describe('The code it was applied with; absent for an automatic promotion'),
    name: z.string(),
    amount: z.number().int().describe('Centavos off'),
    target: z.enum(['items', 'shipping']),
  })
  .meta({ id: 'Discount' });

export const OrderSchema = z
  .object({
    id: z.uuid(),
    status: z.enum(ORDER_STATUSES),
    totalAmount: z.number().int(),
    currency: z.string(),
    customerId: z.uuid().nullable(),
    items: z.array(
      z.object({
        id: z.uuid(),
        productId: z.uuid().nullable(),
        variantId: z.uuid().nullable(),
        sku: z.string().nullable().describe('As sold (null on lines from before variants)'),
        options: z.record(z.string(), z.string()),
        name: z.string().nullable().describe('The product name when sold'),
        quantity: z.number().int(),
        unitPrice: z.number().int(),
        discountAmount: z
          .number()
          .int()
          .describe("The line's share of the item discounts, to the centavo: what a line refund is based on"),
        customization: z.unknown(),
      }),
    ),
    discounts: z.array(DiscountSchema),
    totals: z
      .object({
        subtotal: z.number().int(),
        discount: z.number().int(),
        shipping: z.number().int(),
        total: z.number().int(),
      })
      .describe('Centavos: goods, discount, freight, and what is charged (= totalAmount)'),
    shippingAddress: z
      .object({
        recipient: z.string(),
        cep: z.string(),
        street: z.string(),
        number: z.string(),
        complement: z.string().nullable().optional(),
        district: z.string(),
        city: z.string(),
        state: z.string(),
        phone: z.string().nullable().optional(),
      })
      .nullable()
      .describe('A snapshot of the delivery address; null for orders placed without one'),
    buyer: z
      .object({
        name: z.string(),
        email: z.string(),
        document: z
          .object({ type: z.string(), number: z.string() })
          .nullable()
          .describe('CPF or CNPJ: in full for the owner and the admin, masked in lists'),
      })
      .nullable(),
    shipping: z
      .object({
        carrier: z.string(),
        service: z.string(),
        price: z.number().int(),
        deliveryDays: z.object({ min: z.number().int(), max: z.number().int() }),
      })
      .nullable(),
    fulfillments: z.array(FulfillmentSchema).optional().describe('On a single order, not in lists'),
    history: z
      .array(HistoryEntrySchema)
      .optional()
      .describe('On the store order: its customer-facing history, oldest first'),
    createdAt: z.string(),
    updatedAt: z.string(),
    sessionToken: z.string().optional().describe('Set when the request created a guest session'),
  })
  .meta({ id: 'Order' });

/** How the order is being paid: its paying (else pending, else latest) attempt, with a card's installment plan. */
export const OrderPaymentSchema = z
  .object({
    method: z.enum(['card', 'pix', 'boleto']),
    status: z.string(),
    installments: z
      .object({
        count: z.number().int(),
        amount: z.number().int().describe('The largest installment, centavos'),
        total: z.number().int().describe('What the payer pays in all, centavos'),
        interestFree: z.boolean(),
      })
      .nullable(),
  })
  .meta({ id: 'OrderPayment' });
export const FulfillBody = z
  .object({
    carrier: z.string().trim().min(1).max(60),
    trackingCode: z
      .string()
      .trim()
      .min(1)
      .max(60)
      .regex(/^[A-Za-z0-9-]+$/, 'letters, digits and dashes'),
    items: z
      .array(z.object({ orderItemId: z.uuid(), quantity: z.number().int().min(1).max(10_000) }).strict())
      .min(1)
      .max(100)
      .optional()
      .describe('The units shipped; without it, every unit not shipped yet'),
  })
  .strict();

export const OrderListSchema = z.object({ items: z.array(OrderSchema), nextCursor: z.string().nullable() });

export const OrderListQuery = z
  .object({ status: z.enum(ORDER_STATUSES).optional(), limit: LimitSchema, cursor: CursorSchema })
  .strict();

/** The admin's list filters: status, customer and a creation window (`from` inclusive, `to` exclusive). */
export const AdminOrderListQuery = OrderListQuery.extend({
  customerId: z.uuid().optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
}).strict();

export const OrdersOverviewSchema = z.object({
  timeZone: z.string().describe("The store's time zone: 'today' starts at its midnight"),
  perMinute: z
    .array(z.object({ minute: z.string(), orders: z.number().int() }))
    .describe('Orders placed in each of the last 60 minutes, oldest first (empty minutes included)'),
  today: z.object({
    orders: z.number().int(),
    revenueCents: z.number().int().describe('Confirmed, shipped and delivered orders placed today'),
  }),
  pending: z.number().int().describe('Orders waiting for payment'),
});

export const TransitionBody = z
  .object({ to: z.enum(['confirmed', 'shipped', 'delivered', 'cancelled']) })
  .strict();

export const CustomizationQuery = z
  .object({
    customization: z
      .string()
      .max(4096)
      .transform((s, ctx) => {
        try {
          const v: unknown = JSON.parse(s);
          if (v && typeof v === 'object' && !Array.isArray(v) && !jsonDepthExceeds(v, 8))
            return v as Record<string, unknown>;
        } catch {
          // reported below
        }
        ctx.addIssue({ code: 'custom', message: 'must be a JSON object, e.g. {"engraving":"Ana"}' });
        return z.NEVER;
      }),
    limit: LimitSchema,
  })
  .strict();
