/**
 * The seeder's SQL. It owns seed_deferred_indexes; it also writes categories, products and
 * inventory in bulk (COPY), a documented exception to table ownership (src/modules/ownership.ts):
 * a million products through the services would take hours.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Queryable } from '../../platform/db/pool.ts';
import type { Tx } from '../../platform/db/transaction.ts';

export const seedSql = {
  /** Inserts categories whose slug is new; a parent is found by its slug (roots: none). */
  async insertCategories(
    tx: Queryable,
    rows: { id: string; name: string; slug: string; parentSlug: string | null }[],
  ): Promise<void> {
    await tx.query(
      `INSERT INTO categories (id, parent_id, name, slug)
       SELECT t.id, p.id, t.name, t.slug
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS t(id, name, slug, parent_slug)
       LEFT JOIN categories p ON p.slug = t.parent_slug
       WHERE t.parent_slug IS NULL OR p.id IS NOT NULL
       ON CONFLICT (slug) DO NOTHING`,
      [
        rows.map((r) => r.id),
        rows.map((r) => r.name),
        rows.map((r) => r.slug),
        rows.map((r) => r.parentSlug),
      ],
    );
  },

  /** slug -> id of these categories. */
  async categoryIds(db: Queryable, slugs: string[]): Promise<Map<string, string>> {
    const { rows } = await db.query<{ id: string; slug: string }>(
      'SELECT id, slug FROM categories WHERE slug = ANY($1::text[])',
      [slugs],
    );
    return new Map(rows.map((r) => [r.slug, r.id]));
  },

  async hasProduct(db: Queryable, id: string): Promise<boolean> {
    return ((await db.query('SELECT 1 FROM products WHERE id = $1', [id])).rowCount ?? 0) > 0;
  },

  async analyzeCatalog(db: Queryable): Promise<void> {
    await db.query('ANALYZE products; ANALYZE inventory');
  },

  /**
   * Records the secondary (non-unique) indexes of `tables` as set aside, when the catalog is
   * empty and nothing is set aside yet; their names (to drop in the same transaction).
   */
  async setAsideIndexes(tx: Tx, tables: string[]): Promise<string[]> {
    const { rows } = await tx.query<{ name: string }>(
      `INSERT INTO seed_deferred_indexes (name, definition)
       SELECT c.relname, pg_get_indexdef(i.indexrelid)
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
       WHERE i.indrelid = ANY ($1::regclass[]) AND NOT i.indisunique
         AND NOT EXISTS (SELECT 1 FROM products) AND NOT EXISTS (SELECT 1 FROM seed_deferred_indexes)
       RETURNING name`,
      [tables],
    );
    return rows.map((r) => r.name);
  },

  /**
   * DROP INDEX takes no parameters: each name is one of the schema's own indexes, read from the
   * catalog by setAsideIndexes (never input), and quoted as an identifier.
   */
  async dropIndex(tx: Tx, name: string): Promise<void> {
    await tx.query(`DROP INDEX ${pg.escapeIdentifier(name)}`);
  },

  async indexesSetAside(db: Queryable): Promise<{ name: string; definition: string }[]> {
    const { rows } = await db.query<{ name: string; definition: string }>(
      'SELECT name, definition FROM seed_deferred_indexes ORDER BY name',
    );
    return rows;
  },

  /** Builds one index set aside and forgets it, in the caller's transaction. */
  async buildIndexSetAside(tx: Tx, index: { name: string; definition: string }): Promise<void> {
    // Sorts in memory up to this (the default, 64 MB, spills a large catalog to disk).
    await tx.query("SET LOCAL maintenance_work_mem = '256MB'");
    // A definition pg_get_indexdef wrote for the schema's own index (see setAsideIndexes).
    await tx.query(index.definition);
    await tx.query('DELETE FROM seed_deferred_indexes WHERE name = $1', [index.name]);
  },

  /** COPY text rows into products (id, name, description, base_price, category_id, tags, created_at, updated_at). */
  async copyProducts(tx: Tx, text: string): Promise<void> {
    await pipeline(
      Readable.from([text]),
      tx.query(
        copyFrom(
          'COPY products (id, name, description, base_price, category_id, tags, created_at, updated_at, slug) FROM STDIN',
        ),
      ),
    );
  },

  /** COPY text rows into product_variants (id, product_id, sku, options, price, position, created_at, updated_at). */
  async copyVariants(tx: Tx, text: string): Promise<void> {
    await pipeline(
      Readable.from([text]),
      tx.query(
        copyFrom(
          'COPY product_variants (id, product_id, sku, options, price, position, created_at, updated_at) FROM STDIN',
        ),
      ),
    );
  },

  /** COPY text rows into product_options (product_id, position, name, values). */
  async copyOptions(tx: Tx, text: string): Promise<void> {
    await pipeline(
      Readable.from([text]),
      tx.query(copyFrom('COPY product_options (product_id, position, name, "values") FROM STDIN')),
    );
  },

  /** COPY text rows into inventory (product_id, variant_id, available_quantity, reserved_quantity, last_restocked_at). */
  async copyInventory(tx: Tx, text: string): Promise<void> {
    await pipeline(
      Readable.from([text]),
      tx.query(
        copyFrom(
          'COPY inventory (product_id, variant_id, available_quantity, reserved_quantity, last_restocked_at) FROM STDIN',
        ),
      ),
    );
  },
};
