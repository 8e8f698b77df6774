/**
 * The variant grid's rows as a person edits them: text drafts of a variant's fields, checked and
 * turned back into what the API takes (money as integer centavos, through parseMoney) and only
 * the fields that changed.
 */
import type { Get, Schemas } from '../api';
import { moneyInput, parseMoney } from '../format';

export type Variant = Schemas['Variant'];
export type ProductDetail = Get<'/store/products/{id}'>;

export const FIELDS = ['sku', 'price', 'compareAtPrice', 'stock', 'gtin', 'weightGrams'] as const;
export type Field = (typeof FIELDS)[number];
export type Draft = Record<Field, string>;

/** The columns a bulk edit may change, and those it may add to (the others are set). */
export const BULK_FIELDS = ['price', 'compareAtPrice', 'stock', 'weightGrams'] as const;
export type BulkField = (typeof BULK_FIELDS)[number];
export const ADDABLE: readonly BulkField[] = ['price', 'stock'];

export const draftOf = (v: Variant): Draft => ({
  sku: v.sku,
  price: moneyInput(v.price),
  compareAtPrice: v.compareAtPrice === null ? '' : moneyInput(v.compareAtPrice),
  stock: String(v.availableQuantity),
  gtin: v.gtin ?? '',
  weightGrams: v.weightGrams === null ? '' : String(v.weightGrams),
});

/**
 * A variant's option values as people read them ("M / Azul"), in the product's option order (the
 * API's `options` object keeps its own key order), or null for a product without options.
 */
export const variantLabel = (v: Pick<Variant, 'options'>, options: { name: string }[]): string | null =>
  options.map((o) => v.options[o.name] ?? '?').join(' / ') || null;

const whole = (s: string): number | null => (/^\d{1,10}$/.test(s.trim()) ? Number(s.trim()) : null);

/** The draft's first invalid field (checked before anything is sent), or null. */
export function invalidField(d: Draft): Field | null {
  if (!d.sku.trim()) return 'sku';
  if (parseMoney(d.price) === null) return 'price';
  if (d.compareAtPrice.trim() && parseMoney(d.compareAtPrice) === null) return 'compareAtPrice';
  if (whole(d.stock) === null) return 'stock';
  if (d.gtin.trim() && !/^[0-9]{8,14}$/.test(d.gtin.trim())) return 'gtin';
  if (d.weightGrams.trim() && whole(d.weightGrams) === null) return 'weightGrams';
  return null;
}

export interface RowChange {
  /** The body of PATCH /admin/variants/:id: only the fields that differ (empty: none). */
  patch: Partial<Pick<Variant, 'sku' | 'price' | 'compareAtPrice' | 'gtin' | 'weightGrams'>>;
  /** The new units free to sell, when they differ. */
  stock: number | null;
}

/** What saving a (valid) draft changes on the server. */
export function changeOf(v: Variant, d: Draft): RowChange {
  const patch: RowChange['patch'] = {};
  const sku = d.sku.trim();
  if (sku !== v.sku) patch.sku = sku;
  const price = parseMoney(d.price)!;
  if (price !== v.price) patch.price = price;
  const compareAt = d.compareAtPrice.trim() ? parseMoney(d.compareAtPrice) : null;
  if (compareAt !== v.compareAtPrice) patch.compareAtPrice = compareAt;
  const gtin = d.gtin.trim() || null;
  if (gtin !== v.gtin) patch.gtin = gtin;
  const weight = d.weightGrams.trim() ? whole(d.weightGrams) : null;
  if (weight !== v.weightGrams) patch.weightGrams = weight;
  const stock = whole(d.stock)!;
  return { patch, stock: stock === v.availableQuantity ? null : stock };
}

/**
 * A bulk edit of one column: `set` writes the value typed, `add` adds it (prices in R$, stock in
 * units). Returns the new draft text, or null when the value typed is not valid for the column.
 */
export function bulkValue(
  field: BulkField,
  op: 'set' | 'add',
  typed: string,
  current: string,
): string | null {
  const isMoney = field === 'price' || field === 'compareAtPrice';
  if (op === 'set') {
    if (isMoney) {
      if (!typed.trim() && field === 'compareAtPrice') return '';
      const c = parseMoney(typed);
      return c === null ? null : moneyInput(c);
    }
    if (!typed.trim() && field === 'weightGrams') return '';
    return whole(typed) === null ? null : String(whole(typed));
  }
  if (isMoney) {
    const add = parseMoney(typed);
    const base = parseMoney(current);
    return add === null || base === null ? null : moneyInput(base + add);
  }
  const add = whole(typed);
  const base = whole(current);
  return add === null || base === null ? null : String(base + add);
}

/**
 * A bulk edit applied to the selected variants' drafts: the drafts after it, or null when the
 * value typed does not fit one of the rows (nothing is changed then).
 */
export function applyBulk(
  selected: Variant[],
  drafts: Record<string, Draft>,
  edit: { field: BulkField; op: 'set' | 'add'; typed: string },
): Record<string, Draft> | null {
  const next: Record<string, Draft> = { ...drafts };
  for (const v of selected) {
    const d = next[v.id] ?? draftOf(v);
    const value = bulkValue(edit.field, edit.op, edit.typed, d[edit.field]);
    if (value === null) return null;
    next[v.id] = { ...d, [edit.field]: value };
  }
  return next;
}
