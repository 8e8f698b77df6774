import type { Database, Queryable } from '../../platform/db/pool.ts';
import { withTransaction } from '../../platform/db/transaction.ts';
import { AppError } from '../../platform/errors.ts';
import { isUuid } from '../../platform/ids.ts';
import { decodeCursor, keysetPage } from '../../platform/cursor.ts';
import { inventoryEvents, inventorySql, type StockLevel, type StockLine } from './inventory.sql.ts';

export type { StockLevel, StockLine };

import { recordEvents } from '../../platform/events/outbox.ts';

export interface Drift {
  productId: string;
  reservedQuantity: number;
  expectedReserved: number;
}

export interface LowStockItem {
  productId: string;
  name: string;
  availableQuantity: number;
  reservedQuantity: number;
}

/** Called after a commit that changed stock (the real-time layer subscribes here). */
export type StockListener = (levels: StockLevel[]) => void;

export class InventoryService {
  private readonly listeners: StockListener[] = [];

  constructor(
    private readonly deps: {
      db: Database;
      /** What open orders hold, per product (the orders module knows): the truth reconcile restores. */
      heldByOpenOrders: (db: Queryable) => Promise<StockLine[]>;
    },
  ) {}

  // Stock movements inside a caller's transaction (orders, catalog). The caller records the
  // events ({@link events}) in the same transaction and notifies after commit.

  /** The stock row of a new product. */
  createLevel(tx: Queryable, productId: string, available: number): Promise<void> {
    return inventorySql.create(tx, productId, available);
  }

  /** Locks the rows of several products in product-id order (no deadlocks) and returns their levels. */
  lockLevels(tx: Queryable, productIds: string[]): Promise<Map<string, StockLevel>> {
    return inventorySql.lockLevels(tx, productIds);
  }

  /** Reserves several lines whose rows are locked ({@link lockLevels}); guarded too. */
  reserveMany(tx: Queryable, lines: StockLine[]): Promise<StockLevel[]> {
    return inventorySql.reserveMany(tx, lines);
  }

  availableOf(tx: Queryable, productIds: string[]): Promise<Map<string, number>> {
    return inventorySql.availableOf(tx, productIds);
  }

  /** Returns reserved units to stock (`release`) or lets them leave (`consume`). */
  settle(tx: Queryable, lines: StockLine[], mode: 'release' | 'consume'): Promise<StockLevel[]> {
    return lines.length ? inventorySql.settle(tx, lines, mode) : Promise.resolve([]);
  }

  /** The `inventory.changed` outbox events of committed levels. */
  events(levels: StockLevel[]) {
    return inventoryEvents(levels);
  }

  onStockChanged(listener: StockListener): void {
    this.listeners.push(listener);
  }

  /** Tells listeners about committed stock levels. Never throws into the caller. */
  notify(levels: StockLevel[]): void {
    if (levels.length === 0) return;
    for (const l of this.listeners) {
      try {
        l(levels);
      } catch {
        // A listener failing must not fail the request whose change already committed.
      }
    }
  }

  async setAvailable(productId: string, available: number): Promise<StockLevel> {
    if (!isUuid(productId)) throw AppError.notFound('Product', { productId });
    const level = await withTransaction(this.deps.db.primary, async (tx) => {
      const { rowCount } = await tx.query('SELECT 1 FROM products WHERE id = $1 AND deleted_at IS NULL', [
        productId,
      ]);
      if (!rowCount) throw AppError.notFound('Product', { productId });
      const level = await inventorySql.setAvailable(tx, productId, available);
      await recordEvents(tx, inventoryEvents([level]));
      return level;
    });
    this.notify([level]);
    return level;
  }

  async lowStock(
    limit: number,
    cursor?: string,
  ): Promise<{ items: LowStockItem[]; nextCursor: string | null }> {
    const after = cursor === undefined ? undefined : decodeCursor(cursor, isLowStockCursor);
    const rows = await inventorySql.lowStock(this.deps.db.read, limit + 1, after);
    return keysetPage(
      rows,
      limit,
      (r) => ({
        productId: r.product_id,
        name: r.name,
        availableQuantity: r.available_quantity,
        reservedQuantity: r.reserved_quantity,
      }),
      (last) => ({ available: last.available_quantity, productId: last.product_id }),
    );
  }

  /**
   * Recomputes what reserved_quantity must be from open orders and reports every product that
   * drifted. With `fix`, repairs them in one transaction while stock movements wait.
   */
  async reconcile(options: { fix: boolean }): Promise<{ drift: Drift[]; fixed: boolean }> {
    if (!options.fix)
      return {
        drift: (
          await inventorySql.drift(
            this.deps.db.primary,
            await this.deps.heldByOpenOrders(this.deps.db.primary),
          )
        ).map(toDrift),
        fixed: false,
      };
    const drift = await withTransaction(this.deps.db.primary, async (tx) => {
      // Blocks concurrent movements (they take ROW EXCLUSIVE) for the short time of the repair,
      // and waits for those in flight, so the recount is exact.
      await tx.query('LOCK TABLE inventory IN SHARE ROW EXCLUSIVE MODE');
      const rows = await inventorySql.drift(tx, await this.deps.heldByOpenOrders(tx));
      if (rows.length > 0) {
        await tx.query(
          `UPDATE inventory i SET reserved_quantity = d.expected
           FROM unnest($1::uuid[], $2::int[]) AS d(product_id, expected)
           WHERE i.product_id = d.product_id`,
          [rows.map((r) => r.product_id), rows.map((r) => r.expected_reserved)],
        );
      }
      return rows.map(toDrift);
    });
    return { drift, fixed: drift.length > 0 };
  }
}

const toDrift = (r: { product_id: string; reserved_quantity: number; expected_reserved: number }): Drift => ({
  productId: r.product_id,
  reservedQuantity: r.reserved_quantity,
  expectedReserved: r.expected_reserved,
});

function isLowStockCursor(v: unknown): v is { available: number; productId: string } {
  const o = v as { available?: unknown; productId?: unknown } | null;
  return Number.isInteger(o?.available) && typeof o?.productId === 'string' && isUuid(o.productId);
}
