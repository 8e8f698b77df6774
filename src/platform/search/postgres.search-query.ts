/**
 * The filters of a search over `search_documents`, and the statement counting its facets. Each
 * fragment is fixed SQL; every value is bound through `bind`.
 *
 * Option filters use two columns: `option_values`, the product's `Name:Value` pairs (GIN-indexed:
 * one `&&` per option picks the candidates), and `variants`, a JSON array with each live variant's
 * price `p` and pairs `o`, which checks that one and the same variant has a wanted value of every
 * option and a price in range. `price` is the lowest variant price and `max_price` the highest,
 * which narrow price filters through the index first.
 */
import { optionPair, type OptionGroup, type SearchQuery } from './search-engine.ts';

export type Bind = (value: unknown) => string;

/** Facets are counted over at most this many matching products. */
export const FACET_PRODUCT_CAP = 10_000;

/** The filters on text, category and tags: what facets are counted within. */
export function baseFilters(q: SearchQuery, tsquery: string, bind: Bind): string[] {
  const where: string[] = [];
  if (tsquery) where.push(`tsv @@ to_tsquery('shopflow_pt', ${bind(tsquery)})`);
  if (q.categoryId) where.push(`category_path @> ARRAY[${bind(q.categoryId)}]::uuid[]`);
  if (q.tags?.length) where.push(`tags @> ${bind(q.tags)}::text[]`);
  return where;
}

const pairsOf = (g: OptionGroup) => g.values.map((v) => optionPair(g.name, v));

/** Per-variant conditions (on `e`, one element of `variants`): each option group, then the price range. */
function variantConditions(
  q: SearchQuery,
  bind: Bind,
): { groups: { name: string; sql: string }[]; price: string } {
  const groups = (q.options ?? []).map((g) => ({
    name: g.name,
    sql: `(e->'o' ?| ${bind(pairsOf(g))}::text[])`,
  }));
  const price: string[] = [];
  if (q.minPrice !== undefined) price.push(`(e->>'p')::int >= ${bind(q.minPrice)}::int`);
  if (q.maxPrice !== undefined) price.push(`(e->>'p')::int <= ${bind(q.maxPrice)}::int`);
  return { groups, price: price.length ? `(${price.join(' AND ')})` : 'TRUE' };
}

/**
 * The filters on option values and variant prices: index-usable necessary conditions, then (when
 * they are not exact) the check that one variant meets them all.
 */
export function variantFilters(q: SearchQuery, bind: Bind): string[] {
  const where: string[] = [];
  for (const g of q.options ?? []) where.push(`option_values && ${bind(pairsOf(g))}::text[]`);
  if (q.minPrice !== undefined) where.push(`COALESCE(max_price, price) >= ${bind(q.minPrice)}`);
  if (q.maxPrice !== undefined) where.push(`price <= ${bind(q.maxPrice)}`);
  const groups = q.options?.length ?? 0;
  const bothPrices = q.minPrice !== undefined && q.maxPrice !== undefined;
  const priced = q.minPrice !== undefined || q.maxPrice !== undefined;
  // One option alone, or one price bound alone, is exact already.
  if (groups > 1 || bothPrices || (groups === 1 && priced)) {
    const c = variantConditions(q, bind);
    const all = [...c.groups.map((g) => g.sql), c.price].join(' AND ');
    // A document indexed before variants were (no `variants` yet) is judged by its price columns.
    where.push(
      `(${groups === 0 ? `variants = '[]'::jsonb OR ` : ''}EXISTS (SELECT 1 FROM jsonb_array_elements(variants) AS v(e) WHERE ${all}))`,
    );
  }
  return where;
}

/**
 * One statement counting facets over the first {@link FACET_PRODUCT_CAP} products the text,
 * category and tags match: for each `Name:Value` pair, the products with a variant having it that
 * meets every other filter (the filter on Name itself left out); and the price span of the
 * variants meeting the option filters. Returns `n` (documents read), `counts` and `price`.
 */
export function facetsStatement(q: SearchQuery, tsquery: string): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const bind: Bind = (v) => `$${values.push(v)}`;
  const where = baseFilters(q, tsquery, bind);
  const c = variantConditions(q, bind);
  const except = (name: string | undefined) =>
    [...c.groups.filter((g) => g.name !== name).map((g) => g.sql), c.price].join(' AND ');
  const optionsOnly = ['TRUE', ...c.groups.map((g) => g.sql)].join(' AND ');
  const names = [...new Set(c.groups.map((g) => g.name))];
  const perPair = names.length
    ? `CASE split_part(pair, ':', 1) ${names.map((n) => `WHEN ${bind(n)} THEN ${except(n)}`).join(' ')} ELSE ${except(undefined)} END`
    : except(undefined);
  const text = `WITH m AS MATERIALIZED (
      SELECT product_id, variants FROM search_documents
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''} LIMIT ${FACET_PRODUCT_CAP + 1}
    ), ve AS MATERIALIZED (
      SELECT m.product_id, v.e FROM m CROSS JOIN LATERAL jsonb_array_elements(m.variants) AS v(e)
    )
    SELECT (SELECT COUNT(*)::int FROM m) AS n,
      COALESCE((SELECT json_agg(json_build_object('pair', pair, 'count', count)) FROM (
        SELECT pair, COUNT(DISTINCT product_id)::int AS count
        FROM ve CROSS JOIN LATERAL jsonb_array_elements_text(e->'o') AS o(pair)
        WHERE ${perPair} GROUP BY pair) counted), '[]'::json) AS counts,
      (SELECT json_build_object('min', MIN((e->>'p')::int), 'max', MAX((e->>'p')::int))
        FROM ve WHERE ${optionsOnly}) AS price`;
  return { text, values };
}
