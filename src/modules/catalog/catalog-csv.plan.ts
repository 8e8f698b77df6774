/**
 * What importing a batch of products changes, given what exists (pure: the import service reads
 * the state, calls this, and writes the plan). Products are found by handle (slug), variants by
 * SKU; only what differs is written, so importing the same file twice changes nothing the
 * second time.
 */
import { randomUUID } from 'node:crypto';
import { MAX_VARIANTS } from './variants.model.ts';
import { comboOf, type CsvProduct, type CsvVariant, type ImportError } from './catalog-csv.model.ts';
import { isImageUrl, type ProductImagesWrite, type StoredImage } from './catalog-csv.images.ts';
import type {
  ExistingProduct,
  ExistingVariant,
  OptionWrite,
  ProductWrite,
  VariantWrite,
} from './catalog-csv.sql.ts';

export interface StockWrite {
  productId: string;
  variantId: string;
  available: number;
}

export interface BatchPlan {
  errors: ImportError[];
  /** Handles with at least one error: not written. */
  bad: Set<string>;
  createProducts: ProductWrite[];
  updateProducts: ProductWrite[];
  options: OptionWrite[];
  createVariants: VariantWrite[];
  updateVariants: VariantWrite[];
  stock: StockWrite[];
  /** Products whose images become exactly a list. */
  images: ProductImagesWrite[];
  /** Products created, and products with any change (for events and caches). */
  created: string[];
  changed: string[];
  variantsCreated: number;
  variantsUpdated: number;
}

export interface PlanInput {
  products: CsvProduct[];
  existing: Map<string, ExistingProduct>;
  /** SKU -> slug of the live product holding it (null: a product without a slug). */
  skuOwners: Map<string, string | null>;
  /** A category path's id; undefined when it does not exist yet (it will be created). */
  categoryId: (path: string[]) => string | null | undefined;
  /**
   * What an `images` entry a product does not have yet stands for (ImageResolutions.get): the
   * stored image; null: none (a key not in storage); undefined: not known yet (a URL not fetched).
   */
  image: (entry: string) => StoredImage | null | undefined;
}

export function emptyPlan(): BatchPlan {
  return {
    errors: [],
    bad: new Set(),
    createProducts: [],
    updateProducts: [],
    options: [],
    createVariants: [],
    updateVariants: [],
    stock: [],
    images: [],
    created: [],
    changed: [],
    variantsCreated: 0,
    variantsUpdated: 0,
  };
}

export function planBatch(input: PlanInput): BatchPlan {
  const plan = emptyPlan();
  for (const p of input.products) {
    const errors = checkAgainstStore(p, input);
    if (errors.length) {
      plan.errors.push(...errors);
      plan.bad.add(p.handle);
      continue;
    }
    const e = input.existing.get(p.handle);
    if (e) planUpdate(plan, p, e, input);
    else planCreate(plan, p, input);
  }
  return plan;
}

const sameCombo = (a: Record<string, string>, b: Record<string, string>) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);

/** The product's rows against the store: SKUs of other products, options, combinations, images. */
function checkAgainstStore(p: CsvProduct, input: PlanInput): ImportError[] {
  const errors: ImportError[] = [];
  if (p.variants.length > MAX_VARIANTS)
    errors.push({ line: p.line, reason: `a product may have at most ${MAX_VARIANTS} variants` });
  for (const v of p.variants) {
    const owner = input.skuOwners.get(v.sku);
    if (owner !== undefined && owner !== p.handle)
      errors.push({
        line: v.line,
        field: 'sku',
        reason: owner ? `SKU held by another product (${owner})` : 'SKU held by another product',
      });
  }
  const e = input.existing.get(p.handle);
  const known = new Set(e?.images ?? []);
  for (const entry of p.images)
    if (!known.has(entry) && input.image(entry) === null)
      errors.push({
        line: p.line,
        field: 'images',
        reason: isImageUrl(entry)
          ? `image not fetched: ${entry.slice(0, 200)}`
          : `no stored image with this key: ${entry.slice(0, 200)}`,
      });
  if (!e) return errors;
  const names = e.options.map((o) => o.name);
  if (JSON.stringify(names) !== JSON.stringify(p.optionNames)) {
    errors.push({
      line: p.line,
      field: 'option1_name',
      reason: `the product's options are [${names.join(', ')}]: an import does not rename, add or remove options`,
    });
    return errors;
  }
  const bySku = new Map(e.variants.map((v) => [v.sku, v]));
  const skus = new Set(p.variants.map((v) => v.sku));
  for (const v of p.variants) {
    const combo = comboOf(p, v);
    const ev = bySku.get(v.sku);
    if (ev && !sameCombo(ev.options, combo))
      errors.push({
        line: v.line,
        reason: `an import does not change a variant's option values (SKU ${v.sku})`,
      });
    if (!ev) {
      const other = e.variants.find((x) => !skus.has(x.sku) && sameCombo(x.options, combo));
      if (other) errors.push({ line: v.line, reason: `combination already sold by SKU ${other.sku}` });
    }
  }
  return errors;
}

const variantWrite = (productId: string, id: string, p: CsvProduct, v: CsvVariant): VariantWrite => ({
  id,
  productId,
  sku: v.sku,
  options: comboOf(p, v),
  price: v.price,
  compareAtPrice: v.compareAtPrice,
  gtin: v.gtin,
  weightGrams: v.weightGrams,
  dimensionsCm: v.dimensionsCm,
  position: v.position,
});

function planCreate(plan: BatchPlan, p: CsvProduct, input: PlanInput): void {
  const productId = randomUUID();
  plan.createProducts.push({
    id: productId,
    slug: p.handle,
    name: p.name,
    description: p.description,
    categoryId: input.categoryId(p.category) ?? null,
    tags: p.tags,
    basePrice: Math.min(...p.variants.map((v) => v.price)),
  });
  p.optionNames.forEach((name, i) =>
    plan.options.push({
      productId,
      position: i,
      name,
      values: [...new Set(p.variants.map((v) => v.values[i]!))],
    }),
  );
  for (const v of p.variants) {
    // A product without options has one variant whose id is the product's (clients from before variants).
    const id = p.optionNames.length ? randomUUID() : productId;
    plan.createVariants.push(variantWrite(productId, id, p, v));
    plan.stock.push({ productId, variantId: id, available: v.stock ?? 0 });
  }
  plan.variantsCreated += p.variants.length;
  planImages(plan, productId, p, [], input);
  plan.created.push(productId);
}

const dim = (s: string | null) => (s === null ? null : Number(s));

function variantDiffers(ev: ExistingVariant, w: VariantWrite): boolean {
  const d = w.dimensionsCm;
  return (
    ev.price !== w.price ||
    ev.compare_at_price !== w.compareAtPrice ||
    ev.gtin !== w.gtin ||
    ev.weight_grams !== w.weightGrams ||
    dim(ev.length_cm) !== (d?.length ?? null) ||
    dim(ev.width_cm) !== (d?.width ?? null) ||
    dim(ev.height_cm) !== (d?.height ?? null) ||
    ev.position !== w.position
  );
}

function planUpdate(plan: BatchPlan, p: CsvProduct, e: ExistingProduct, input: PlanInput): void {
  let changed = false;
  const categoryId = input.categoryId(p.category);
  if (
    e.name !== p.name ||
    e.description !== p.description ||
    e.category_id !== categoryId ||
    JSON.stringify(e.tags) !== JSON.stringify(p.tags)
  ) {
    plan.updateProducts.push({
      id: e.id,
      slug: e.slug,
      name: p.name,
      description: p.description,
      categoryId: categoryId ?? null,
      tags: p.tags,
      basePrice: 0,
    });
    changed = true;
  }
  e.options.forEach((o, i) => {
    const values = [...new Set([...o.values, ...p.variants.map((v) => v.values[i]!)])];
    if (values.length !== o.values.length) {
      plan.options.push({ productId: e.id, position: i, name: o.name, values });
      changed = true;
    }
  });
  const bySku = new Map(e.variants.map((v) => [v.sku, v]));
  for (const v of p.variants) {
    const ev = bySku.get(v.sku);
    const w = variantWrite(e.id, ev?.id ?? randomUUID(), p, v);
    if (!ev) {
      plan.createVariants.push(w);
      plan.stock.push({ productId: e.id, variantId: w.id, available: v.stock ?? 0 });
      plan.variantsCreated++;
      changed = true;
      continue;
    }
    const fields = variantDiffers(ev, w);
    const stock = v.stock !== null && ev.available_quantity !== v.stock;
    if (fields) plan.updateVariants.push(w);
    if (stock) plan.stock.push({ productId: e.id, variantId: ev.id, available: v.stock! });
    if (fields || stock) {
      plan.variantsUpdated++;
      changed = true;
    }
  }
  if (planImages(plan, e.id, p, e.images, input)) changed = true;
  if (changed) plan.changed.push(e.id);
}

/**
 * A product's images become exactly the row's list, in its order (an empty column leaves them as
 * they are). Whether they change; a URL not fetched yet (validation, dry run) counts as a change.
 */
function planImages(
  plan: BatchPlan,
  productId: string,
  p: CsvProduct,
  current: string[],
  input: PlanInput,
): boolean {
  if (p.images.length === 0) return false;
  const known = new Set(current);
  const images = new Map<string, StoredImage | undefined>();
  for (const entry of p.images) {
    if (known.has(entry)) {
      images.set(entry, undefined);
      continue;
    }
    const file = input.image(entry);
    if (!file) return true;
    // Two URLs of the same picture are stored once: listed once, where it first appears.
    if (!images.has(file.key)) images.set(file.key, known.has(file.key) ? undefined : file);
  }
  const keys = [...images.keys()];
  if (JSON.stringify(keys) === JSON.stringify(current)) return false;
  plan.images.push({
    productId,
    images: keys.map((key) => {
      const file = images.get(key);
      return file ? { key, file } : { key };
    }),
  });
  return true;
}
