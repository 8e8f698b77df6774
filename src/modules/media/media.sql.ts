/** The media module's SQL: its table, product_images (the catalog reads it in its product query). */
import type { Queryable } from '../../platform/db/pool.ts';

export const mediaSql = {
  /** Files an image last among its product's images; its id. */
  async addImage(
    db: Queryable,
    i: {
      productId: string;
      key: string;
      contentType: string;
      sizeBytes: number;
      width: number;
      height: number;
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
};
