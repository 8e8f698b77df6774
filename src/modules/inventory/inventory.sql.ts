import type { Queryable } from '../../platform/db/pool.ts';

export interface StockLine {
  productId: string;
  quantity: number;
}

export interface StockLevel {
  productId: string;
  availableQuantity: number;
  reservedQuantity: number;
}

export interface LowStockRow {
  product_id: string;
  name: string;
  available_quantity: number;
  reserved_quantity: number;
}

export interface DriftRow {
  product_id: string;
  reserved_quantity: number;
  expected_reserved: number;
}

/** Live products below 10 free units ($1 limit; $2, $3 keyset), via idx_inventory_low_stock. */
export const LOW_STOCK_SQL = `SELECT i.product_id, p.name, i.available_quantity, i.reserved_quantity
             FROM inventory i JOIN products p ON p.id = i.product_id
             WHERE i.available_quantity < 10 AND p.deleted_at IS NULL
               AND ($2::int IS NULL OR (i.available_quantity, i.product_id) > ($2::int, $3::uuid))
             ORDER BY i.available_quantity, i.product_id
             LIMIT $1`;

export const inventorySql = {
  /**
   * Locks the inventory rows of several products in product-id order (a fixed order, so two
   * multi-item orders can never wait on each other in a cycle) and returns their levels.
   */
  async lockLevels(tx: Queryable, productIds: string[]): Promise<Map<string, StockLevel>> {
    const { rows } = await tx.query<StockLevel>({
      name: 'inventory_lock_levels',
      text: `SELECT product_id AS "productId", available_quantity AS "availableQuantity",
                    reserved_quantity AS "reservedQuantity"
             FROM inventory WHERE product_id = ANY($1::uuid[])
             ORDER BY product_id
             FOR UPDATE`,
      values: [productIds],
    });
    return new Map(rows.map((r) => [r.productId, r]));
  },

  /** Reserves several lines at once; the rows must already be locked (lockLevels). Guarded too. */
  async reserveMany(tx: Queryable, lines: StockLine[]): Promise<StockLevel[]> {
    const { rows } = await tx.query<StockLevel>({
      name: 'inventory_reserve_many',
      text: `UPDATE inventory i
             SET available_quantity = i.available_quantity - r.qty, reserved_quantity = i.reserved_quantity + r.qty
             FROM unnest($1::uuid[], $2::int[]) AS r(product_id, qty)
             WHERE i.product_id = r.product_id AND i.available_quantity >= r.qty
             RETURNING i.product_id AS "productId", i.available_quantity AS "availableQuantity",
                       i.reserved_quantity AS "reservedQuantity"`,
      values: [lines.map((l) => l.productId), lines.map((l) => l.quantity)],
    });
    return rows;
  },

  async availableOf(tx: Queryable, productIds: string[]): Promise<Map<string, number>> {
    const { rows } = await tx.query<{ product_id: string; available_quantity: number }>(
      'SELECT product_id, available_quantity FROM inventory WHERE product_id = ANY($1::uuid[])',
      [productIds],
    );
    return new Map(rows.map((r) => [r.product_id, r.available_quantity]));
  },

  /**
   * Applies an order's lines to stock when it leaves the holding statuses: `release` returns the
   * units to available (cancelled), `consume` lets them leave (shipped). Rows are locked in
   * product-id order first. The guards make a drifted row fail loudly instead of going negative.
   */
  async settle(tx: Queryable, lines: StockLine[], mode: 'release' | 'consume'): Promise<StockLevel[]> {
    const ids = lines.map((l) => l.productId);
    await tx.query({
      name: 'inventory_lock_for_settle',
      text: 'SELECT 1 FROM inventory WHERE product_id = ANY($1::uuid[]) ORDER BY product_id FOR UPDATE',
      values: [ids],
    });
    const { rows } = await tx.query<StockLevel>({
      name: `inventory_${mode}_lines`,
      text: `UPDATE inventory i
             SET reserved_quantity = i.reserved_quantity - l.qty,
                 available_quantity = i.available_quantity + CASE WHEN $3 THEN l.qty ELSE 0 END
             FROM unnest($1::uuid[], $2::int[]) AS l(product_id, qty)
             WHERE i.product_id = l.product_id
             RETURNING i.product_id AS "productId", i.available_quantity AS "availableQuantity",
                       i.reserved_quantity AS "reservedQuantity"`,
      values: [ids, lines.map((l) => l.quantity), mode === 'release'],
    });
    return rows;
  },

  /** The stock row of a new product. */
  async create(tx: Queryable, productId: string, available: number): Promise<void> {
    await tx.query(
      `INSERT INTO inventory (product_id, available_quantity, last_restocked_at)
       VALUES ($1, $2, CASE WHEN $2 > 0 THEN NOW() END)`,
      [productId, available],
    );
  },

  /** Sets the free stock of a product (restock or correction); creates the row if missing. */
  async setAvailable(tx: Queryable, productId: string, available: number): Promise<StockLevel> {
    const { rows } = await tx.query<StockLevel>(
      `INSERT INTO inventory AS i (product_id, available_quantity, last_restocked_at)
       VALUES ($1, $2, NOW())
       ON CONFLICT (product_id) DO UPDATE SET
         available_quantity = EXCLUDED.available_quantity,
         last_restocked_at = CASE WHEN EXCLUDED.available_quantity > i.available_quantity
                                  THEN NOW() ELSE i.last_restocked_at END
       RETURNING product_id AS "productId", available_quantity AS "availableQuantity",
                 reserved_quantity AS "reservedQuantity"`,
      [productId, available],
    );
    return rows[0]!;
  },

  /** Live products with fewer than 10 free units (the original design's partial index, docs/data-model.md), fewest first. */
  async lowStock(
    db: Queryable,
    limit: number,
    after?: { available: number; productId: string },
  ): Promise<LowStockRow[]> {
    const { rows } = await db.query<LowStockRow>({
      name: 'inventory_low_stock',
      text: LOW_STOCK_SQL,
      values: [limit, after?.available ?? null, after?.productId ?? null],
    });
    return rows;
  },

  /** Products whose reserved_quantity differs from `expected` (what open orders hold). */
  async drift(db: Queryable, expected: StockLine[]): Promise<DriftRow[]> {
    const { rows } = await db.query<DriftRow>(
      `WITH expected AS (SELECT * FROM unnest($1::uuid[], $2::int[]) AS e(product_id, qty))
       SELECT i.product_id, i.reserved_quantity, COALESCE(e.qty, 0) AS expected_reserved
       FROM inventory i LEFT JOIN expected e ON e.product_id = i.product_id
       WHERE i.reserved_quantity <> COALESCE(e.qty, 0)
       ORDER BY i.product_id`,
      [expected.map((e) => e.productId), expected.map((e) => e.quantity)],
    );
    return rows;
  },
};

/** `inventory.changed` events for committed levels (aggregate: the product). */
export function inventoryEvents(levels: StockLevel[]) {
  return levels.map((l) => ({
    type: 'inventory.changed',
    aggregateType: 'product',
    aggregateId: l.productId,
    payload: {
      productId: l.productId,
      availableQuantity: l.availableQuantity,
      reservedQuantity: l.reservedQuantity,
    },
  }));
}
