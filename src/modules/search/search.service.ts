import type pg from 'pg';
import { borrowClient } from '../../platform/db/pool.ts';
import type { Logger } from 'pino';
import { AppError } from '../../platform/errors.ts';
import type { EventEnvelope } from '../../platform/events/outbox.ts';
import { defineConsumer, type ConsumerSpec } from '../../platform/events/bus.ts';
import type {
  Rebuild,
  SearchDocument,
  SearchEngine,
  SearchFacets,
  SearchQuery,
} from '../../platform/search/search-engine.ts';
import { defineJob, type Job } from '../../platform/jobs/job.ts';
import type { BroadcastCache } from '../../platform/cache/broadcast-cache.ts';
import type { CatalogService, Product, ProductSource } from '../catalog/catalog.service.ts';
import type { StatsService } from '../stats/stats.service.ts';

/** One advisory lock for everything that rebuilds the index (reindex, bulk load). */
const REINDEX_LOCK = 0x5f_5e_a4c1;

export interface BulkLoad {
  /** Indexes these products (into the new index, not searchable before `finish`). */
  add(productIds: string[]): Promise<void>;
  /** The same, from catalog rows the caller has just written (nothing read back). */
  addSources(rows: ProductSource[]): Promise<void>;
  finish(): Promise<void>;
  abort(): Promise<void>;
}

export interface Progress {
  done: number;
  total: number;
}

/** How far the index is from the catalog: counts, and the first few ids of each kind. */
export interface DriftReport {
  missing: number;
  stale: number;
  extra: number;
  examples: { missing: string[]; stale: string[]; extra: string[] };
  fixed: boolean;
}

/** How many ids of each kind a drift report names. */
const DRIFT_EXAMPLES = 20;

/** The rows a keyset-paged source returns, one at a time, in id order; a page in memory at most. */
async function* paged<T>(
  page: (after: string | null) => Promise<T[]>,
  idOf: (row: T) => string,
): AsyncGenerator<T> {
  let after: string | null = null;
  for (;;) {
    const rows = await page(after);
    if (rows.length === 0) return;
    yield* rows;
    after = idOf(rows[rows.length - 1]!);
  }
}

const BATCH = 2000;

/** The deepest result a search page may reach (page x size), whatever the engine. */
export const MAX_SEARCH_DEPTH = 10_000;

export class SearchService {
  constructor(
    private readonly deps: {
      pool: pg.Pool;
      engine: SearchEngine;
      catalog: CatalogService;
      stats: StatsService;
      logger: Logger;
      /**
       * Engine answers (hit ids and totals, suggestions) by query, emptied in every instance after
       * each index write. Hits are still hydrated live, so stock and prices are never cached here.
       */
      results?: BroadcastCache<object>;
    },
  ) {}

  /** The engine's answer to a query, through the results cache when there is one. */
  private cached<T extends object>(key: unknown, op: () => Promise<T>): Promise<T> {
    const results = this.deps.results;
    const run = () => this.engine(op);
    return results ? results.get(JSON.stringify(key), run) : run();
  }

  /** After every write to the index: cached answers may be wrong now. */
  private async indexChanged(): Promise<void> {
    await this.deps.results?.clearEverywhere();
  }

  /** Resolves when the search engine answers. */
  ping(): Promise<void> {
    return this.deps.engine.ping();
  }

  get engineName(): string {
    return this.deps.engine.name;
  }

  /** Full-text, typo-tolerant search; hits are shown as the catalog shows them (live stock). */
  async search(q: SearchQuery): Promise<{
    items: Product[];
    total: number;
    totalIsExact: boolean;
    page: number;
    size: number;
    facets?: SearchFacets;
  }> {
    if (q.minPrice !== undefined && q.maxPrice !== undefined && q.minPrice > q.maxPrice) {
      throw AppError.invalid('minPrice must not exceed maxPrice', [
        { field: 'minPrice', message: 'greater than maxPrice' },
      ]);
    }
    // Deep pages rank every match (and OpenSearch refuses from + size past 10,000): a client pages
    // through at most the first MAX_SEARCH_DEPTH results, with either engine.
    if (q.page * q.size > MAX_SEARCH_DEPTH) {
      throw new AppError(
        'invalid',
        'search_page_too_deep',
        `Search pages reach the first ${MAX_SEARCH_DEPTH} results (page x size): narrow the query`,
        { details: [{ field: 'page', message: `page x size must be at most ${MAX_SEARCH_DEPTH}` }] },
      );
    }
    const result = await this.cached(['search', q], () => this.deps.engine.search(q));
    let { productIds, total } = result;
    // A SKU typed in the search box (one word, no filters) finds its product, first on page 1.
    const word = q.q.trim();
    const filtered =
      q.categoryId !== undefined ||
      q.minPrice !== undefined ||
      q.maxPrice !== undefined ||
      q.tags?.length ||
      q.options?.length;
    if (q.page === 1 && !filtered && /^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$/.test(word)) {
      const bySku = await this.deps.catalog.productIdBySku(word);
      if (bySku) {
        if (!productIds.includes(bySku)) total += 1;
        productIds = [bySku, ...productIds.filter((id) => id !== bySku)].slice(0, q.size);
      }
    }
    const products = await Promise.all(
      productIds.map((id) => this.deps.catalog.getProduct(id).catch(() => undefined)),
    );
    const items = products
      .filter((p) => p !== undefined)
      .map(({ rating: _r, images: _i, options: _o, variants: _v, priceRange: _pr, ...p }) => p);
    return {
      items,
      total,
      totalIsExact: result.totalIsExact,
      page: q.page,
      size: q.size,
      ...(result.facets ? { facets: result.facets } : {}),
    };
  }

  async suggest(prefix: string): Promise<{ suggestions: { text: string; productId: string }[] }> {
    return { suggestions: await this.cached(['suggest', prefix], () => this.deps.engine.suggest(prefix, 5)) };
  }

  private async engine<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw AppError.unavailable('search', error);
    }
  }

  /** Index documents of these catalog rows, with their popularity from the statistics. */
  private async toDocs(rows: ProductSource[], paths: Map<string, string[]>): Promise<SearchDocument[]> {
    const popularity = rows.length
      ? await this.deps.stats.popularityOf(rows.map((r) => r.id))
      : new Map<string, number>();
    return rows.map((r) => ({
      productId: r.id,
      name: r.name,
      description: r.description,
      tags: r.tags,
      categoryId: r.category_id,
      categoryPath: r.category_id ? (paths.get(r.category_id) ?? [r.category_id]) : [],
      price: r.base_price,
      popularity: popularity.get(r.id) ?? 0,
      updatedAt: r.updated_at,
      variants: r.variants,
    }));
  }

  /** Makes the index match the catalog for these products (upsert live ones, remove the rest). */
  async sync(productIds: string[]): Promise<void> {
    if (productIds.length === 0) return;
    const rows = await this.deps.catalog.sources(productIds);
    const live = new Set(rows.map((r) => r.id));
    await this.deps.engine.upsert(await this.toDocs(rows, await this.deps.catalog.categoryPaths()));
    await this.deps.engine.remove(productIds.filter((id) => !live.has(id)));
    await this.indexChanged();
  }

  /** Every product updated since `since` (soft deletes included: they bump updated_at). */
  private async syncUpdatedSince(since: string): Promise<number> {
    let after: string | null = null;
    let n = 0;
    for (;;) {
      const ids = await this.deps.catalog.changedSince(since, after, BATCH);
      if (ids.length === 0) return n;
      await this.sync(ids);
      n += ids.length;
      after = ids[ids.length - 1]!;
    }
  }

  /**
   * A bulk load into an empty index (seeding a new catalog): batches go into a new index that has
   * no search structures yet; `finish` builds them once, swaps the new index in, and catches up
   * products changed meanwhile. Several times faster than indexing batch by batch; products become
   * searchable when `finish` returns. Undefined when the index is not empty (index batch by batch
   * with {@link sync} then) or a reindex is running.
   */
  async bulkLoad(): Promise<BulkLoad | undefined> {
    if ((await this.deps.engine.versions(null, 1)).length > 0) return undefined;
    // The lock's connection is held until finish/abort: borrowed, so its loss cannot end the process.
    const borrowed = await borrowClient(this.deps.pool);
    const client = borrowed.client;
    let rebuild: Rebuild | undefined;
    const unlock = async () => {
      const ok = await client.query('SELECT pg_advisory_unlock($1)', [REINDEX_LOCK]).then(
        () => true,
        () => false,
      );
      borrowed.release(!ok);
    };
    try {
      const { rows: lock } = await client.query<{ ok: boolean; now: string }>(
        'SELECT pg_try_advisory_lock($1) AS ok, NOW()::text AS now',
        [REINDEX_LOCK],
      );
      if (!lock[0]!.ok) {
        borrowed.release();
        return undefined;
      }
      const started = lock[0]!.now;
      const paths = await this.deps.catalog.categoryPaths();
      rebuild = await this.deps.engine.beginRebuild();
      const target = rebuild;
      return {
        add: async (ids) => {
          await target.write(await this.toDocs(await this.deps.catalog.sources(ids), paths));
        },
        addSources: async (rows) => {
          await target.write(await this.toDocs(rows, paths));
        },
        finish: async () => {
          try {
            await target.finish();
            await this.syncUpdatedSince(started);
            await this.indexChanged();
          } finally {
            await unlock();
          }
        },
        abort: async () => {
          try {
            await target.abort();
          } finally {
            await unlock();
          }
        },
      };
    } catch (error) {
      await rebuild?.abort().catch(() => undefined);
      await unlock();
      throw error;
    }
  }

  /** The indexer: keeps the engine in step with catalog events. Idempotent (it reads the current state). */
  consumer(): ConsumerSpec {
    return defineConsumer({
      name: 'search-indexer',
      bindings: ['product.created', 'product.updated', 'product.deleted', 'category.updated'],
      handler: async (event: EventEnvelope) => {
        if (event.type === 'category.updated') {
          const ids = await this.deps.catalog.productIdsUnder(event.aggregateId);
          for (let i = 0; i < ids.length; i += BATCH) await this.sync(ids.slice(i, i + BATCH));
          return;
        }
        await this.sync([event.aggregateId]);
      },
    });
  }

  /**
   * Rebuilds the whole index into a new one, in batches (never the catalog in memory), then swaps
   * it in; searches keep answering from the old index meanwhile. Changes made during the rebuild
   * are caught up after the swap.
   */
  async reindex(
    options: { onProgress?: (p: Progress) => void; signal?: AbortSignal } = {},
  ): Promise<{ indexed: number; caughtUp: number }> {
    // The lock's connection is held for the whole rebuild: borrowed, so its loss cannot end the process.
    const borrowed = await borrowClient(this.deps.pool);
    const client = borrowed.client;
    let discard = false;
    try {
      const { rows: lock } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [
        REINDEX_LOCK,
      ]);
      if (!lock[0]?.ok) throw AppError.conflict('reindex_running', 'A reindex is already running');
      try {
        const { rows: meta } = await this.deps.pool.query<{ now: string }>('SELECT NOW()::text AS now');
        const started = meta[0]!.now;
        const total = await this.deps.catalog.countLive();
        const paths = await this.deps.catalog.categoryPaths();
        const rebuild = await this.deps.engine.beginRebuild();
        let done = 0;
        try {
          let after: string | null = null;
          for (;;) {
            options.signal?.throwIfAborted();
            const rows = await this.deps.catalog.sourcesAfter(after, BATCH);
            if (rows.length === 0) break;
            await rebuild.write(await this.toDocs(rows, paths));
            done += rows.length;
            after = rows[rows.length - 1]!.id;
            options.onProgress?.({ done, total: Math.max(total, done) });
          }
          await rebuild.finish();
          await this.indexChanged();
        } catch (error) {
          await rebuild.abort();
          throw error;
        }
        return { indexed: done, caughtUp: await this.syncUpdatedSince(started) };
      } finally {
        // Closing the connection releases a session lock too.
        await client.query('SELECT pg_advisory_unlock($1)', [REINDEX_LOCK]).catch(() => (discard = true));
      }
    } finally {
      borrowed.release(discard);
    }
  }

  /** Compares catalog and index by id and updated_at; with `fix`, repairs what differs. */
  /**
   * Compares the index with the catalog in one pass over both, in product-id order (a merge of
   * two keyset-paged streams: memory holds a page of each, whatever the catalog's size), and with
   * `fix` repairs what differs in batches as it goes.
   */
  async reconcile(options: { fix: boolean }): Promise<DriftReport> {
    const report: DriftReport = {
      missing: 0,
      stale: 0,
      extra: 0,
      examples: { missing: [], stale: [], extra: [] },
      fixed: false,
    };
    const toSync: string[] = [];
    const flush = async () => {
      if (toSync.length === 0) return;
      await this.sync(toSync.splice(0));
      report.fixed = true;
    };
    const found = async (kind: 'missing' | 'stale' | 'extra', id: string) => {
      report[kind]++;
      if (report.examples[kind].length < DRIFT_EXAMPLES) report.examples[kind].push(id);
      if (!options.fix) return;
      toSync.push(id);
      if (toSync.length >= BATCH) await flush();
    };
    // Both sources page by id with the same order (UUIDs as lowercase text compare as they sort).
    const catalog = paged(
      (after) => this.deps.catalog.versionsAfter(after, 10_000),
      (r) => r.id,
    );
    const index = paged(
      (after) => this.deps.engine.versions(after, 10_000),
      (v) => v.productId,
    );
    let c = await catalog.next();
    let i = await index.next();
    for (;;) {
      const row = c.done ? undefined : c.value;
      const doc = i.done ? undefined : i.value;
      if (row && (!doc || row.id < doc.productId)) {
        await found('missing', row.id);
        c = await catalog.next();
      } else if (doc && (!row || doc.productId < row.id)) {
        await found('extra', doc.productId);
        i = await index.next();
      } else if (row && doc) {
        if (Date.parse(toIso(row.updated_at)) !== Date.parse(toIso(doc.updatedAt)))
          await found('stale', row.id);
        c = await catalog.next();
        i = await index.next();
      } else break;
    }
    await flush();
    return report;
  }

  /** Copies popularity from product_stats into the index (after a stats refresh). */
  async syncPopularity(): Promise<number> {
    let after: string | null = null;
    let n = 0;
    for (;;) {
      const rows = await this.deps.stats.popularityAfter(after, 10_000);
      if (rows.length === 0) {
        await this.indexChanged();
        return n;
      }
      await this.deps.engine.setPopularity(rows);
      n += rows.length;
      after = rows[rows.length - 1]!.productId;
    }
  }

  /** Repairs drift between the catalog and the index. */
  reconcileJob(): Job {
    return defineJob({
      name: 'search-reconcile',
      schedule: '*/15 * * * *',
      description:
        'Compares the search index with the catalog and repairs missing, stale and extra documents',
      run: async () => {
        const r = await this.reconcile({ fix: true });
        if (r.fixed)
          this.deps.logger.warn(
            { missing: r.missing, stale: r.stale, extra: r.extra },
            'search index drift repaired',
          );
        return { missing: r.missing, stale: r.stale, extra: r.extra };
      },
    });
  }

  /** Copies popularity from product_stats into the index, so that ranking follows sales and reviews. */
  popularityJob(): Job {
    return defineJob({
      name: 'search-popularity-sync',
      schedule: '*/5 * * * *',
      description: 'Copies popularity from product_stats into the search index',
      run: async () => ({ products: await this.syncPopularity() }),
    });
  }
}

/** PostgreSQL timestamp text to ISO (for comparing versions from different engines). */
function toIso(s: string): string {
  return s.includes('T') ? s : s.replace(' ', 'T').replace(/([+-]\d{2})$/, '$1:00');
}
