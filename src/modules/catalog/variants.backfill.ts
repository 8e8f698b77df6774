/**
 * The backfill of the variants migration (issue 28): every product gets its default variant (the
 * product's id, its price, no options) and a slug, a batch of products per call, keyset on the
 * product id. Safe to stop and rerun: a product that has a variant or a slug is left alone. Run by
 * `shopflow catalog backfill-variants` between the expand migrations and the key switch
 * (migrations/1765300000006), so that no transaction touches a million rows at once.
 */
import type { Queryable } from '../../platform/db/pool.ts';
import { slugify } from './catalog.model.ts';

/** A product's backfilled slug: its name's, with 12 hex digits of its id (unique without a lookup). */
export const backfillSlug = (id: string, name: string): string =>
  [slugify(name).slice(0, 200), id.replace(/-/g, '').slice(0, 12)].filter(Boolean).join('-');

export const variantsBackfill = {
  /**
   * The next `limit` products after `after` (by id): gives those without a variant their default
   * one and those without a slug theirs. Returns the ids seen (empty when done).
   */
  async batch(db: Queryable, after: string | null, limit: number): Promise<string[]> {
    const { rows } = await db.query<{ id: string; name: string; slug: string | null }>(
      `SELECT id, name, slug FROM products WHERE ($1::uuid IS NULL OR id > $1) ORDER BY id LIMIT $2`,
      [after, limit],
    );
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    await db.query(
      `INSERT INTO product_variants (id, product_id, sku, options, price, position, created_at)
       SELECT p.id, p.id, 'SF-' || upper(substr(replace(p.id::text, '-', ''), 1, 16)), '{}'::jsonb,
              p.base_price, 0, p.created_at
       FROM products p
       WHERE p.id = ANY($1::uuid[]) AND NOT EXISTS (SELECT 1 FROM product_variants v WHERE v.product_id = p.id)
       ON CONFLICT DO NOTHING`,
      [ids],
    );
    const unnamed = rows.filter((r) => r.slug === null);
    if (unnamed.length)
      await db.query(
        `UPDATE products p SET slug = s.slug FROM unnest($1::uuid[], $2::text[]) AS s(id, slug)
         WHERE p.id = s.id AND p.slug IS NULL`,
        [unnamed.map((r) => r.id), unnamed.map((r) => backfillSlug(r.id, r.name))],
      );
    return ids;
  },
};
