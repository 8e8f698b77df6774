import { z } from 'zod';
import { DiscountSchema } from '../orders/orders.schemas.ts';

/** A cart as the store API answers it. */
export const CartSchema = z
  .object({
    id: z.uuid(),
    status: z.enum(['active', 'checked_out', 'abandoned']),
    currency: z.string(),
    items: z.array(
      z.object({
        id: z.uuid(),
        productId: z.uuid(),
        variantId: z.uuid(),
        sku: z.string().nullable(),
        options: z.record(z.string(), z.string()),
        name: z.string(),
        quantity: z.number().int(),
        unitPrice: z.number().int(),
        lineTotal: z.number().int(),
        customization: z.unknown(),
        available: z.boolean(),
        discountAmount: z.number().int().describe("The line's share of the item discounts, to the centavo"),
      }),
    ),
    itemCount: z.number().int(),
    totalAmount: z.number().int().describe('The goods: totals.subtotal'),
    totals: z
      .object({
        subtotal: z.number().int(),
        discount: z.number().int(),
        shipping: z.number().int(),
        total: z.number().int(),
      })
      .describe('Centavos: goods, item discounts, freight charged (after free shipping), total'),
    promotionCodes: z.array(z.string()).describe('The codes applied (upper-cased)'),
    discounts: z.array(DiscountSchema),
    promotionNotices: z
      .array(
        z.object({
          code: z.string().optional(),
          promotionId: z.uuid().nullable(),
          reason: z
            .string()
            .describe(
              'min_subtotal, no_matching_items, better_promotion_applies, usage_limit, customer_limit, not_started, ended, first_order_sign_in, not_first_order, not_found',
            ),
        }),
      )
      .describe('Codes on the cart (or automatic promotions) that give nothing now, and why'),
    shippingAddress: z.record(z.string(), z.unknown()).nullable(),
    buyer: z.record(z.string(), z.unknown()).nullable(),
    shippingMethod: z.record(z.string(), z.unknown()).nullable(),
    orderId: z.uuid().nullable(),
    expiresAt: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
    sessionToken: z.string().optional().describe('Set when the request created a guest session'),
  })
  .meta({ id: 'Cart' });
