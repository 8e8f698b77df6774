import { z } from 'zod';

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
      }),
    ),
    itemCount: z.number().int(),
    totalAmount: z.number().int().describe('The goods: totals.subtotal'),
    totals: z.object({
      subtotal: z.number().int(),
      discount: z.number().int(),
      shipping: z.number().int(),
      total: z.number().int(),
    }),
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
