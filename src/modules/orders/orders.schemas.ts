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
        customization: z.unknown(),
      }),
    ),
    createdAt: z.string(),
    updatedAt: z.string(),
    sessionToken: z.string().optional().describe('Set when the request created a guest session'),
  })
  .meta({ id: 'Order' });

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
