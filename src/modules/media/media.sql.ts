/** The media module's SQL: its table, product_images (the catalog reads it in its product query). */
import type { Queryable } from '../../platform/db/pool.ts';
import type { ProductImagesWrite } from '../catalog/catalog-csv.images.ts';

export const mediaSql = {
  /** Files an image last among its product's images; its id. */
  async addImage(
    db: Queryable,
    i: {
      productId: string;
      key: string;
      contentType: string;
      sizeBytes: number;
      width: number | null;
      height: number | null;
    },
  ): Promise<string> {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO product_images (product_id, key, content_type, size_bytes, width, height, position)
       VALUES ($1, $2, $3, $4, $5, $6, (SELECT COALESCE(MAX(position) + 1, 0) FROM product_images WHERE product_id = $1))
       RETURNING id`,
      [i.productId, i.key, i.contentType, i.sizeBytes, i.width, i.height],
    );
    return rows[0]!.id;
  },

  /**
   * Each product's images become exactly its list, positions 0.. in order: rows of keys not
   * listed are deleted (the stored originals stay: a key may be filed under other products too),
   * listed ones are renumbered, new ones filed with their `file`.
   */
  async setImages(tx: Queryable, writes: ProductImagesWrite[]): Promise<void> {
    if (writes.length === 0) return;
    const rows = writes.flatMap((w) =>
      w.images.map((im, position) => ({ productId: w.productId, position, ...im })),
    );
    const productIds = writes.map((w) => w.productId);
    await tx.query(
      `DELETE FROM product_images im WHERE im.product_id = ANY($1::uuid[])
         AND NOT EXISTS (SELECT 1 FROM unnest($2::uuid[], $3::text[]) AS w(product_id, key)
                          WHERE w.product_id = im.product_id AND w.key = im.key)`,
      [productIds, rows.map((r) => r.productId), rows.map((r) => r.key)],
    );
    await tx.query(
      `UPDATE product_images im SET position = w.position
       FROM unnest($1::uuid[], $2::text[], $3::int[]) AS w(product_id, key, position)
       WHERE im.product_id = w.product_id AND im.key = w.key AND im.position <> w.position`,
      [rows.map((r) => r.productId), rows.map((r) => r.key), rows.map((r) => r.position)],
    );
    const added = rows.filter((r) => r.file);
    if (added.length === 0) return;
    await tx.query(
      `INSERT INTO product_images (product_id, key, content_type, size_bytes, width, height, position)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::int[], $6::int[], $7::int[])
       ON CONFLICT (product_id, key) DO UPDATE SET position = EXCLUDED.position`,
      [
        added.map((r) => r.productId),
        added.map((r) => r.key),
        added.map((r) => r.file!.contentType),
        added.map((r) => r.file!.sizeBytes),
        added.map((r) => r.file!.width),
        added.map((r) => r.file!.height),
        added.map((r) => r.position),
      ],
    );
  },
};
