/**
 * Demo data: a deterministic Brazilian catalog. Products are derived from (seed, index) alone, so a
 * run can be interrupted and rerun: batches commit atomically and committed ones are skipped.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { withTransaction } from '../../platform/db/transaction.ts';
import { slugify, type ProductSource } from '../catalog/catalog.service.ts';
import { combinations, defaultSku } from '../catalog/variants.model.ts';
import { seedSql } from './seed.sql.ts';
import { ATTRIBUTES, BRANDS, EXTRA_TAGS, LEAVES, ROOTS, SENTENCES, type LeafSpec } from './catalog-data.ts';

export interface SeedOptions {
  products: number;
  seed: number;
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** After each batch this run inserts: e.g. to make its products searchable. */
  onBatch?: (batch: SeededBatch) => Promise<void>;
  /**
   * Also hand batches found from an earlier run to onBatch (a bulk load into a new index needs
   * every product; indexing batch by batch, an interrupted run already indexed what it inserted).
   */
  handOverPresent?: boolean;
  /**
   * A large load: into an empty catalog, the secondary indexes of products and inventory are set
   * aside and built once at the end (see deferIndexes).
   */
  bulk?: boolean;
  /** What the seed is doing now, beyond batch progress (e.g. building indexes). */
  onPhase?: (message: string) => void;
}

/** A batch handed to onBatch. */
export interface SeededBatch {
  productIds: string[];
  /**
   * The products as this run wrote them, in the catalog's source shape, so a consumer need not
   * read them back; absent for a batch an earlier run inserted (read those from the catalog: they
   * may have changed since).
   */
  rows?: ProductSource[];
}

export interface SeedResult {
  inserted: number;
  skipped: number;
  categories: number;
}

/** Products are dated within the two years before this instant (fixed, so output is deterministic). */
const REFERENCE_TIME = Date.UTC(2026, 10, 1);
const TWO_YEARS_MS = 730 * 24 * 3600 * 1000;

/** mulberry32: a small, fast, well-distributed 32-bit PRNG (deterministic demo data only). */
function mulberry32(a: number): () => number {
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function rngFor(seed: number, index: number): () => number {
  // Mix seed and index so neighbouring products get unrelated streams.
  return mulberry32(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35));
}

const pick = <T>(rng: () => number, list: readonly T[]): T => list[Math.floor(rng() * list.length)]!;
const hex = (rng: () => number, n: number) => {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(rng() * 16).toString(16);
  return s;
};
/** A UUID (version 4 layout) drawn from the product's own stream. */
function uuidFrom(rng: () => number): string {
  return `${hex(rng, 8)}-${hex(rng, 4)}-4${hex(rng, 3)}-${'89ab'[Math.floor(rng() * 4)]}${hex(rng, 3)}-${hex(rng, 12)}`;
}

/**
 * The id of a product's `n`-th variant: digested from the product's id, not drawn from its stream.
 * The stream is a 32-bit generator: drawn ids of one product met the ids of others (a variant took
 * another product's id, which its default variant also has) once a seed passed some 60,000 products.
 */
function variantIdOf(productId: string, n: number): string {
  const h = createHash('sha256').update(`shopflow-seed-variant:${productId}:${n}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[parseInt(h[16]!, 16) % 4]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
export interface GeneratedProduct {
  id: string;
  name: string;
  description: string;
  basePrice: number;
  categorySlug: string;
  tags: string[];
  createdAt: Date;
  /** Free units over all its variants. */
  available: number;
  /** Unique among the seed's products: the name's slug and the id's first 12 hex digits. */
  slug: string;
  options: { name: string; values: string[] }[];
  variants: { id: string; sku: string; options: Record<string, string>; price: number; available: number }[];
}

const COLOURS = ['Preto', 'Branco', 'Azul', 'Vermelho', 'Verde', 'Cinza', 'Rosa'];

/**
 * The options a product of this leaf is sold in (apparel sizes and colours, shoe sizes, volumes,
 * storage), or none: about one product in five has variants, as in a real Brazilian catalog.
 */
function optionsFor(leaf: string, rng: () => number): { name: string; values: string[] }[] {
  switch (leaf) {
    case 'camisetas':
    case 'calcas':
    case 'vestidos': {
      const start = Math.floor(rng() * COLOURS.length);
      const n = 2 + Math.floor(rng() * 2);
      const colours = Array.from({ length: n }, (_, i) => COLOURS[(start + i) % COLOURS.length]!);
      return [
        { name: 'Tamanho', values: ['P', 'M', 'G', 'GG'] },
        { name: 'Cor', values: colours },
      ];
    }
    case 'calcados':
      return [{ name: 'Tamanho', values: ['36', '37', '38', '39', '40', '41', '42', '43'] }];
    case 'perfumes':
      return [{ name: 'Volume', values: ['50 ml', '100 ml'] }];
    case 'celulares':
      return [{ name: 'Armazenamento', values: ['128 GB', '256 GB'] }];
    default:
      return [];
  }
}

export function generateProduct(seed: number, index: number): GeneratedProduct {
  const rng = rngFor(seed, index);
  const id = uuidFrom(rng);
  const leaf: LeafSpec = pick(rng, LEAVES);
  const noun = pick(rng, leaf.nouns);
  const variant = pick(rng, leaf.variants);
  const brand = pick(rng, BRANDS);
  const attr = leaf.attribute === 'none' ? undefined : pick(rng, ATTRIBUTES[leaf.attribute]);
  const name = [noun, variant, brand, attr].filter(Boolean).join(' ');
  const [min, max] = leaf.price;
  // Prices end in 90 centavos, as Brazilian shops like them.
  const basePrice = Math.max(90, Math.round((min + rng() * (max - min)) / 100) * 100 - 10);
  const s1 = pick(rng, SENTENCES);
  let s2 = pick(rng, SENTENCES);
  if (s2 === s1) s2 = SENTENCES[(SENTENCES.indexOf(s1) + 1) % SENTENCES.length]!;
  const description = `${noun} ${variant.toLowerCase()} da marca ${brand}${attr ? `, ${attr.toLowerCase()}` : ''}. ${s1} ${s2}`;
  const tags = [leaf.slug, slugify(brand)];
  if (attr) tags.push(slugify(attr));
  if (rng() < 0.3) tags.push(pick(rng, EXTRA_TAGS));
  const r = rng();
  const available = r < 0.05 ? 0 : r < 0.2 ? 1 + Math.floor(rng() * 9) : 10 + Math.floor(rng() * 490);
  const createdAt = new Date(REFERENCE_TIME - Math.floor(rng() * TWO_YEARS_MS));
  // Drawn after everything else, so a product's other fields are those of earlier seeds. Only the
  // one variant of a product without options has the product's id (what a productId line orders).
  const options = optionsFor(leaf.slug, rng);
  const variants = options.length
    ? combinations(options).map((combo, n) => {
        // A larger volume or storage costs more (still ending in 90 centavos); sizes cost the same.
        const step = Object.values(combo).some((v) => v === '100 ml' || v === '256 GB') ? 1.6 : 1;
        const price = step === 1 ? basePrice : Math.round((basePrice * step) / 100) * 100 - 10;
        const q = rng();
        return {
          id: variantIdOf(id, n),
          sku: defaultSku(id, combo),
          options: combo,
          price,
          available: q < 0.1 ? 0 : Math.floor(q * 60),
        };
      })
    : [{ id, sku: defaultSku(id, {}), options: {}, price: basePrice, available }];
  return {
    id,
    name,
    description,
    basePrice,
    categorySlug: leaf.slug,
    tags: [...new Set(tags)],
    createdAt,
    available: variants.reduce((sum, v) => sum + v.available, 0),
    slug: `${slugify(name).slice(0, 200)}-${id.replace(/-/g, '').slice(0, 12)}`,
    options,
    variants,
  };
}

/** The tables whose secondary indexes a bulk seed sets aside (unique indexes stay: they guard the data). */
const BULK_TABLES = ['products', 'inventory', 'product_variants'];

/** A PostgreSQL array literal of text values (quoted, backslash-escaped). */
const pgArray = (values: string[]) =>
  `{${values.map((v) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}}`;

/** COPY text format escaping. */
const esc = (s: string) =>
  s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');

/** Deterministic category ids (so reruns and other machines agree). */
function categoryId(slug: string): string {
  const h = createHash('sha256').update(`shopflow-category:${slug}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export class SeedService {
  constructor(private readonly deps: { pool: pg.Pool }) {}

  /** Creates the demo category tree (idempotent) and returns slug -> id. */
  async ensureCategories(): Promise<Map<string, string>> {
    const all = [...ROOTS, ...LEAVES];
    await withTransaction(this.deps.pool, async (tx) => {
      // Roots first: the leaves find their parents by slug.
      await seedSql.insertCategories(
        tx,
        ROOTS.map((c) => ({ id: categoryId(c.slug), name: c.name, slug: c.slug, parentSlug: null })),
      );
      await seedSql.insertCategories(
        tx,
        LEAVES.map((c) => ({ id: categoryId(c.slug), name: c.name, slug: c.slug, parentSlug: c.parent })),
      );
    });
    return seedSql.categoryIds(
      this.deps.pool,
      all.map((c) => c.slug),
    );
  }

  async seed(options: SeedOptions): Promise<SeedResult> {
    const { products: total, seed } = options;
    const batchSize = options.batchSize ?? 20_000;
    const categories = await this.ensureCategories();
    if (options.bulk && (await this.deferIndexes()) > 0)
      options.onPhase?.('catalog indexes set aside: they are built once the products are in');
    let inserted = 0;
    let skipped = 0;
    // Batch k is handed to onBatch (indexing) while batch k + 1 is generated and copied in: the
    // two run on their own connections, so the database works on both at once. At most one batch
    // is in onBatch at a time.
    let after: Promise<unknown> = Promise.resolve();
    const handOver = async (batch: SeededBatch) => {
      await after;
      after = options.onBatch?.(batch) ?? Promise.resolve();
      // Its failure surfaces at the next handover or at the end; until then it is not unhandled.
      after.catch(() => undefined);
    };
    try {
      for (let start = 0; start < total; start += batchSize) {
        options.signal?.throwIfAborted();
        const end = Math.min(total, start + batchSize);
        const batch: GeneratedProduct[] = [];
        for (let i = start; i < end; i++) batch.push(generateProduct(seed, i));
        // A batch commits whole, so its last product being present means the batch is done.
        if (await seedSql.hasProduct(this.deps.pool, batch[batch.length - 1]!.id)) {
          skipped += batch.length;
          if (options.handOverPresent) await handOver({ productIds: batch.map((p) => p.id) });
        } else {
          const rows = await this.insertBatch(batch, categories);
          inserted += batch.length;
          await handOver({ productIds: batch.map((p) => p.id), rows });
        }
        options.onProgress?.(end, total);
      }
      await after;
      await this.restoreIndexes(options.onPhase);
    } finally {
      // Interrupted: the batch being indexed finishes before the caller closes the pool.
      await after.catch(() => undefined);
    }
    if (inserted > 0) await seedSql.analyzeCatalog(this.deps.pool);
    return { inserted, skipped, categories: categories.size };
  }

  /**
   * Sets aside the secondary indexes of the catalog tables, when the catalog is empty and nothing
   * is set aside yet: keeping ten indexes up to date row by row was 95% of a million-product seed,
   * while building each once at the end sorts in bulk. Their definitions are kept in
   * seed_deferred_indexes by the transaction that drops them, so an interrupted seed loses none:
   * the next one builds them (see restoreIndexes). Returns how many were set aside.
   */
  private async deferIndexes(): Promise<number> {
    return withTransaction(
      this.deps.pool,
      async (tx) => {
        const names = await seedSql.setAsideIndexes(tx, BULK_TABLES);
        for (const name of names) await seedSql.dropIndex(tx, name);
        return names.length;
      },
      { retries: 0 },
    );
  }

  /**
   * Builds every index set aside (by this seed or an interrupted one), two at a time on their own
   * connections; each is forgotten by the transaction that builds it, so stopping here is safe too.
   */
  private async restoreIndexes(onPhase?: (message: string) => void): Promise<void> {
    const rows = await seedSql.indexesSetAside(this.deps.pool);
    if (rows.length === 0) return;
    onPhase?.(`building ${rows.length} catalog indexes...`);
    const queue = [...rows];
    const build = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const index = next;
        await withTransaction(this.deps.pool, (tx) => seedSql.buildIndexSetAside(tx, index), { retries: 0 });
      }
    };
    await Promise.all([build(), build()]);
  }

  /** Copies a batch in, in one transaction; returns the rows as written. */
  private async insertBatch(
    batch: GeneratedProduct[],
    categories: Map<string, string>,
  ): Promise<ProductSource[]> {
    let products = '';
    let inventory = '';
    let variants = '';
    let options = '';
    const rows: ProductSource[] = [];
    for (const p of batch) {
      const created = p.createdAt.toISOString();
      const categoryId = categories.get(p.categorySlug) ?? null;
      products += `${p.id}\t${esc(p.name)}\t${esc(p.description)}\t${p.basePrice}\t${categoryId ?? '\\N'}\t{${p.tags.join(',')}}\t${created}\t${created}\t${p.slug}\n`;
      p.options.forEach((o, i) => {
        options += `${p.id}\t${i}\t${esc(o.name)}\t${esc(pgArray(o.values))}\n`;
      });
      p.variants.forEach((v, i) => {
        variants += `${v.id}\t${p.id}\t${v.sku}\t${esc(JSON.stringify(v.options))}\t${v.price}\t${i}\t${created}\t${created}\n`;
        inventory += `${p.id}\t${v.id}\t${v.available}\t0\t${created}\n`;
      });
      rows.push({
        id: p.id,
        name: p.name,
        description: p.description,
        tags: p.tags,
        category_id: categoryId,
        base_price: p.basePrice,
        updated_at: created,
        variants: p.variants.map((v) => ({ price: v.price, options: v.options })),
      });
    }
    await withTransaction(
      this.deps.pool,
      async (tx) => {
        await seedSql.copyProducts(tx, products);
        if (options) await seedSql.copyOptions(tx, options);
        await seedSql.copyVariants(tx, variants);
        await seedSql.copyInventory(tx, inventory);
      },
      { retries: 0 },
    );
    return rows;
  }
}
