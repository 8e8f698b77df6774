import { z } from 'zod';
import { CursorSchema, LimitSchema } from '../../http/schemas.ts';
import { OptionFilterParam } from '../../http/option-filter.ts';

const priceParam = z.coerce.number().int().min(0).max(2_147_483_647);

export const ProductSchema = z
  .object({
    id: z.uuid(),
    slug: z.string().nullable(),
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
  })
  .meta({ id: 'Product' });

const Dimensions = z.object({
  length: z.number().min(0).max(100_000),
  width: z.number().min(0).max(100_000),
  height: z.number().min(0).max(100_000),
});

export const VariantSchema = z
  .object({
    id: z.uuid(),
    sku: z.string(),
    options: z.record(z.string(), z.string()),
    price: z.number().int(),
    compareAtPrice: z.number().int().nullable(),
    availableQuantity: z.number().int(),
    gtin: z.string().nullable(),
    weightGrams: z.number().int().nullable(),
    dimensionsCm: Dimensions.nullable(),
    position: z.number().int(),
  })
  .meta({ id: 'Variant' });

export const ProductDetailSchema = ProductSchema.extend({
  options: z.array(z.object({ name: z.string(), values: z.array(z.string()) })),
  variants: z.array(VariantSchema),
  priceRange: z.object({ min: z.number().int(), max: z.number().int() }),
  rating: z.object({ average: z.number().nullable(), count: z.number().int() }),
  images: z.array(
    z.object({
      id: z.uuid(),
      key: z.string(),
      position: z.number().int(),
      urls: z.object({ thumbnail: z.string(), medium: z.string(), large: z.string() }),
    }),
  ),
}).meta({ id: 'ProductDetail' });

const name = z.string().trim().min(1).max(255);
const money = z.number().int().min(0).max(2_000_000_000).describe('Integer centavos');
const optionText = z.string().trim().min(1).max(50);

export const VariantBody = z
  .object({
    sku: z
      .string()
      .trim()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'letters, digits and . _ / -')
      .optional(),
    options: z.record(optionText, optionText).optional(),
    price: money.optional(),
    compareAtPrice: money.nullable().optional(),
    gtin: z
      .string()
      .regex(/^[0-9]{8,14}$/, 'GTIN/EAN: 8 to 14 digits')
      .nullable()
      .optional(),
    weightGrams: z.number().int().min(0).max(1_000_000).nullable().optional(),
    dimensionsCm: Dimensions.nullable().optional(),
    availableQuantity: z.number().int().min(0).max(1_000_000_000).optional(),
    position: z.number().int().min(0).max(10_000).optional(),
  })
  .strict();

export const VariantPatchBody = VariantBody.omit({ options: true, availableQuantity: true })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'at least one field is required');
const optionValues = z.array(optionText).min(1).max(100);

export const OptionsEditBody = z
  .object({
    options: z
      .array(
        z
          .object({
            name: optionText.describe('The name the option has after the change'),
            values: optionValues.describe('Every value after the change, in order'),
            renamedFrom: optionText
              .optional()
              .describe("The option's current name when this entry renames it"),
            renamedValues: z
              .array(z.object({ from: optionText, to: optionText }).strict())
              .max(100)
              .optional()
              .describe('Values renamed: the current value and the new one (among values)'),
            defaultValue: optionText
              .optional()
              .describe("A new option only (required then): the value the product's live variants get"),
          })
          .strict(),
      )
      .max(3)
      .describe(
        'The whole new list of options, in order. An entry continues the option of its name (or of renamedFrom); one matching none is new; an option left out is removed',
      ),
  })
  .strict();

const tags = z.array(z.string().trim().min(1).max(50)).max(30);

export const ProductCreateBody = z
  .object({
    name,
    description: z.string().max(20_000).nullable().optional(),
    basePrice: z.number().int().min(0).max(2_000_000_000).describe('Integer centavos'),
    categoryId: z.uuid().nullable().optional(),
    tags: tags.optional(),
    availableQuantity: z.number().int().min(0).max(1_000_000_000).optional(),
    slug: z
      .string()
      .max(255)
      .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'lower-case letters and digits separated by single hyphens')
      .optional(),
    options: z
      .array(z.object({ name: optionText, values: z.array(optionText).min(1).max(100) }).strict())
      .max(3)
      .optional()
      .describe('Up to 3 options (Tamanho, Cor...) with their ordered values'),
    variants: z
      .array(VariantBody)
      .min(1)
      .max(250)
      .optional()
      .describe('One per combination of option values sold; without it, every combination is created'),
  })
  .strict();

export const ProductPatchBody = ProductCreateBody.omit({
  availableQuantity: true,
  options: true,
  variants: true,
})
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'at least one field is required');

const slug = z
  .string()
  .max(255)
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'lower-case letters and digits separated by single hyphens');

export const CategorySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    slug: z.string(),
    parentId: z.uuid().nullable(),
  })
  .meta({ id: 'Category' });
export const CategoryCreateBody = z
  .object({ name, slug: slug.optional(), parentId: z.uuid().nullable().optional() })
  .strict();
export const CategoryPatchBody = CategoryCreateBody.partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'at least one field is required');

export const ProductListQuery = z
  .object({
    categoryId: z.uuid().optional(),
    minPrice: priceParam.optional(),
    maxPrice: priceParam.optional(),
    option: OptionFilterParam.optional(),
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
// Recursive, so it must be a named component: the OpenAPI document refers to it by name.
export const CategoryNodeSchema: z.ZodType<CategoryNodeShape> = z
  .object({
    id: z.uuid(),
    name: z.string(),
    slug: z.string(),
    parentId: z.uuid().nullable(),
    get children() {
      return z.array(CategoryNodeSchema);
    },
  })
  .meta({ id: 'CategoryNode' });
