/**
 * The PostgreSQL search engine: `search_documents` with a weighted tsvector (name A, tags B,
 * description C) in a Portuguese configuration that folds accents, trigram indexes for typos, and
 * a vocabulary table (`search_words`) to correct misspelt words before the full-text match.
 */
import { LRUCache } from 'lru-cache';
import type pg from 'pg';
import { borrowClient } from '../db/pool.ts';
import { withTransaction } from '../db/transaction.ts';
import { baseFilters, FACET_PRODUCT_CAP, facetsStatement, variantFilters } from './postgres.search-query.ts';
import {
  FACET_LIMITS,
  groupFacets,
  searchWords,
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

const MAX_TERMS = 8;
/** Totals are exact up to this many matches (counting further reads every match). */
export const PG_EXACT_TOTAL_CAP = 1_000;
/** How far the popularity index is walked for a page of name matches (see search). */
const BUCKET = 10_000;
/** Pages ending beyond this are ranked in full rather than walked to. */
const MAX_WALKED_PAGE_END = 200;
const TABLE = 'search_documents';
const REBUILD = 'search_documents_rebuild';
/** Index definitions of the search table, recreated on a rebuilt table before the swap. */
const INDEXES: [name: string, definition: string][] = [
  ['idx_search_tsv', 'USING GIN (tsv)'],
  ['idx_search_name_trgm', 'USING GIN (name_folded gin_trgm_ops)'],
  ['idx_search_category_path', 'USING GIN (category_path)'],
  ['idx_search_tags', 'USING GIN (tags)'],
  ['idx_search_price', '(price)'],
  ['idx_search_popularity', '(popularity DESC, product_id)'],
  ['idx_search_option_values', 'USING GIN (option_values)'],
];

const UPSERT_COLUMNS = `(product_id, name, description, tags, category_id, category_path, price, popularity,
  source_updated_at, max_price, option_values, variants)`;
// Table names below come from the two constants above, never from input.
const upsertSql = (table: string) => `INSERT INTO ${table} ${UPSERT_COLUMNS}
  SELECT d.product_id, d.name, d.description, d.tags, d.category_id, d.category_path, d.price, d.popularity, d.updated_at,
         d.max_price, d.option_values, d.variants
  FROM jsonb_to_recordset($1::jsonb) AS d(product_id uuid, name text, description text, tags text[], category_id uuid,
       category_path uuid[], price int, popularity real, updated_at timestamptz, max_price int, option_values text[],
       variants jsonb)
  ON CONFLICT (product_id) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description,
    tags = EXCLUDED.tags, category_id = EXCLUDED.category_id, category_path = EXCLUDED.category_path,
    price = EXCLUDED.price, popularity = EXCLUDED.popularity, source_updated_at = EXCLUDED.source_updated_at,
    max_price = EXCLUDED.max_price, option_values = EXCLUDED.option_values, variants = EXCLUDED.variants`;

/** The variants of a document as indexed: each one's price and pairs (its price alone when it has none). */
const indexedVariants = (d: SearchDocument) =>
  (d.variants.length ? d.variants : [{ price: d.price, options: {} }]).map((v) => ({
    p: v.price,
    o: variantPairs(v.options),
  }));

const toRecordset = (docs: SearchDocument[]) =>
  JSON.stringify(
    docs.map((d) => ({
      product_id: d.productId,
      name: d.name,
      description: d.description,
      tags: d.tags,
      category_id: d.categoryId,
      category_path: d.categoryPath,
      price: d.price,
      popularity: d.popularity,
      updated_at: d.updatedAt,
      max_price: Math.max(d.price, ...d.variants.map((v) => v.price)),
      option_values: productPairs(d.variants),
      variants: indexedVariants(d),
    })),
  );

const byCategoryThenPopularity = (a: SearchDocument, b: SearchDocument): number => {
  const ka = a.categoryPath.join('/');
  const kb = b.categoryPath.join('/');
  return ka < kb ? -1 : ka > kb ? 1 : b.popularity - a.popularity;
};

const vocabulary = (docs: SearchDocument[]) => [
  ...new Set(
    docs
      .flatMap((d) => searchWords(`${d.name} ${d.tags.join(' ')}`))
      .filter((w) => w.length >= 3 && w.length <= 40),
  ),
];

/** Builds the rebuild table's indexes taken from `queue` until it is empty, on one connection. */
async function buildIndexes(pool: pg.Pool, queue: [string, string][]): Promise<void> {
  const borrowed = await borrowClient(pool);
  const client = borrowed.client;
  let reset = false;
  try {
    // Index builds sort in memory up to this (the default, 64 MB, spills a big catalog to disk).
    await client.query("SET maintenance_work_mem = '256MB'");
    for (let next = queue.shift(); next; next = queue.shift())
      // The name and definition come from INDEXES, the table is REBUILD: fixed, never input.
      await client.query(`CREATE INDEX ${next[0]}_rebuild ON ${REBUILD} ${next[1]}`);
    await client.query('RESET maintenance_work_mem');
    reset = true;
  } finally {
    // A connection left with the larger setting is closed rather than pooled.
    borrowed.release(!reset);
  }
}

/**
 * Statements here name tables by the constants TABLE and REBUILD and indexes from INDEXES: fixed
 * identifiers, never input. Every value is bound as a parameter.
 */
export class PostgresSearchEngine implements SearchEngine {
  readonly name = 'postgres';

  constructor(private readonly deps: { pool: pg.Pool; read?: pg.Pool }) {}

  private get read(): pg.Pool {
    return this.deps.read ?? this.deps.pool;
  }

  /**
   * Corrections by word, kept a minute: the vocabulary only grows, and a word that became known
   * meanwhile is still searched for as typed (its correction is an alternative, not a
   * replacement), so a stale entry costs nothing but the extra alternative.
   */
  private readonly corrections = new LRUCache<string, string[]>({ max: 10_000, ttl: 60_000 });

  /** Each query word, or its closest known word when it is not known (typo tolerance). */
  private async correct(words: string[]): Promise<string[][]> {
    const unknown = [...new Set(words.filter((w) => !this.corrections.has(w)))];
    if (unknown.length > 0) {
      const { rows } = await this.read.query<{ term: string; fix: string | null }>({
        name: 'search_correct',
        text: `SELECT t.term, CASE WHEN NOT EXISTS (SELECT 1 FROM search_words w WHERE w.word = t.term)
                 THEN (SELECT w.word FROM search_words w WHERE w.word % t.term ORDER BY w.word <-> t.term LIMIT 1)
               END AS fix
               FROM unnest($1::text[]) AS t(term)`,
        values: [unknown],
      });
      for (const r of rows)
        this.corrections.set(r.term, r.fix && r.fix !== r.term ? [r.term, r.fix] : [r.term]);
    }
    return words.map((w) => this.corrections.get(w) ?? [w]);
  }

  async search(q: SearchQuery): Promise<SearchResult> {
    const words = searchWords(q.q).slice(0, MAX_TERMS);
    const alternatives = await this.correct(words.filter((w) => w.length >= 3 || /\d/.test(w)));
    // Words are [a-z0-9]+ only, so they are safe tsquery operands; the string is still bound.
    const tsquery = alternatives.map((alts) => `(${alts.join(' | ')})`).join(' & ');
    const [result, facets] = await Promise.all([
      this.hits(q, alternatives, tsquery),
      q.facets ? this.facets(q, tsquery) : undefined,
    ]);
    return facets ? { ...result, facets } : result;
  }

  /** Facet counts of a query (see facetsStatement). */
  private async facets(q: SearchQuery, tsquery: string): Promise<SearchFacets> {
    const { text, values } = facetsStatement(q, tsquery);
    type Row = {
      n: number;
      counts: { pair: string; count: number }[];
      price: { min: number | null; max: number | null };
    };
    const row = await withTransaction(this.read, async (tx) => {
      // The planner guesses 100 elements per JSON array (10 variants a product, 2 pairs a variant
      // are typical), so the estimate passes the JIT thresholds and compiling took 1.1 s of a
      // 1.3 s answer (EXPLAIN ANALYZE, 794 products of a 20,000-product seed); without it the
      // search with facets answers in about 80 ms there (a shared 2-core machine).
      await tx.query('SET LOCAL jit = off');
      return (await tx.query<Row>(text, values)).rows[0]!;
    });
    const { min, max } = row.price;
    return {
      options: groupFacets(row.counts, FACET_LIMITS),
      price: min === null || max === null ? null : { min, max },
      exact: row.n <= FACET_PRODUCT_CAP,
    };
  }

  private async hits(q: SearchQuery, alternatives: string[][], tsquery: string): Promise<SearchResult> {
    const values: unknown[] = [];
    const bind = (v: unknown) => `$${values.push(v)}`;
    const where = [...baseFilters(q, tsquery, bind), ...variantFilters(q, bind)];
    const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
    // Matches counted exactly up to the cap: the count stops reading there.
    const count = `(SELECT COUNT(*)::int FROM (SELECT 1 FROM ${TABLE} ${filter} LIMIT ${PG_EXACT_TOTAL_CAP + 1}) c)`;
    const at = (q.page - 1) * q.size;
    let ids: string[];
    let n: number;
    if (!tsquery) {
      // Popularity order walks an index and stops at the page.
      ({ ids, n } = await this.page(
        `SELECT product_id FROM ${TABLE} ${filter} ORDER BY popularity DESC, product_id`,
        count,
        values,
        q.size,
        at,
      ));
    } else {
      // Relevance in tiers: every word in the name (weight A), else in the name or tags (A, B),
      // else anywhere (the description); most popular first within a tier. The tiers are plain
      // matches, so ranking costs a boolean per match, not a ts_rank over its whole tsvector.
      const inName = alternatives.map((alts) => `(${alts.map((w) => `${w}:A`).join(' | ')})`).join(' & ');
      const inNameOrTags = inName.replaceAll(':A', ':AB');
      const args = [...values, inName, inNameOrTags];
      const ranked = `SELECT product_id FROM (
           SELECT product_id, popularity,
                  tsv @@ to_tsquery('shopflow_pt', $${args.length - 1}) AS in_name,
                  tsv @@ to_tsquery('shopflow_pt', $${args.length}) AS in_tags
           FROM ${TABLE} ${filter} OFFSET 0
         ) matches
         ORDER BY in_name DESC, in_tags DESC, popularity DESC, product_id`;
      const need = at + q.size;
      if (need <= MAX_WALKED_PAGE_END) {
        // Few matches (up to the cap): every one is ranked, which is cheap. More: the popularity
        // index is walked for name matches (most popular first), stopping at the end of the
        // page: when the first BUCKET products hold that many, they are the page (nothing later
        // ranks before them: the same tier at most, and less popular), however many products
        // the words match. The count decides, and only the branch taken runs.
        const walkArgs = [...args, need, q.size, at];
        const { rows } = await this.read.query<{ ids: string[]; n: number; walked: boolean }>(
          `WITH c AS MATERIALIZED (SELECT ${count} AS n)
           SELECT n, n > ${PG_EXACT_TOTAL_CAP} AS walked,
             CASE WHEN n > ${PG_EXACT_TOTAL_CAP} THEN ARRAY(
               SELECT product_id FROM (
                 SELECT product_id, popularity, tsv, category_path, price, tags, max_price, option_values, variants
                 FROM ${TABLE}
                 ORDER BY popularity DESC, product_id LIMIT ${BUCKET}
               ) top
               ${filter} AND tsv @@ to_tsquery('shopflow_pt', $${args.length - 1})
               ORDER BY popularity DESC, product_id LIMIT $${walkArgs.length - 2}
             ) ELSE ARRAY(${ranked} LIMIT $${walkArgs.length - 1} OFFSET $${walkArgs.length}) END AS ids
           FROM c`,
          walkArgs,
        );
        const row = rows[0]!;
        if (!row.walked) return this.result(row.ids, row.n);
        if (row.ids.length === need) return this.result(row.ids.slice(at), row.n);
      }
      // Deep pages, and words seldom in names: every match is ranked.
      ({ ids, n } = await this.page(ranked, count, args, q.size, at));
    }
    return this.result(ids, n);
  }

  private result(ids: string[], n: number): SearchResult {
    return { productIds: ids, total: Math.min(n, PG_EXACT_TOTAL_CAP), totalIsExact: n <= PG_EXACT_TOTAL_CAP };
  }

  /** One page of `ordered` (a statement returning product_id) with the capped `count` beside it. */
  private async page(
    ordered: string,
    count: string,
    values: unknown[],
    size: number,
    at: number,
  ): Promise<{ ids: string[]; n: number }> {
    const args = [...values, size, at];
    const { rows } = await this.read.query<{ ids: string[]; n: number }>(
      `SELECT ARRAY(${ordered} LIMIT $${args.length - 1} OFFSET $${args.length}) AS ids, ${count} AS n`,
      args,
    );
    return { ids: rows[0]!.ids, n: rows[0]!.n };
  }

  async suggest(prefix: string, size: number): Promise<Suggestion[]> {
    const words = searchWords(prefix).slice(0, MAX_TERMS);
    if (words.length === 0) return [];
    const head = words.slice(0, -1);
    const last = words[words.length - 1]!;
    const run = async (lastWord: string) => {
      const folded = [...head, lastWord].join(' ');
      const { rows } = await this.read.query<{ name: string; product_id: string }>({
        name: 'search_suggest',
        // Names starting with the words typed, or containing them as a word prefix; best sellers first.
        text: `SELECT DISTINCT ON (name_folded) name, product_id, popularity FROM (
                 SELECT name, name_folded, product_id, popularity FROM ${TABLE}
                 WHERE name_folded LIKE $1 || '%' OR name_folded LIKE '% ' || $1 || '%'
                 ORDER BY popularity DESC LIMIT 50
               ) t ORDER BY name_folded, popularity DESC`,
        values: [folded],
      });
      return rows;
    };
    let rows = await run(last);
    if (rows.length < size && last.length >= 3) {
      // Typo tolerance: complete from the closest known word that the typed word starts like.
      const { rows: fixes } = await this.read.query<{ word: string }>({
        name: 'search_suggest_fix',
        text: `SELECT word FROM search_words WHERE word % $1 OR word LIKE left($1, 3) || '%' AND word % $1
               ORDER BY word <-> $1 LIMIT 1`,
        values: [last],
      });
      const fix = fixes[0]?.word;
      if (fix && fix !== last)
        rows = [...rows, ...(await run(fix)).filter((r) => !rows.some((x) => x.product_id === r.product_id))];
    }
    return rows.slice(0, size).map((r) => ({ text: r.name, productId: r.product_id }));
  }

  async upsert(docs: SearchDocument[]): Promise<void> {
    if (docs.length === 0) return;
    await withTransaction(this.deps.pool, async (tx) => {
      await tx.query(upsertSql(TABLE), [toRecordset(docs)]);
      await tx.query('INSERT INTO search_words (word) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING', [
        vocabulary(docs),
      ]);
    });
  }

  async remove(productIds: string[]): Promise<void> {
    // TABLE is a fixed identifier; the ids are bound.
    if (productIds.length)
      await this.deps.pool.query(`DELETE FROM ${TABLE} WHERE product_id = ANY($1::uuid[])`, [productIds]);
  }

  async versions(afterId: string | null, limit: number): Promise<{ productId: string; updatedAt: string }[]> {
    const { rows } = await this.read.query<{ product_id: string; updated_at: string }>(
      `SELECT product_id, source_updated_at::text AS updated_at FROM ${TABLE}
       WHERE $1::uuid IS NULL OR product_id > $1::uuid ORDER BY product_id LIMIT $2`,
      [afterId, limit],
    );
    return rows.map((r) => ({ productId: r.product_id, updatedAt: r.updated_at }));
  }

  async setPopularity(scores: { productId: string; popularity: number }[]): Promise<void> {
    if (scores.length === 0) return;
    await this.deps.pool.query(
      `UPDATE ${TABLE} s SET popularity = u.p FROM unnest($1::uuid[], $2::real[]) AS u(id, p)
       WHERE s.product_id = u.id AND s.popularity IS DISTINCT FROM u.p`,
      [scores.map((s) => s.productId), scores.map((s) => s.popularity)],
    );
  }

  /**
   * Builds a new table beside the live one (searches keep using the old), adds the indexes once
   * filled, and swaps the two in one short transaction.
   */
  async beginRebuild(): Promise<Rebuild> {
    const pool = this.deps.pool;
    // REBUILD and TABLE are fixed identifiers (constants above), never input.
    await pool.query(`DROP TABLE IF EXISTS ${REBUILD}`);
    await pool.query(
      `CREATE TABLE ${REBUILD} (LIKE ${TABLE} INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING CONSTRAINTS)`,
    );
    await pool.query(`ALTER TABLE ${REBUILD} ADD PRIMARY KEY (product_id)`);
    return {
      write: async (docs) => {
        if (docs.length === 0) return;
        // Written by category, the most popular first: the products a word matches mostly share a
        // few categories, so its matches land on neighbouring pages instead of one page each, and
        // a query reads several times fewer pages (at 100,000 products, "camiseta": 3,933 matches
        // on 311 pages instead of 3,150). Each batch is sorted; the bigger the batch, the better.
        await pool.query(upsertSql(REBUILD), [toRecordset([...docs].sort(byCategoryThenPopularity))]);
        await pool.query('INSERT INTO search_words (word) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING', [
          vocabulary(docs),
        ]);
      },
      finish: async () => {
        // Two builds at a time, each on its own connection (and core).
        const queue = [...INDEXES];
        const built = await Promise.allSettled([0, 1].map(() => buildIndexes(pool, queue)));
        for (const b of built) if (b.status === 'rejected') throw b.reason;
        await pool.query(`ANALYZE ${REBUILD}`); // a fixed identifier
        await withTransaction(pool, async (tx) => {
          await tx.query(`LOCK TABLE ${TABLE} IN ACCESS EXCLUSIVE MODE`);
          await tx.query(`DROP TABLE ${TABLE}`);
          await tx.query(`ALTER TABLE ${REBUILD} RENAME TO ${TABLE}`);
          await tx.query(`ALTER INDEX ${REBUILD}_pkey RENAME TO ${TABLE}_pkey`);
          for (const [name] of INDEXES) await tx.query(`ALTER INDEX ${name}_rebuild RENAME TO ${name}`);
        });
      },
      abort: async () => {
        await pool.query(`DROP TABLE IF EXISTS ${REBUILD}`);
      },
    };
  }

  async ping(): Promise<void> {
    await this.read.query(`SELECT 1 FROM ${TABLE} LIMIT 1`);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
