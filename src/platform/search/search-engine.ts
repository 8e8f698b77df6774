/** The search engine port: PostgreSQL (default) or OpenSearch/Elasticsearch. */

export interface SearchDocument {
  productId: string;
  name: string;
  description: string | null;
  tags: string[];
  categoryId: string | null;
  /** The category and its ancestors (a category filter includes sub-categories). */
  categoryPath: string[];
  /** The lowest price of its live variants (the product's basePrice). */
  price: number;
  popularity: number;
  /** The product's updated_at: drift repair compares it with the catalog. */
  updatedAt: string;
  /** Its live variants: each one's price and option values (`{}` for a product without options). */
  variants: IndexedVariant[];
}

export interface IndexedVariant {
  price: number;
  options: Record<string, string>;
}

/**
 * One option of an `option=Name:Value` filter: the values asked for it (any of them). Different
 * options must all hold, on one and the same variant.
 */
export interface OptionGroup {
  name: string;
  values: string[];
}

/** Counts of the products a search matches, by option value, and its price span. */
export interface SearchFacets {
  /**
   * Per option name, its values with the number of matching products having a variant with that
   * value; counted without the filter on that same option (so the other values can be offered),
   * with every other filter. Most frequent first.
   */
  options: { name: string; values: { value: string; count: number }[] }[];
  /** Lowest and highest price of the variants the filters other than price match (null: none). */
  price: { min: number; max: number } | null;
  /** False when more products matched than the facets count (they are counted over the first ones). */
  exact: boolean;
}

export interface SearchQuery {
  q: string;
  categoryId?: string;
  minPrice?: number;
  maxPrice?: number;
  tags?: string[];
  /** Option filters: values of one option OR-ed, different options AND-ed, on the same variant. */
  options?: OptionGroup[];
  /** Whether to count facets too. */
  facets?: boolean;
  /** 1-based. */
  page: number;
  size: number;
}

export interface SearchResult {
  productIds: string[];
  total: number;
  /** False when `total` is a lower bound (more matches than the engine counts exactly). */
  totalIsExact: boolean;
  /** Only when the query asked for facets. */
  facets?: SearchFacets;
}

/** `Name:Value`, the form of an option value in filters, facets and the index. */
export const optionPair = (name: string, value: string): string => `${name}:${value}`;

/** Name and value of a `Name:Value` pair (split at the first colon). */
export function splitOptionPair(pair: string): { name: string; value: string } {
  const at = pair.indexOf(':');
  return { name: pair.slice(0, at), value: pair.slice(at + 1) };
}

/** The `Name:Value` pairs of a variant's options, sorted (the same whatever the options' key order). */
export const variantPairs = (options: Record<string, string>): string[] =>
  Object.entries(options)
    .map(([n, v]) => optionPair(n, v))
    .sort();

/** Every pair of these variants, once each, sorted. */
export const productPairs = (variants: { options: Record<string, string> }[]): string[] =>
  [...new Set(variants.flatMap((v) => variantPairs(v.options)))].sort();

/** At most this many option names, and values per name, in an answer's facets. */
export const FACET_LIMITS = { names: 20, values: 100 };

/** Facets from (pair, products) counts: grouped by option name, capped, most frequent first. */
export function groupFacets(
  counts: { pair: string; count: number }[],
  limits: { names: number; values: number },
): SearchFacets['options'] {
  const byName = new Map<string, { value: string; count: number }[]>();
  for (const { pair, count } of counts) {
    const { name, value } = splitOptionPair(pair);
    byName.set(name, [...(byName.get(name) ?? []), { value, count }]);
  }
  return [...byName.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, limits.names)
    .map(([name, values]) => ({
      name,
      values: values
        .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
        .slice(0, limits.values),
    }));
}

export interface Suggestion {
  text: string;
  productId: string;
}

/** A rebuild in progress: documents go to a new index; `finish` swaps it in at once. */
export interface Rebuild {
  write(docs: SearchDocument[]): Promise<void>;
  finish(): Promise<void>;
  abort(): Promise<void>;
}

export interface SearchEngine {
  readonly name: string;
  search(query: SearchQuery): Promise<SearchResult>;
  suggest(prefix: string, size: number): Promise<Suggestion[]>;
  upsert(docs: SearchDocument[]): Promise<void>;
  remove(productIds: string[]): Promise<void>;
  /** Indexed (productId, updatedAt) pairs after `afterId`, in id order: for drift repair. */
  versions(afterId: string | null, limit: number): Promise<{ productId: string; updatedAt: string }[]>;
  setPopularity(scores: { productId: string; popularity: number }[]): Promise<void>;
  beginRebuild(): Promise<Rebuild>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Lower-case, accents removed, split into words of letters and digits. */
export function searchWords(text: string): string[] {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}
