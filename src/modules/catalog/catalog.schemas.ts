import { z } from 'zod';
import { CursorSchema, LimitSchema } from '../../http/schemas.ts';

const priceParam = z.coerce.number().int().min(0).max(2_147_483_647);

export const ProductSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string().nullable(),
  basePrice: z.number().int(),
  currency: z.literal('BRL'),
  categoryId: z.uuid().nullable(),
  category: z.object({ id: z.uuid(), name: z.string(), slug: z.string() }).nullable(),
  tags: z.array(z.string()),
  availableQuantity: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const ProductListQuery = z
  .object({
    categoryId: z.uuid().optional(),
    minPrice: priceParam.optional(),
    maxPrice: priceParam.optional(),
    limit: LimitSchema,
    cursor: CursorSchema,
  })
  .strict();

export const ProductListSchema = z.object({
  items: z.array(ProductSchema),
  nextCursor: z.string().nullable(),
});

interface CategoryNodeShape {
  id: string;
  name: string;
  slug: string;
  parentId: string | null;
  children: CategoryNodeShape[];
}
export const CategoryNodeSchema: z.ZodType<CategoryNodeShape> = z.lazy(() =>
  z.object({
    id: z.uuid(),
    name: z.string(),
    slug: z.string(),
    parentId: z.uuid().nullable(),
    children: z.array(CategoryNodeSchema),
  }),
);
