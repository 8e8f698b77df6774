/**
 * Catalog CSV import and export (docs/catalog-import.md). The import reads its file twice as a
 * stream: first to validate every row (nothing written; the file's SKUs and handles are the only
 * state kept), then, when the file is good (or `partial`), to write its products in batches of a
 * bounded size, each batch in one transaction, re-planned against the rows it locks. Memory is
 * bounded by a batch, not by the file (but for the image URLs it lists: each is fetched once, in
 * a phase between the two passes, and what it was stored as is kept until the import ends).
 */
import type { Readable } from 'node:stream';
import { parse, CsvError } from 'csv-parse';
import { stringify } from 'csv-stringify';
import type { Database } from '../../platform/db/pool.ts';
import { withTransaction, type Tx } from '../../platform/db/transaction.ts';
import { recordEvents } from '../../platform/events/outbox.ts';
import type { InventoryService, StockLevel } from '../inventory/inventory.service.ts';
import type { CatalogCache } from './catalog-cache.ts';
import { catalogSql } from './catalog.sql.ts';
import { productEvent, slugify } from './catalog.model.ts';
import {
  assembleProduct,
  CATEGORY_SEPARATOR,
  checkHeader,
  CSV_COLUMNS,
  formatMoney,
  LIST_SEPARATOR,
  parseVariant,
  productFields,
  type CsvProduct,
  type CsvRecord,
  type CsvVariant,
  type ImportError,
  type ProductFields,
} from './catalog-csv.model.ts';
import { catalogCsvSql, type ExportRow } from './catalog-csv.sql.ts';
import { planBatch, type BatchPlan } from './catalog-csv.plan.ts';
import { ImageResolutions, isImageUrl, type CatalogImages } from './catalog-csv.images.ts';

export interface ImportOptions {
  dryRun: boolean;
  partial: boolean;
  /** Products per transaction (default 500). */
  batchSize?: number;
  /** Rows read so far in a phase (validation, then writing). */
  onProgress?: (phase: 'validate' | 'write', rows: number) => void;
}

export interface ImportSummary {
  dryRun: boolean;
  /** Whether anything was written. */
  written: boolean;
  rows: number;
  productsCreated: number;
  productsUpdated: number;
  variantsCreated: number;
  variantsUpdated: number;
  errors: ImportError[];
}

interface Group {
  handle: string;
  rows: { line: number; fields: ProductFields; variant: CsvVariant | undefined }[];
}

interface ReadState {
  rows: number;
  errors: ImportError[];
  /** Handle -> the line it was first seen on (a handle's rows must be consecutive). */
  seen: Map<string, number>;
  skus: Map<string, { line: number; handle: string }>;
  bad: Set<string>;
}

const newState = (): ReadState => ({ rows: 0, errors: [], seen: new Map(), skus: new Map(), bad: new Set() });

type Counts = Pick<
  ImportSummary,
  'productsCreated' | 'productsUpdated' | 'variantsCreated' | 'variantsUpdated'
>;
const zero = (): Counts => ({
  productsCreated: 0,
  productsUpdated: 0,
  variantsCreated: 0,
  variantsUpdated: 0,
});
const add = (c: Counts, p: BatchPlan) => {
  c.productsCreated += p.created.length;
  c.productsUpdated += p.changed.length;
  c.variantsCreated += p.variantsCreated;
  c.variantsUpdated += p.variantsUpdated;
};

export class CatalogImportService {
  constructor(
    private readonly deps: {
      db: Database;
      inventory: Pick<InventoryService, 'setLevelsInTx' | 'events' | 'notify' | 'analyze'>;
      cache?: CatalogCache;
      /** The images of the `images` column (without: only keys a product already has). */
      images?: CatalogImages;
    },
  ) {}

  /** Imports the CSV `open()` returns (called once per pass: the file is read twice). */
  async import(open: () => Readable, options: ImportOptions): Promise<ImportSummary> {
    const size = options.batchSize ?? 500;
    const categories = await this.categoryPaths();
    const state = newState();
    const counts = zero();
    const missingCategories = new Set<string>();
    // Whether each batch had anything to change when validated: the write pass skips the others
    // (both passes cut the file into the same batches), so a rerun of the same file reads it twice
    // and writes nothing.
    const planned: boolean[] = [];
    const images = new ImageResolutions(this.deps.images);
    /** Each image URL of the file: the products (handle, first line) that list it. */
    const urls = new Map<string, { handle: string; line: number }[]>();
    for await (const batch of this.batches(open(), state, size, 'validate', options)) {
      const plan = await this.plan(this.deps.db.primary, batch, categories, false, images);
      planned.push(plan.created.length + plan.changed.length > 0);
      for (const h of plan.bad) state.bad.add(h);
      state.errors.push(...plan.errors);
      add(counts, plan);
      for (const p of batch) if (!plan.bad.has(p.handle)) collectUrls(p, urls);
      for (const p of batch)
        if (
          !plan.bad.has(p.handle) &&
          p.category.length &&
          !categories.has(p.category.join(CATEGORY_SEPARATOR))
        )
          missingCategories.add(p.category.join(CATEGORY_SEPARATOR));
    }
    const errors = state.errors.sort(byLine);
    const summary = { dryRun: options.dryRun, rows: state.rows, errors };
    if (options.dryRun || (errors.length > 0 && !options.partial))
      return { ...summary, written: false, ...counts };
    // Image URLs are fetched (and stored) before anything is written: a URL that fails fails its
    // products like any other error (nothing written, unless partial).
    await images.fetchUrls(urls, state.bad, errors);
    urls.clear();
    errors.sort(byLine);
    if (errors.length > 0 && !options.partial) return { ...summary, written: false, ...counts };
    for (const path of [...missingCategories].sort())
      await this.ensureCategory(path.split(CATEGORY_SEPARATOR), categories);
    const written = zero();
    const again = newState();
    let batches = 0;
    let index = -1;
    for await (const batch of this.batches(open(), again, size, 'write', options)) {
      const good = batch.filter((p) => !state.bad.has(p.handle));
      if (!planned[++index] || good.length === 0) continue;
      const plan = await this.writeBatch(good, categories, images);
      add(written, plan);
      // Rows the store changed under since validation (another writer took a SKU): skipped, reported.
      errors.push(...plan.errors);
      // Statistics follow the tables as they grow (after 1, 2, 4, 8... batches that created rows).
      if (plan.createVariants.length && (++batches & (batches - 1)) === 0) await this.analyze();
    }
    return { ...summary, written: true, ...written };
  }

  /** The products of a file in batches; bad rows are reported in `state` (and their products left out). */
  private async *batches(
    input: Readable,
    state: ReadState,
    size: number,
    phase: 'validate' | 'write',
    options: ImportOptions,
  ): AsyncGenerator<CsvProduct[]> {
    let batch: CsvProduct[] = [];
    for await (const group of readGroups(input, state)) {
      const product = assembleProduct(group.handle, group.rows, state.errors);
      if (product && !state.bad.has(group.handle)) batch.push(product);
      else state.bad.add(group.handle);
      if (batch.length >= size) {
        yield batch;
        batch = [];
        options.onProgress?.(phase, state.rows);
      }
    }
    if (batch.length) yield batch;
    options.onProgress?.(phase, state.rows);
  }

  private async plan(
    db: Database['primary'] | Tx,
    batch: CsvProduct[],
    categories: Map<string, string>,
    lock: boolean,
    images: ImageResolutions,
  ): Promise<BatchPlan> {
    const existing = await catalogCsvSql.existing(
      db,
      batch.map((p) => p.handle),
      lock,
    );
    await images.readKeys(batch, (handle) => existing.get(handle)?.images ?? []);
    const skuOwners = await catalogCsvSql.skuOwners(
      db,
      batch.flatMap((p) => p.variants.map((v) => v.sku)),
    );
    return planBatch({
      products: batch,
      existing,
      skuOwners,
      categoryId: (path) => (path.length ? categories.get(path.join(CATEGORY_SEPARATOR)) : null),
      image: (entry) => images.get(entry),
    });
  }

  /** One batch in one transaction, planned again against its locked rows; then events, caches, stock listeners. */
  private async writeBatch(
    batch: CsvProduct[],
    categories: Map<string, string>,
    images: ImageResolutions,
  ): Promise<BatchPlan> {
    const db = this.deps.db.primary;
    const { plan, levels } = await withTransaction(db, async (tx) => {
      const plan = await this.plan(tx, batch, categories, true, images);
      await catalogCsvSql.insertProducts(tx, plan.createProducts);
      await catalogCsvSql.updateProducts(tx, plan.updateProducts);
      await catalogCsvSql.upsertOptions(tx, plan.options);
      await catalogCsvSql.insertVariants(tx, plan.createVariants);
      await catalogCsvSql.updateVariants(tx, plan.updateVariants);
      if (plan.images.length) await this.requireImages().setProductImagesInTx(tx, plan.images);
      await catalogCsvSql.syncBasePrices(tx, plan.changed);
      const stock = [...plan.stock].sort((a, b) => (a.variantId < b.variantId ? -1 : 1));
      const levels = await this.deps.inventory.setLevelsInTx(tx, stock);
      await recordEvents(tx, [
        ...plan.created.map((id) => productEvent('product.created', id)),
        ...plan.changed.map((id) => productEvent('product.updated', id, { fields: ['import'] })),
        ...this.deps.inventory.events(levels),
      ]);
      return { plan, levels };
    });
    await this.afterCommit(plan, batch, categories, levels);
    return plan;
  }

  private async afterCommit(
    plan: BatchPlan,
    batch: CsvProduct[],
    categories: Map<string, string>,
    levels: StockLevel[],
  ): Promise<void> {
    this.deps.inventory.notify(levels);
    const cache = this.deps.cache;
    if (!cache || (plan.created.length === 0 && plan.changed.length === 0)) return;
    await Promise.all(plan.changed.map((id) => cache.invalidateProduct(id)));
    const direct = new Set<string>();
    for (const p of batch) {
      const id = p.category.length ? categories.get(p.category.join(CATEGORY_SEPARATOR)) : undefined;
      if (id) direct.add(id);
    }
    for (const p of plan.updateProducts) if (p.categoryId) direct.add(p.categoryId);
    await cache.invalidateListings(
      direct.size ? await catalogSql.ancestry(this.deps.db.primary, [...direct]) : [],
    );
  }

  private requireImages(): CatalogImages {
    if (!this.deps.images) throw new Error('catalog import: no image store to write images with');
    return this.deps.images;
  }

  private async analyze(): Promise<void> {
    await catalogCsvSql.analyze(this.deps.db.primary);
    await this.deps.inventory.analyze();
  }

  /** Every live category by its path of names (`Roupas > Camisetas`). */
  private async categoryPaths(): Promise<Map<string, string>> {
    const rows = await catalogSql.listCategories(this.deps.db.primary);
    const byId = new Map(rows.map((r) => [r.id, r]));
    const out = new Map<string, string>();
    for (const r of rows) {
      const names: string[] = [];
      for (
        let c: typeof r | undefined = r;
        c && names.length < 50;
        c = c.parent_id ? byId.get(c.parent_id) : undefined
      )
        names.unshift(c.name);
      const path = names.join(CATEGORY_SEPARATOR);
      if (!out.has(path)) out.set(path, r.id);
    }
    return out;
  }

  /** Creates the missing categories of a path, parents first (slug from the name, numbered when taken). */
  private async ensureCategory(path: string[], categories: Map<string, string>): Promise<void> {
    let parentId: string | null = null;
    for (let i = 1; i <= path.length; i++) {
      const key = path.slice(0, i).join(CATEGORY_SEPARATOR);
      let id = categories.get(key);
      if (!id) {
        const name = path[i - 1]!;
        const base = (slugify(name) || 'categoria').slice(0, 240).replace(/-+$/, '');
        let slug = base;
        for (let n = 2; await catalogCsvSql.categorySlugTaken(this.deps.db.primary, slug); n++)
          slug = `${base}-${n}`;
        id = (await catalogSql.insertCategory(this.deps.db.primary, { name, slug, parentId })).id;
        categories.set(key, id);
      }
      parentId = id;
    }
  }

  /** The live catalog as CSV text, a page of products at a time (products by handle, variants by position then SKU). */
  async *exportCsv(pageSize = 500): AsyncGenerator<string> {
    const categories = new Map([...(await this.categoryPaths())].map(([path, id]) => [id, path]));
    const csv = stringify({ header: true, columns: [...CSV_COLUMNS], eof: true });
    const chunks: string[] = [];
    csv.on('data', (c: Buffer | string) => chunks.push(c.toString()));
    let after: string | null = null;
    for (;;) {
      const rows = await catalogCsvSql.exportPage(this.deps.db.primary, after, pageSize);
      for (const r of rows) csv.write(exportRecord(r, categories));
      await new Promise<void>((resolve) => setImmediate(resolve));
      yield chunks.splice(0).join('');
      const last = rows.at(-1);
      if (!last) break;
      after = last.slug;
      if (new Set(rows.map((r) => r.slug)).size < pageSize) break;
    }
    const ended = new Promise<void>((resolve) => csv.on('end', resolve));
    csv.end();
    csv.resume();
    await ended;
    if (chunks.length) yield chunks.join('');
  }
}

const byLine = (a: ImportError, b: ImportError) => a.line - b.line;

/** Adds the image URLs a product lists to `urls` (URL -> the products listing it). */
function collectUrls(p: CsvProduct, urls: Map<string, { handle: string; line: number }[]>): void {
  for (const entry of p.images) {
    if (!isImageUrl(entry)) continue;
    const users = urls.get(entry);
    if (users) users.push({ handle: p.handle, line: p.line });
    else urls.set(entry, [{ handle: p.handle, line: p.line }]);
  }
}

function exportRecord(r: ExportRow, categories: Map<string, string>): Record<string, string> {
  const rec: Record<string, string> = {
    handle: r.slug,
    name: r.name,
    description: r.description ?? '',
    category: r.category_id ? (categories.get(r.category_id) ?? '') : '',
    tags: r.tags.join(LIST_SEPARATOR),
    sku: r.sku,
    price: formatMoney(r.price),
    compare_at_price: r.compare_at_price === null ? '' : formatMoney(r.compare_at_price),
    stock: String(r.available_quantity),
    gtin: r.gtin ?? '',
    weight_grams: r.weight_grams === null ? '' : String(r.weight_grams),
    length_cm: r.length_cm ?? '',
    width_cm: r.width_cm ?? '',
    height_cm: r.height_cm ?? '',
    position: String(r.position),
    images: r.images.join(LIST_SEPARATOR),
  };
  r.option_names.forEach((name, i) => {
    rec[`option${i + 1}_name`] = name;
    rec[`option${i + 1}_value`] = r.options[name] ?? '';
  });
  return rec;
}

/** Parses a CSV stream into handle groups (a handle's consecutive rows), checking each row. */
async function* readGroups(input: Readable, state: ReadState): AsyncGenerator<Group> {
  const parser = input.pipe(parse({ bom: true, skip_empty_lines: true, relax_column_count: true }));
  let header: string[] | undefined;
  let current: Group | undefined;
  try {
    for await (const fields of parser as AsyncIterable<string[]>) {
      if (!header) {
        header = fields.map((h) => h.trim().toLowerCase());
        state.errors.push(...checkHeader(header));
        if (state.errors.length) break;
        continue;
      }
      // A row's line is its number as a spreadsheet shows it (the header is line 1): the text
      // line too, unless a field spans several lines.
      state.rows++;
      const line = state.rows + 1;
      if (fields.length !== header.length) {
        state.errors.push({
          line,
          reason: `${fields.length} fields where the header has ${header.length} (an unquoted comma?)`,
        });
        const handle = fields[header.indexOf('handle')]?.trim();
        if (handle) state.bad.add(handle);
        continue;
      }
      const record = Object.fromEntries(header.map((h, i) => [h, fields[i]])) as CsvRecord;
      const handle = record.handle?.trim() ?? '';
      if (handle === '') {
        state.errors.push({ line, field: 'handle', reason: 'missing' });
        continue;
      }
      if (current?.handle !== handle) {
        if (current) yield current;
        const first = state.seen.get(handle);
        if (first !== undefined) {
          state.errors.push({
            line,
            field: 'handle',
            reason: `the rows of a handle must be consecutive (first at line ${first})`,
          });
          state.bad.add(handle);
        } else state.seen.set(handle, line);
        current = { handle, rows: [] };
      }
      current.rows.push({
        line,
        fields: productFields(record),
        variant: checkRow(record, line, handle, state),
      });
    }
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    state.errors.push({ line: state.rows + 2, reason: `unreadable CSV: ${error.message}` });
  } finally {
    input.destroy();
  }
  if (state.seen.size === 0 && state.rows === 0 && state.errors.length === 0)
    state.errors.push({ line: 1, reason: 'the file has no rows' });
  if (current) yield current;
}

function checkRow(record: CsvRecord, line: number, handle: string, state: ReadState): CsvVariant | undefined {
  const variant = parseVariant(record, line, state.errors);
  if (!variant) return undefined;
  const seen = state.skus.get(variant.sku);
  if (seen) {
    state.errors.push({ line, field: 'sku', reason: `SKU repeated in the file (line ${seen.line})` });
    state.bad.add(seen.handle);
    return undefined;
  }
  state.skus.set(variant.sku, { line, handle });
  return variant;
}
