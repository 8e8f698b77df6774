/**
 * The catalog's CSV file (docs/catalog-import.md): one row per variant, the rows of a product
 * grouped (consecutively) under its `handle`, the product's slug. The pure part (no I/O): the
 * columns, money in and out, one row checked into a variant, and a handle's rows checked into a
 * product.
 */
import { normaliseTags } from './catalog.model.ts';
import type { ProductOption } from './catalog.model.ts';
import { checkImageEntries } from './catalog-csv.images.ts';

export const CSV_COLUMNS = [
  'handle',
  'name',
  'description',
  'category',
  'tags',
  'option1_name',
  'option1_value',
  'option2_name',
  'option2_value',
  'option3_name',
  'option3_value',
  'sku',
  'price',
  'compare_at_price',
  'stock',
  'gtin',
  'weight_grams',
  'length_cm',
  'width_cm',
  'height_cm',
  'position',
  'images',
] as const;

export type CsvColumn = (typeof CSV_COLUMNS)[number];
export type CsvRecord = Partial<Record<CsvColumn, string>>;
const REQUIRED: readonly CsvColumn[] = ['handle', 'name', 'sku', 'price'];

/** Separator of a category path (`Roupas > Camisetas`). */
export const CATEGORY_SEPARATOR = ' > ';
/** Separator of the list columns (tags, images). */
export const LIST_SEPARATOR = '|';

export interface ImportError {
  line: number;
  field?: string;
  reason: string;
}

export interface CsvVariant {
  line: number;
  sku: string;
  /** Option values in the product's option order. */
  values: string[];
  price: number;
  compareAtPrice: number | null;
  stock: number | null;
  gtin: string | null;
  weightGrams: number | null;
  dimensionsCm: { length: number; width: number; height: number } | null;
  position: number;
}

export interface CsvProduct {
  handle: string;
  line: number;
  name: string;
  description: string | null;
  /** Category names from the root; empty: no category. */
  category: string[];
  tags: string[];
  optionNames: string[];
  images: string[];
  variants: CsvVariant[];
}

const HANDLE = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const SKU = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;
const GTIN = /^[0-9]{8,14}$/;
const MAX_CENTAVOS = 2_000_000_000;

/** The header's problems: unknown columns, a 4th option, required columns missing. */
export function checkHeader(header: string[]): ImportError[] {
  const errors: ImportError[] = [];
  for (const h of header) {
    if (/^option[4-9]_(name|value)$/.test(h))
      errors.push({ line: 1, field: h, reason: 'at most 3 options per product' });
    else if (!(CSV_COLUMNS as readonly string[]).includes(h))
      errors.push({ line: 1, field: h, reason: 'unknown column' });
  }
  for (const r of REQUIRED)
    if (!header.includes(r)) errors.push({ line: 1, field: r, reason: 'missing column' });
  if (new Set(header).size !== header.length) errors.push({ line: 1, reason: 'a column is named twice' });
  return errors;
}

/**
 * `89.90` -> 8990 centavos. One format: digits, optionally a dot and one or two decimals (no
 * thousands separator, no currency sign, no comma); anything else is undefined.
 */
export function parseMoney(text: string): number | undefined {
  const m = /^(\d{1,8})(?:\.(\d{1,2}))?$/.exec(text);
  if (!m) return undefined;
  const centavos = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  return centavos <= MAX_CENTAVOS ? centavos : undefined;
}

/** 8990 -> `89.90` (always two decimals: a file exported twice is the same bytes). */
export function formatMoney(centavos: number): string {
  return `${Math.floor(centavos / 100)}.${String(centavos % 100).padStart(2, '0')}`;
}

const moneyReason = (text: string) =>
  /^\d+,\d{1,2}$/.test(text)
    ? 'money is written with a dot: 89.90, not 89,90'
    : /^\d+\.\d{3,}$/.test(text)
      ? 'money has at most 2 decimals'
      : 'not an amount (digits, optionally a dot and up to 2 decimals: 89.90)';

const list = (text: string | undefined) =>
  (text ?? '')
    .split(LIST_SEPARATOR)
    .map((s) => s.trim())
    .filter(Boolean);

/** Reads the optional columns of one row; every problem is pushed to `errors`. */
function numbers(r: CsvRecord, line: number, errors: ImportError[]) {
  const int = (field: CsvColumn, max: number): number | null => {
    const t = r[field]?.trim() ?? '';
    if (t === '') return null;
    if (!/^\d{1,10}$/.test(t) || Number(t) > max) {
      errors.push({ line, field, reason: `a whole number from 0 to ${max}` });
      return null;
    }
    return Number(t);
  };
  const dim = (field: CsvColumn): number | null => {
    const t = r[field]?.trim() ?? '';
    if (t === '') return null;
    if (!/^\d{1,6}(\.\d)?$/.test(t)) {
      errors.push({ line, field, reason: 'centimetres with at most one decimal (12.5)' });
      return null;
    }
    return Number(t);
  };
  const l = dim('length_cm');
  const w = dim('width_cm');
  const h = dim('height_cm');
  const given = [l, w, h].filter((x) => x !== null).length;
  if (given !== 0 && given !== 3)
    errors.push({ line, field: 'length_cm', reason: 'give length, width and height, or none' });
  return {
    stock: int('stock', 1_000_000_000),
    weightGrams: int('weight_grams', 1_000_000_000),
    position: int('position', 1_000_000),
    dimensionsCm: given === 3 ? { length: l!, width: w!, height: h! } : null,
  };
}

/** One row as a variant; undefined (with the reasons in `errors`) when it is bad. */
export function parseVariant(r: CsvRecord, line: number, errors: ImportError[]): CsvVariant | undefined {
  const before = errors.length;
  const sku = r.sku?.trim() ?? '';
  if (sku === '') errors.push({ line, field: 'sku', reason: 'missing' });
  else if (sku.length > 64 || !SKU.test(sku))
    errors.push({ line, field: 'sku', reason: 'letters, digits and . _ / - (at most 64)' });
  const money = (field: 'price' | 'compare_at_price', required: boolean): number | null => {
    const t = r[field]?.trim() ?? '';
    if (t === '') {
      if (required) errors.push({ line, field, reason: 'missing' });
      return null;
    }
    const c = parseMoney(t);
    if (c === undefined) errors.push({ line, field, reason: moneyReason(t) });
    return c ?? null;
  };
  const price = money('price', true);
  const compareAtPrice = money('compare_at_price', false);
  const gtin = r.gtin?.trim() || null;
  if (gtin !== null && !GTIN.test(gtin)) errors.push({ line, field: 'gtin', reason: '8 to 14 digits' });
  const n = numbers(r, line, errors);
  const values = [1, 2, 3].map((i) => r[`option${i}_value` as CsvColumn]?.trim() ?? '');
  if (errors.length > before) return undefined;
  return { line, sku, values, price: price!, compareAtPrice, gtin, ...n, position: n.position ?? -1 };
}

/** The product-level fields of one row, as written. */
export function productFields(r: CsvRecord) {
  return {
    name: r.name?.trim() ?? '',
    description: r.description?.trim() ?? '',
    category: r.category?.trim() ?? '',
    tags: r.tags?.trim() ?? '',
    option1_name: r.option1_name?.trim() ?? '',
    option2_name: r.option2_name?.trim() ?? '',
    option3_name: r.option3_name?.trim() ?? '',
    images: r.images?.trim() ?? '',
  };
}
export type ProductFields = ReturnType<typeof productFields>;

/**
 * A handle's rows as one product. A product field may be left empty on some rows; every row
 * that fills it must agree. Each row must give a value for every option the product names, and
 * each combination of values is sold once.
 */
export function assembleProduct(
  handle: string,
  rows: { line: number; fields: ProductFields; variant: CsvVariant | undefined }[],
  errors: ImportError[],
): CsvProduct | undefined {
  const before = errors.length;
  const first = rows[0]!.line;
  if (!HANDLE.test(handle) || handle.length > 255)
    errors.push({ line: first, field: 'handle', reason: 'lower-case letters and digits joined by hyphens' });
  const agreed = {} as ProductFields;
  for (const key of Object.keys(rows[0]!.fields) as (keyof ProductFields)[]) {
    agreed[key] = '';
    for (const row of rows) {
      const v = row.fields[key];
      if (v === '') continue;
      if (agreed[key] === '') agreed[key] = v;
      else if (agreed[key] !== v)
        errors.push({
          line: row.line,
          field: key,
          reason: `differs from an earlier row of handle ${handle}`,
        });
    }
  }
  if (agreed.name === '') errors.push({ line: first, field: 'name', reason: 'missing' });
  else if (agreed.name.length > 255)
    errors.push({ line: first, field: 'name', reason: 'at most 255 characters' });
  if (agreed.description.length > 20_000)
    errors.push({ line: first, field: 'description', reason: 'at most 20000 characters' });
  const optionNames = [agreed.option1_name, agreed.option2_name, agreed.option3_name];
  const count = optionNames.findIndex((n) => n === '');
  const names = count === -1 ? optionNames : optionNames.slice(0, count);
  if (optionNames.slice(names.length).some((n) => n !== ''))
    errors.push({ line: first, field: 'option1_name', reason: 'options are named in order: option1 first' });
  if (new Set(names.map((n) => n.toLowerCase())).size !== names.length)
    errors.push({ line: first, field: 'option1_name', reason: 'option names must differ' });
  if (names.some((n) => n.length > 50))
    errors.push({ line: first, field: 'option1_name', reason: 'option names have at most 50 characters' });
  const variants = checkVariants(rows, names, errors);
  const category = agreed.category
    ? agreed.category.split(CATEGORY_SEPARATOR.trim()).map((s) => s.trim())
    : [];
  if (category.some((c) => c === '' || c.length > 255))
    errors.push({ line: first, field: 'category', reason: 'a path of names: Roupas > Camisetas' });
  const tags = normaliseTags(list(agreed.tags));
  if (tags.length > 30 || tags.some((t) => t.length > 50))
    errors.push({ line: first, field: 'tags', reason: 'at most 30 tags of up to 50 characters' });
  const images = list(agreed.images);
  checkImageEntries(images, first, errors);
  if (errors.length > before || rows.some((r) => !r.variant)) return undefined;
  return {
    handle,
    line: first,
    name: agreed.name,
    description: agreed.description || null,
    category,
    tags,
    optionNames: names,
    images,
    variants,
  };
}

/** The variants of a handle: option values present and in bounds, each combination once. */
function checkVariants(
  rows: { line: number; variant: CsvVariant | undefined }[],
  names: string[],
  errors: ImportError[],
): CsvVariant[] {
  if (names.length === 0 && rows.length > 1)
    for (const row of rows.slice(1))
      errors.push({
        line: row.line,
        field: 'option1_name',
        reason: 'a product with several variants needs options',
      });
  const combos = new Map<string, number>();
  const out: CsvVariant[] = [];
  rows.forEach((row, index) => {
    const v = row.variant;
    if (!v) return;
    const values = v.values.slice(0, names.length);
    values.forEach((value, i) => {
      if (value === '') errors.push({ line: row.line, field: `option${i + 1}_value`, reason: 'missing' });
      else if (value.length > 50)
        errors.push({ line: row.line, field: `option${i + 1}_value`, reason: 'at most 50 characters' });
    });
    v.values.slice(names.length).forEach((value, i) => {
      if (value !== '')
        errors.push({
          line: row.line,
          field: `option${names.length + i + 1}_value`,
          reason: 'a value for an option the product does not name',
        });
    });
    const key = JSON.stringify(values.map((s) => s.toLowerCase()));
    const seen = combos.get(key);
    if (seen !== undefined && names.length > 0)
      errors.push({ line: row.line, reason: `combination repeated (line ${seen})` });
    combos.set(key, row.line);
    out.push({ ...v, values, position: v.position === -1 ? index : v.position });
  });
  return out;
}

/** The options of a product from its variants: values in order of first appearance. */
export function optionsOf(p: CsvProduct): ProductOption[] {
  return p.optionNames.map((name, i) => ({
    name,
    values: [...new Set(p.variants.map((v) => v.values[i]!))],
  }));
}

/** A variant's option values as the catalog keeps them (name -> value). */
export function comboOf(p: CsvProduct, v: CsvVariant): Record<string, string> {
  return Object.fromEntries(p.optionNames.map((n, i) => [n, v.values[i]!]));
}
