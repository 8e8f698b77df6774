/**
 * OpenSearch / Elasticsearch engine. The document's mapping, with the `autocomplete` analyzer it
 * names actually defined (edge n-grams, accents folded), a `completion` field for the suggester
 * (a completion query needs one; the original design pointed it at a text sub-field), its multi_match
 * query (name^3, description, tags^2, fuzziness AUTO) with filters, and sorting by score then
 * popularity. Searches go through the alias `<index>`; a rebuild fills `<index>_<time>` and swaps
 * the alias atomically.
 */
import { Client } from '@opensearch-project/opensearch';
import {
  FACET_LIMITS,
  groupFacets,
  optionPair,
  productPairs,
  variantPairs,
  type Rebuild,
  type SearchFacets,
  type SearchDocument,
  type SearchEngine,
  type SearchQuery,
  type SearchResult,
  type Suggestion,
} from './search-engine.ts';

/** Totals are exact up to this (the engine counts that far cheaply); beyond, a lower bound. */
const EXACT_TOTAL_CAP = 10_000;

export const INDEX_BODY = {
  settings: {
    analysis: {
      filter: {
        autocomplete_filter: { type: 'edge_ngram', min_gram: 2, max_gram: 20 },
        portuguese_stemmer: { type: 'stemmer', language: 'light_portuguese' },
      },
      analyzer: {
        folded: { type: 'custom', tokenizer: 'standard', filter: ['lowercase', 'asciifolding'] },
        autocomplete: {
          type: 'custom',
          tokenizer: 'standard',
          filter: ['lowercase', 'asciifolding', 'autocomplete_filter'],
        },
        portuguese_folded: {
          type: 'custom',
          tokenizer: 'standard',
          filter: ['lowercase', 'asciifolding', 'portuguese_stemmer'],
        },
      },
    },
  },
  mappings: {
    properties: {
      id: { type: 'keyword' },
      name: {
        type: 'text',
        analyzer: 'portuguese_folded',
        fields: {
          keyword: { type: 'keyword' },
          autocomplete: { type: 'text', analyzer: 'autocomplete', search_analyzer: 'folded' },
        },
      },
      description: { type: 'text', analyzer: 'portuguese_folded' },
      category: { type: 'keyword' },
      category_path: { type: 'keyword' },
      price: { type: 'integer' },
      tags: { type: 'keyword' },
      created_at: { type: 'date' },
      updated_at: { type: 'date' },
      popularity_score: { type: 'float' },
      suggest: { type: 'completion', analyzer: 'folded' },
      max_price: { type: 'integer' },
      // The product's `Name:Value` pairs, and each live variant's price and pairs (nested: a filter
      // on two options and a price holds on one and the same variant).
      option_values: { type: 'keyword' },
      variants: {
        type: 'nested',
        properties: { price: { type: 'integer' }, options: { type: 'keyword' } },
      },
    },
  },
} as const;

export function toSource(d: SearchDocument) {
  return {
    id: d.productId,
    name: d.name,
    description: d.description,
    category: d.categoryId,
    category_path: d.categoryPath,
    price: d.price,
    tags: d.tags,
    updated_at: d.updatedAt.includes('T')
      ? d.updatedAt
      : d.updatedAt.replace(' ', 'T').replace(/([+-]\d{2})$/, '$1:00'),
    popularity_score: d.popularity,
    max_price: Math.max(d.price, ...d.variants.map((v) => v.price)),
    option_values: productPairs(d.variants),
    variants: (d.variants.length ? d.variants : [{ price: d.price, options: {} }]).map((v) => ({
      price: v.price,
      options: variantPairs(v.options),
    })),
    suggest: { input: [d.name], weight: Math.max(1, Math.round(d.popularity * 10)) },
  };
}

/** Facets are counted over (about) this many buckets per option family; more values are cut. */
const FACET_BUCKETS = 1000;

/** Conditions on one variant (inside `variants`): each option group, then the price range. */
function variantClauses(q: SearchQuery, without?: string): { groups: unknown[]; price: unknown[] } {
  const groups = (q.options ?? [])
    .filter((g) => g.name !== without)
    .map((g) => ({ terms: { 'variants.options': g.values.map((v) => optionPair(g.name, v)) } }));
  const price =
    q.minPrice !== undefined || q.maxPrice !== undefined
      ? [
          {
            range: {
              'variants.price': {
                ...(q.minPrice !== undefined ? { gte: q.minPrice } : {}),
                ...(q.maxPrice !== undefined ? { lte: q.maxPrice } : {}),
              },
            },
          },
        ]
      : [];
  return { groups, price };
}

/** The filter on option values and variant prices: one variant meets them all; undefined when none. */
function variantFilter(q: SearchQuery): unknown {
  const { groups, price } = variantClauses(q);
  const all = [...groups, ...price];
  return all.length ? { nested: { path: 'variants', query: { bool: { filter: all } } } } : undefined;
}

/**
 * Facet aggregations (run on the hits of the text, category and tags; the variant filter is a
 * post_filter): per filtered option, its pairs among variants meeting the other filters; every
 * other option's pairs among variants meeting them all; the price span of variants meeting the
 * option filters. `reverse_nested` counts products, not variants.
 */
function facetAggs(q: SearchQuery) {
  const pairs = (filter: unknown[]) => ({
    nested: { path: 'variants' },
    aggs: {
      ok: {
        filter: { bool: { filter } },
        aggs: {
          pairs: {
            terms: { field: 'variants.options', size: FACET_BUCKETS },
            aggs: { products: { reverse_nested: {} } },
          },
        },
      },
    },
  });
  const names = [...new Set((q.options ?? []).map((g) => g.name))];
  const all = variantClauses(q);
  return {
    facet_all: pairs([...all.groups, ...all.price]),
    ...Object.fromEntries(
      names.map((name, i) => {
        const c = variantClauses(q, name);
        return [`facet_${i}`, pairs([...c.groups, ...c.price])];
      }),
    ),
    facet_price: {
      nested: { path: 'variants' },
      aggs: {
        ok: {
          filter: { bool: { filter: all.groups } },
          aggs: { min: { min: { field: 'variants.price' } }, max: { max: { field: 'variants.price' } } },
        },
      },
    },
  };
}

export function searchBody(q: SearchQuery) {
  const filter: unknown[] = [];
  if (q.categoryId) filter.push({ term: { category_path: q.categoryId } });
  for (const tag of q.tags ?? []) filter.push({ term: { tags: tag } });
  const variants = variantFilter(q);
  // With facets, the variant filter applies to the hits only (post_filter), not to the facets' base.
  if (variants && !q.facets) filter.push(variants);
  const must = q.q.trim()
    ? [
        {
          multi_match: {
            query: q.q,
            fields: ['name^3', 'description', 'tags^2'],
            type: 'best_fields',
            fuzziness: 'AUTO',
          },
        },
      ]
    : [{ match_all: {} }];
  return {
    query: { bool: { must, filter } },
    ...(q.facets ? { aggs: facetAggs(q), ...(variants ? { post_filter: variants } : {}) } : {}),
    sort: [{ _score: 'desc' }, { popularity_score: 'desc' }, { id: 'asc' }],
    from: (q.page - 1) * q.size,
    size: q.size,
    track_total_hits: EXACT_TOTAL_CAP,
    _source: false,
  };
}

interface PairsAgg {
  ok: {
    pairs: { sum_other_doc_count?: number; buckets: { key: string; products: { doc_count: number } }[] };
  };
}

/** The facets of a search answer's aggregations (built by {@link searchBody}). */
export function facetsFrom(q: SearchQuery, aggs: Record<string, unknown>): SearchFacets {
  const names = [...new Set((q.options ?? []).map((g) => g.name))];
  const counts: { pair: string; count: number }[] = [];
  let cut = false;
  const take = (agg: unknown, keep: (name: string) => boolean) => {
    const pairs = (agg as PairsAgg | undefined)?.ok.pairs;
    if (pairs?.sum_other_doc_count) cut = true;
    for (const b of pairs?.buckets ?? [])
      if (keep(b.key.slice(0, b.key.indexOf(':')))) counts.push({ pair: b.key, count: b.products.doc_count });
  };
  take(aggs.facet_all, (name) => !names.includes(name));
  names.forEach((name, i) => take(aggs[`facet_${i}`], (n) => n === name));
  const price = (aggs.facet_price as { ok: { min: { value: number | null }; max: { value: number | null } } })
    ?.ok;
  return {
    options: groupFacets(counts, FACET_LIMITS),
    price:
      price && price.min.value !== null && price.max.value !== null
        ? { min: price.min.value, max: price.max.value }
        : null,
    // Pairs past the first FACET_BUCKETS of a family are not counted.
    exact: !cut,
  };
}

export function suggestBody(prefix: string, size: number) {
  return {
    _source: ['id', 'name'],
    suggest: {
      product_suggest: {
        prefix,
        completion: { field: 'suggest', size, skip_duplicates: true, fuzzy: { fuzziness: 2 } },
      },
    },
  };
}

interface Hit {
  _id: string;
  _source?: { id?: string; name?: string; updated_at?: string };
  sort?: unknown[];
}

export class OpenSearchEngine implements SearchEngine {
  readonly name = 'opensearch';
  private readonly client: Client;
  private ready: Promise<void> | undefined;

  constructor(private readonly options: { node: string; index: string; client?: Client }) {
    this.client = options.client ?? new Client({ node: options.node, requestTimeout: 5000, maxRetries: 1 });
  }

  /** The alias exists (creating a first index behind it if need be). */
  private ensure(): Promise<void> {
    this.ready ??= (async () => {
      const exists = await this.client.indices.existsAlias({ name: this.options.index });
      if (exists.body) {
        // An index made by an earlier release lacks the variant fields: they are added (new fields
        // only, allowed on a live index) before any write could map `variants` as a plain object,
        // which nested filters refuse. Its documents get their values at their next write or at
        // `shopflow search reindex`.
        const { max_price, option_values, variants } = INDEX_BODY.mappings.properties;
        await this.client.indices.putMapping({
          index: this.options.index,
          body: { properties: { max_price, option_values, variants } },
        });
        return;
      }
      const index = `${this.options.index}_${Date.now()}`;
      await this.client.indices.create({
        index,
        body: { ...INDEX_BODY, aliases: { [this.options.index]: {} } } as never,
      });
    })().catch((e: unknown) => {
      this.ready = undefined;
      throw e;
    });
    return this.ready;
  }

  async search(q: SearchQuery): Promise<SearchResult> {
    await this.ensure();
    const { body } = await this.client.search({ index: this.options.index, body: searchBody(q) as never });
    const hits = body.hits as { total: { value: number; relation: string }; hits: Hit[] };
    return {
      productIds: hits.hits.map((h) => h._id),
      total: hits.total.value,
      totalIsExact: hits.total.relation === 'eq',
      ...(q.facets ? { facets: facetsFrom(q, (body.aggregations ?? {}) as Record<string, unknown>) } : {}),
    };
  }

  async suggest(prefix: string, size: number): Promise<Suggestion[]> {
    await this.ensure();
    const { body } = await this.client.search({
      index: this.options.index,
      body: suggestBody(prefix, size),
    });
    const options =
      (body.suggest as Record<string, { options: Hit[] }[]>).product_suggest?.[0]?.options ?? [];
    return options.map((o) => ({ text: o._source?.name ?? '', productId: o._id })).slice(0, size);
  }

  private async bulk(index: string, operations: unknown[]): Promise<void> {
    if (operations.length === 0) return;
    const { body } = await this.client.bulk({ index, body: operations as never, refresh: false });
    if ((body as { errors: boolean }).errors) {
      const failed = (body as { items: Record<string, { error?: unknown; status: number }>[] }).items
        .map((i) => Object.values(i)[0]!)
        .filter((r) => r.error && r.status !== 404);
      if (failed.length) throw new Error(`bulk indexing failed for ${failed.length} documents`);
    }
  }

  async upsert(docs: SearchDocument[]): Promise<void> {
    await this.ensure();
    await this.bulk(
      this.options.index,
      docs.flatMap((d) => [{ index: { _id: d.productId } }, toSource(d)]),
    );
  }

  async remove(productIds: string[]): Promise<void> {
    await this.ensure();
    await this.bulk(
      this.options.index,
      productIds.map((id) => ({ delete: { _id: id } })),
    );
  }

  async versions(afterId: string | null, limit: number): Promise<{ productId: string; updatedAt: string }[]> {
    await this.ensure();
    const { body } = await this.client.search({
      index: this.options.index,
      body: {
        size: limit,
        sort: [{ id: 'asc' }],
        _source: ['updated_at'],
        query: { match_all: {} },
        ...(afterId ? { search_after: [afterId] } : {}),
      } as never,
    });
    return (body.hits as { hits: Hit[] }).hits.map((h) => ({
      productId: h._id,
      updatedAt: h._source?.updated_at ?? '',
    }));
  }

  async setPopularity(scores: { productId: string; popularity: number }[]): Promise<void> {
    await this.ensure();
    await this.bulk(
      this.options.index,
      scores.flatMap((s) => [{ update: { _id: s.productId } }, { doc: { popularity_score: s.popularity } }]),
    );
  }

  async beginRebuild(): Promise<Rebuild> {
    const index = `${this.options.index}_${Date.now()}`;
    await this.client.indices.create({ index, body: INDEX_BODY as never });
    return {
      write: (docs) =>
        this.bulk(
          index,
          docs.flatMap((d) => [{ index: { _id: d.productId } }, toSource(d)]),
        ),
      finish: async () => {
        await this.client.indices.refresh({ index });
        const current = await this.client.indices
          .getAlias({ name: this.options.index })
          .catch(() => ({ body: {} }));
        const old = Object.keys(current.body);
        await this.client.indices.updateAliases({
          body: {
            actions: [
              ...old.map((i) => ({ remove: { index: i, alias: this.options.index } })),
              { add: { index, alias: this.options.index } },
            ],
          },
        });
        if (old.length) await this.client.indices.delete({ index: old });
        this.ready = Promise.resolve();
      },
      abort: async () => {
        await this.client.indices.delete({ index }).catch(() => undefined);
      },
    };
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
