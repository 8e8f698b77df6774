/**
 * Options and variants: the pure rules (no I/O). A product without options has exactly one
 * variant, with no option values, whose id is the product's own (clients from before variants
 * order and restock it by the product id); a product with options has one variant per
 * combination of option values it sells, each at most once.
 */
import { randomUUID } from 'node:crypto';
import { AppError } from '../../platform/errors.ts';
import { searchWords } from '../../platform/search/search-engine.ts';
import type { NewVariant } from './variants.sql.ts';
import type { ProductOption, VariantInput } from './catalog.model.ts';

/** The most variants one product may have (3 options could combine into far more than a store sells). */
export const MAX_VARIANTS = 250;

export interface PlannedVariant extends NewVariant {
  available: number;
}

export const duplicate = (field: string, message: string, extra: Record<string, unknown> = {}) =>
  AppError.conflict('duplicate', message, { field, ...extra });

/** The SKU a variant gets when none is given: derived from the product id and the option values. */
export function defaultSku(productId: string, options: Record<string, string>): string {
  const base = `SF-${productId.replace(/-/g, '').slice(0, 16).toUpperCase()}`;
  const values = Object.values(options).map((v) => searchWords(v).join('').toUpperCase() || 'X');
  return [base, ...values].join('-').slice(0, 64);
}

/** Checks a product's options: names and values unique (case-insensitively), trimmed. */
export function checkOptions(options: ProductOption[]): ProductOption[] {
  const names = new Set<string>();
  return options.map((o, i) => {
    const name = o.name.trim();
    if (names.has(name.toLowerCase()))
      throw AppError.invalid('Option names must be unique', [
        { field: `options.${i}.name`, message: 'duplicate' },
      ]);
    names.add(name.toLowerCase());
    const values = o.values.map((v) => v.trim());
    if (new Set(values.map((v) => v.toLowerCase())).size !== values.length)
      throw AppError.invalid('Option values must be unique', [
        { field: `options.${i}.values`, message: 'duplicate' },
      ]);
    return { name, values };
  });
}

/**
 * The option values of a variant, checked against the product's options: every option named
 * once, with one of its values (returned in the options' order).
 */
export function checkCombination(
  options: ProductOption[],
  given: Record<string, string> | undefined,
  field: string,
): Record<string, string> {
  const values = given ?? {};
  const out: Record<string, string> = {};
  for (const o of options) {
    const v = values[o.name];
    if (v === undefined || !o.values.includes(v.trim()))
      throw AppError.invalid(`The variant needs one of the values of option ${o.name}`, [
        { field: `${field}.options.${o.name}`, message: `one of: ${o.values.join(', ')}` },
      ]);
    out[o.name] = v.trim();
  }
  const extra = Object.keys(values).find((k) => !options.some((o) => o.name === k));
  if (extra !== undefined)
    throw AppError.invalid('The variant names an option the product does not have', [
      { field: `${field}.options.${extra}`, message: 'unknown option' },
    ]);
  return out;
}

/** Every combination of the options' values, in order (the first option varies slowest). */
export function combinations(options: ProductOption[]): Record<string, string>[] {
  let out: Record<string, string>[] = [{}];
  for (const o of options) out = out.flatMap((c) => o.values.map((v) => ({ ...c, [o.name]: v })));
  return out;
}

/** A combination's identity (JSONB compares objects by content, whatever the key order). */
const comboKey = (options: ProductOption[], c: Record<string, string>) =>
  JSON.stringify(options.map((o) => c[o.name]));

/**
 * The variants a new product is created with: those given (checked), or every combination of
 * its options, or its one default variant. Duplicate SKUs or combinations in the request are 409.
 */
export function planVariants(
  productId: string,
  input: {
    basePrice: number;
    availableQuantity?: number | undefined;
    options: ProductOption[];
    variants?: VariantInput[] | undefined;
  },
): PlannedVariant[] {
  const { options } = input;
  let given = input.variants;
  if (options.length === 0) {
    if (given && (given.length !== 1 || Object.keys(given[0]!.options ?? {}).length > 0))
      throw AppError.invalid('A product without options has exactly one variant, without option values', [
        { field: 'variants', message: 'at most one, without options' },
      ]);
  } else if (!given) {
    given = combinations(options).map((c) => ({ options: c }));
  }
  given ??= [{}];
  if (given.length > MAX_VARIANTS)
    throw AppError.invalid(`A product may have at most ${MAX_VARIANTS} variants`, [
      { field: 'variants', message: `at most ${MAX_VARIANTS}` },
    ]);
  const combos = new Set<string>();
  const skus = new Set<string>();
  return given.map((v, i) => {
    const combo = options.length ? checkCombination(options, v.options, `variants.${i}`) : {};
    const key = comboKey(options, combo);
    if (combos.has(key))
      throw duplicate('options', 'Each combination of option values may be sold once', { index: i });
    combos.add(key);
    const sku = v.sku ?? defaultSku(productId, combo);
    if (skus.has(sku.toLowerCase())) throw duplicate('sku', 'A variant already has this SKU', { sku });
    skus.add(sku.toLowerCase());
    return {
      id: options.length ? randomUUID() : productId,
      sku,
      options: combo,
      price: v.price ?? input.basePrice,
      compareAtPrice: v.compareAtPrice ?? null,
      gtin: v.gtin ?? null,
      weightGrams: v.weightGrams ?? null,
      dimensionsCm: v.dimensionsCm ?? null,
      position: v.position ?? i,
      available: v.availableQuantity ?? (options.length ? 0 : (input.availableQuantity ?? 0)),
    };
  });
}
