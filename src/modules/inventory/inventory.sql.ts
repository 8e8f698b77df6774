import type { Queryable } from '../../platform/db/pool.ts';

/** Units of one variant (stock is kept per variant: docs/data-model.md). */
export interface StockLine {
  variantId: string;
  quantity: number;
}

/** One variant's stock row. */
export interface VariantLevel {
  variantId: string;
  availableQuantity: number;
  reservedQuantity: number;
}

/**
 * A product's stock after a change: the totals over its variants (what a one-variant product
 * always showed) and the variants that changed.
 */
export interface StockLevel {
  productId: string;
  availableQuantity: number;
  reservedQuantity: number;
  variants: VariantLevel[];
}

/** A variant row as statements return it, with its product's totals (after the change). */
interface VariantLevelRow extends VariantLevel {
  productId: string;
}

/** A variant whose free units just fell from above the low-stock threshold to it or below. */
export interface LowStockCrossing {
  productId: string;
  variantId: string;
  availableQuantity: number;
}

export interface LowStockRow {
  product_id: string;
  variant_id: string;
  sku: string;
  name: string;
  available_quantity: number;
  reserved_quantity: number;
}

export interface DriftRow {
  product_id: string;
  variant_id: string;
  reserved_quantity: number;
  expected_reserved: number;
}

const LEVEL_COLUMNS = `i.product_id AS "productId", i.variant_id AS "variantId",
  i.available_quantity AS "availableQuantity", i.reserved_quantity AS "reservedQuantity"`;

/** Live variants of live products below 10 free units ($1 limit; $2, $3 keyset), via idx_inventory_low_stock. */
export const LOW_STOCK_SQL = `SELECT i.product_id, i.variant_id, v.sku, p.name, i.available_quantity, i.reserved_quantity
             FROM inventory i JOIN product_variants v ON v.id = i.variant_id JOIN products p ON p.id = i.product_id
             WHERE i.available_quantity < 10 AND p.deleted_at IS NULL AND v.deleted_at IS NULL
               AND ($2::int IS NULL OR (i.available_quantity, i.variant_id) > ($2::int, $3::uuid))
             ORDER BY i.available_quantity, i.variant_id
             LIMIT $1`;

/**
 * Groups changed variant rows by product, with each product's totals over all its variants read
 * in the caller's transaction (after the change).
 */
async function withTotals(tx: Queryable, rows: VariantLevelRow[]): Promise<StockLevel[]> {
  if (rows.length === 0) return [];
  const productIds = [...new Set(rows.map((r) => r.productId))];
  const { rows: totals } = await tx.query<{ productId: string; available: number; reserved: number }>({
    name: 'inventory_product_totals',
    text: `SELECT product_id AS "productId", SUM(available_quantity)::int AS available,
                  SUM(reserved_quantity)::int AS reserved
           FROM inventory WHERE product_id = ANY($1::uuid[]) GROUP BY product_id`,
    values: [productIds],
  });
  const byProduct = new Map(totals.map((t) => [t.productId, t]));
  return productIds.map((productId) => ({
    productId,
    availableQuantity: byProduct.get(productId)?.available ?? 0,
    reservedQuantity: byProduct.get(productId)?.reserved ?? 0,
    variants: rows
      .filter((r) => r.productId === productId)
      .map(({ variantId, availableQuantity, reservedQuantity }) => ({
        variantId,
        availableQuantity,
        reservedQuantity,
      })),
  }));
}

export const inventorySql = {
  /**
   * Locks the stock rows of several variants in variant-id order (a fixed order, so two
   * multi-item orders can never wait on each other in a cycle) and returns their levels.
   */
  async lockLevels(tx: Queryable, variantIds: string[]): Promise<Map<string, VariantLevel>> {
    const { rows } = await tx.query<VariantLevelRow>({
      name: 'inventory_lock_levels',
      text: `SELECT ${LEVEL_COLUMNS} FROM inventory i WHERE i.variant_id = ANY($1::uuid[])
             ORDER BY i.variant_id
             FOR UPDATE`,
      values: [variantIds],
    });
    return new Map(rows.map((r) => [r.variantId, r]));
  },

  /**
   * Reserves several lines at once; the rows must already be locked (lockLevels). Guarded too.
   * `lowStock`: the variants this took from above `threshold` free units to it or below.
   */
  async reserveMany(
    tx: Queryable,
    lines: StockLine[],
    threshold: number,
  ): Promise<{ reserved: number; levels: StockLevel[]; lowStock: LowStockCrossing[] }> {
    const { rows } = await tx.query<VariantLevelRow & { crossed: boolean }>({
      name: 'inventory_reserve_many',
      text: `UPDATE inventory i
             SET available_quantity = i.available_quantity - r.qty, reserved_quantity = i.reserved_quantity + r.qty
             FROM unnest($1::uuid[], $2::int[]) AS r(variant_id, qty)
             WHERE i.variant_id = r.variant_id AND i.available_quantity >= r.qty
             RETURNING ${LEVEL_COLUMNS},
                       (i.available_quantity <= $3 AND i.available_quantity + r.qty > $3) AS crossed`,
      values: [lines.map((l) => l.variantId), lines.map((l) => l.quantity), threshold],
    });
    const lowStock = rows
      .filter((r) => r.crossed)
      .map(({ productId, variantId, availableQuantity }) => ({ productId, variantId, availableQuantity }));
    const levels = await withTotals(
      tx,
      rows.map(({ crossed: _, ...r }) => r),
    );
    return { reserved: rows.length, levels, lowStock };
  },

  async availableOf(tx: Queryable, variantIds: string[]): Promise<Map<string, number>> {
    const { rows } = await tx.query<{ variant_id: string; available_quantity: number }>(
      'SELECT variant_id, available_quantity FROM inventory WHERE variant_id = ANY($1::uuid[])',
      [variantIds],
    );
    return new Map(rows.map((r) => [r.variant_id, r.available_quantity]));
  },

  /**
   * Applies an order's lines to stock when it leaves the holding statuses: `release` returns the
   * units to available (cancelled), `consume` lets them leave (shipped). Rows are locked in
   * variant-id order first. The guards make a drifted row fail loudly instead of going negative.
   */
  async settle(tx: Queryable, lines: StockLine[], mode: 'release' | 'consume'): Promise<StockLevel[]> {
    const ids = lines.map((l) => l.variantId);
    await tx.query({
      name: 'inventory_lock_for_settle',
      text: 'SELECT 1 FROM inventory WHERE variant_id = ANY($1::uuid[]) ORDER BY variant_id FOR UPDATE',
      values: [ids],
    });
    const { rows } = await tx.query<VariantLevelRow>({
      name: `inventory_${mode}_lines`,
      text: `UPDATE inventory i
             SET reserved_quantity = i.reserved_quantity - l.qty,
                 available_quantity = i.available_quantity + CASE WHEN $3 THEN l.qty ELSE 0 END
             FROM unnest($1::uuid[], $2::int[]) AS l(variant_id, qty)
             WHERE i.variant_id = l.variant_id
             RETURNING ${LEVEL_COLUMNS}`,
      values: [ids, lines.map((l) => l.quantity), mode === 'release'],
    });
    return withTotals(tx, rows);
  },

  /** The stock row of a new variant. */
  async create(tx: Queryable, productId: string, variantId: string, available: number): Promise<void> {
    await tx.query(
      `INSERT INTO inventory (product_id, variant_id, available_quantity, last_restocked_at)
       VALUES ($1, $2, $3, CASE WHEN $3 > 0 THEN NOW() END)`,
      [productId, variantId, available],
    );
  },

  /**
   * The variants of a live product (live ones, position order), and whether the product is live:
   * undefined when it is not.
   */
  async liveVariantsOf(tx: Queryable, productId: string): Promise<string[] | undefined> {
    const { rows } = await tx.query<{ variant_id: string | null }>(
      `SELECT v.id AS variant_id FROM products p
       LEFT JOIN product_variants v ON v.product_id = p.id AND v.deleted_at IS NULL
       WHERE p.id = $1 AND p.deleted_at IS NULL ORDER BY v.position, v.id`,
      [productId],
    );
    if (rows.length === 0) return undefined;
    return rows.flatMap((r) => (r.variant_id ? [r.variant_id] : []));
  },

  /** The product of a live variant of a live product; undefined when there is none. */
  async productOfLiveVariant(tx: Queryable, variantId: string): Promise<string | undefined> {
    const { rows } = await tx.query<{ product_id: string }>(
      `SELECT v.product_id FROM product_variants v JOIN products p ON p.id = v.product_id
       WHERE v.id = $1 AND v.deleted_at IS NULL AND p.deleted_at IS NULL`,
      [variantId],
    );
    return rows[0]?.product_id;
  },

  /** Sets the free stock of a variant (restock or correction); creates the row if missing. */
  async setAvailable(
    tx: Queryable,
    productId: string,
    variantId: string,
    available: number,
  ): Promise<StockLevel> {
    const { rows } = await tx.query<VariantLevelRow>(
      `INSERT INTO inventory AS i (product_id, variant_id, available_quantity, last_restocked_at)
       VALUES ($1, $2, $3, NOW())
       ON CONFLICT (variant_id) DO UPDATE SET
         available_quantity = EXCLUDED.available_quantity,
         last_restocked_at = CASE WHEN EXCLUDED.available_quantity > i.available_quantity
                                  THEN NOW() ELSE i.last_restocked_at END
       RETURNING ${LEVEL_COLUMNS}`,
      [productId, variantId, available],
    );
    return (await withTotals(tx, rows))[0]!;
  },

  /** {@link setAvailable} for many variants in one statement (the catalog import's batches). */
  async setAvailableMany(
    tx: Queryable,
    levels: { productId: string; variantId: string; available: number }[],
  ): Promise<StockLevel[]> {
    if (levels.length === 0) return [];
    const { rows } = await tx.query<VariantLevelRow>(
      `INSERT INTO inventory AS i (product_id, variant_id, available_quantity, last_restocked_at)
       SELECT t.product_id, t.variant_id, t.available, NOW()
       FROM unnest($1::uuid[], $2::uuid[], $3::int[]) AS t(product_id, variant_id, available)
       ON CONFLICT (variant_id) DO UPDATE SET
         available_quantity = EXCLUDED.available_quantity,
         last_restocked_at = CASE WHEN EXCLUDED.available_quantity > i.available_quantity
                                  THEN NOW() ELSE i.last_restocked_at END
       RETURNING ${LEVEL_COLUMNS}`,
      [levels.map((l) => l.productId), levels.map((l) => l.variantId), levels.map((l) => l.available)],
    );
    return withTotals(tx, rows);
  },

  /** Fresh planner statistics for the stock table (after a bulk load grew it). */
  async analyze(db: Queryable): Promise<void> {
    await db.query('ANALYZE inventory');
  },

  /** One variant's stock as the low-stock report shows it (live or not); undefined when it has no row. */
  async variantStock(db: Queryable, variantId: string): Promise<LowStockRow | undefined> {
    const { rows } = await db.query<LowStockRow>({
      name: 'inventory_variant_stock',
      text: `SELECT i.product_id, i.variant_id, v.sku, p.name, i.available_quantity, i.reserved_quantity
             FROM inventory i JOIN product_variants v ON v.id = i.variant_id JOIN products p ON p.id = i.product_id
             WHERE i.variant_id = $1`,
      values: [variantId],
    });
    return rows[0];
  },

  /** Live variants with fewer than 10 free units (the original design's partial index, docs/data-model.md), fewest first. */
  async lowStock(
    db: Queryable,
    limit: number,
    after?: { available: number; variantId: string },
  ): Promise<LowStockRow[]> {
    const { rows } = await db.query<LowStockRow>({
      name: 'inventory_low_stock',
      text: LOW_STOCK_SQL,
      values: [limit, after?.available ?? null, after?.variantId ?? null],
    });
    return rows;
  },

  /**
   * The variants migration's backfill: the stock rows of these products that have no variant yet
   * are the products' default variants' (the same id). How many were keyed.
   */
  async keyByDefaultVariant(db: Queryable, productIds: string[]): Promise<number> {
    const { rowCount } = await db.query(
      'UPDATE inventory SET variant_id = product_id WHERE product_id = ANY($1::uuid[]) AND variant_id IS NULL',
      [productIds],
    );
    return rowCount ?? 0;
  },

  /** Variants whose reserved_quantity differs from `expected` (what open orders hold). */
  async drift(db: Queryable, expected: StockLine[]): Promise<DriftRow[]> {
    const { rows } = await db.query<DriftRow>(
      `WITH expected AS (SELECT * FROM unnest($1::uuid[], $2::int[]) AS e(variant_id, qty))
       SELECT i.product_id, i.variant_id, i.reserved_quantity, COALESCE(e.qty, 0) AS expected_reserved
       FROM inventory i LEFT JOIN expected e ON e.variant_id = i.variant_id
       WHERE i.reserved_quantity <> COALESCE(e.qty, 0)
       ORDER BY i.variant_id`,
      [expected.map((e) => e.variantId), expected.map((e) => e.quantity)],
    );
    return rows;
  },
};

/**
 * `inventory.changed` events for committed levels, and `inventory.low_stock` for the variants that
 * crossed the threshold (aggregate: the product, so both keep the order of the product's stock).
 */
export function inventoryEvents(levels: StockLevel[], lowStock: LowStockCrossing[] = [], threshold = 0) {
  return [...changedEvents(levels), ...lowStockEvents(lowStock, threshold)];
}

function lowStockEvents(crossings: LowStockCrossing[], threshold: number) {
  return crossings.map((c) => ({
    type: 'inventory.low_stock',
    aggregateType: 'product',
    aggregateId: c.productId,
    payload: {
      productId: c.productId,
      variantId: c.variantId,
      availableQuantity: c.availableQuantity,
      threshold,
    },
  }));
}

function changedEvents(levels: StockLevel[]) {
  return levels.map((l) => ({
    type: 'inventory.changed',
    aggregateType: 'product',
    aggregateId: l.productId,
    payload: {
      productId: l.productId,
      availableQuantity: l.availableQuantity,
      reservedQuantity: l.reservedQuantity,
      variants: l.variants,
    },
  }));
}
