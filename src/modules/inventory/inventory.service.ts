import type { Database, Queryable } from '../../platform/db/pool.ts';
import { withTransaction } from '../../platform/db/transaction.ts';
import { AppError } from '../../platform/errors.ts';
import { isUuid } from '../../platform/ids.ts';
import { decodeCursor, keysetPage } from '../../platform/cursor.ts';
import {
  inventoryEvents,
  inventorySql,
  type LowStockCrossing,
  type LowStockRow,
  type StockLevel,
  type StockLine,
  type VariantLevel,
} from './inventory.sql.ts';

export type { LowStockCrossing, StockLevel, StockLine, VariantLevel };

import { recordEvents } from '../../platform/events/outbox.ts';

export interface Drift {
  productId: string;
  variantId: string;
  reservedQuantity: number;
  expectedReserved: number;
}

export interface LowStockItem {
  productId: string;
  variantId: string;
  sku: string;
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
      /** What open orders hold, per variant (the orders module knows): the truth reconcile restores. */
      heldByOpenOrders: (db: Queryable) => Promise<StockLine[]>;
      /** Free units at or below which a variant is low on stock (`inventory.low_stock` on the way down). */
      lowStockThreshold: number;
    },
  ) {}

  get lowStockThreshold(): number {
    return this.deps.lowStockThreshold;
  }

  // Stock movements inside a caller's transaction (orders, catalog). The caller records the
  // events ({@link events}) in the same transaction and notifies after commit.

  /** The stock row of a new variant. */
  createLevel(tx: Queryable, productId: string, variantId: string, available: number): Promise<void> {
    return inventorySql.create(tx, productId, variantId, available);
  }

  /** Locks the rows of several variants in variant-id order (no deadlocks) and returns their levels. */
  lockLevels(tx: Queryable, variantIds: string[]): Promise<Map<string, VariantLevel>> {
    return inventorySql.lockLevels(tx, variantIds);
  }

  /**
   * Reserves several lines whose rows are locked ({@link lockLevels}); guarded too. How many
   * lines were reserved, the products' levels after, and the variants that fell to the
   * low-stock threshold (pass them to {@link events}).
   */
  reserveMany(
    tx: Queryable,
    lines: StockLine[],
  ): Promise<{ reserved: number; levels: StockLevel[]; lowStock: LowStockCrossing[] }> {
    return inventorySql.reserveMany(tx, lines, this.deps.lowStockThreshold);
  }

  /**
   * A variant leaves the catalog (soft delete): its free units can no longer be sold, so they
   * leave the product's totals; units reserved by open orders stay until those orders settle.
   */
  async retireInTx(tx: Queryable, productId: string, variantId: string): Promise<StockLevel> {
    return inventorySql.setAvailable(tx, productId, variantId, 0);
  }

  /**
   * Sets the free stock of many variants in the caller's transaction (the catalog import): new
   * variants get their stock row, existing ones their new level. The caller records
   * {@link events} of the returned levels in the same transaction and calls {@link notify} after commit.
   */
  setLevelsInTx(
    tx: Queryable,
    levels: { productId: string; variantId: string; available: number }[],
  ): Promise<StockLevel[]> {
    return inventorySql.setAvailableMany(tx, levels);
  }

  /** Refreshes the planner's statistics of the stock table after a bulk change (the catalog import). */
  analyze(): Promise<void> {
    return inventorySql.analyze(this.deps.db.primary);
  }

  /** Free units per variant. */
  availableOf(tx: Queryable, variantIds: string[]): Promise<Map<string, number>> {
    return inventorySql.availableOf(tx, variantIds);
  }

  /** Returns reserved units to stock (`release`) or lets them leave (`consume`). */
  settle(tx: Queryable, lines: StockLine[], mode: 'release' | 'consume'): Promise<StockLevel[]> {
    return lines.length ? inventorySql.settle(tx, lines, mode) : Promise.resolve([]);
  }

  /** The outbox events of committed levels (`inventory.changed`) and of low-stock crossings. */
  events(levels: StockLevel[], lowStock: LowStockCrossing[] = []) {
    return inventoryEvents(levels, lowStock, this.deps.lowStockThreshold);
  }

  /** One variant's stock as the low-stock report shows it (a webhook's `stock`); undefined: no such row. */
  async variantStock(variantId: string): Promise<LowStockItem | undefined> {
    if (!isUuid(variantId)) return undefined;
    const r = await inventorySql.variantStock(this.deps.db.primary, variantId);
    return r && toLowStockItem(r);
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

  /**
   * Sets the free stock of a one-variant product (the route of clients from before variants);
   * 409 `variant_required` for a product with several variants.
   */
  async setAvailable(productId: string, available: number): Promise<StockLevel> {
    if (!isUuid(productId)) throw AppError.notFound('Product', { productId });
    return this.setLevel(available, async (tx) => {
      const variants = await inventorySql.liveVariantsOf(tx, productId);
      if (!variants || variants.length === 0) throw AppError.notFound('Product', { productId });
      if (variants.length > 1)
        throw AppError.conflict(
          'variant_required',
          'This product has several variants: set the stock of each (PUT /admin/inventory/variants/:variantId)',
          { productId, variantIds: variants },
        );
      return { productId, variantId: variants[0]! };
    });
  }

  /** Sets the free stock of one variant (restock or correction). */
  async setVariantAvailable(variantId: string, available: number): Promise<StockLevel> {
    if (!isUuid(variantId)) throw AppError.notFound('Variant', { variantId });
    return this.setLevel(available, async (tx) => {
      const productId = await inventorySql.productOfLiveVariant(tx, variantId);
      if (!productId) throw AppError.notFound('Variant', { variantId });
      return { productId, variantId };
    });
  }

  private async setLevel(
    available: number,
    target: (tx: Queryable) => Promise<{ productId: string; variantId: string }>,
  ): Promise<StockLevel> {
    const threshold = this.deps.lowStockThreshold;
    const level = await withTransaction(this.deps.db.primary, async (tx) => {
      const { productId, variantId } = await target(tx);
      // The level before, locked: a correction downwards may cross the low-stock threshold.
      const before = (await inventorySql.lockLevels(tx, [variantId])).get(variantId)?.availableQuantity;
      const level = await inventorySql.setAvailable(tx, productId, variantId, available);
      const crossed = before !== undefined && before > threshold && available <= threshold;
      await recordEvents(
        tx,
        inventoryEvents(
          [level],
          crossed ? [{ productId, variantId, availableQuantity: available }] : [],
          threshold,
        ),
      );
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
    return keysetPage(rows, limit, toLowStockItem, (last) => ({
      available: last.available_quantity,
      variantId: last.variant_id,
    }));
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
           FROM unnest($1::uuid[], $2::int[]) AS d(variant_id, expected)
           WHERE i.variant_id = d.variant_id`,
          [rows.map((r) => r.variant_id), rows.map((r) => r.expected_reserved)],
        );
      }
      return rows.map(toDrift);
    });
    return { drift, fixed: drift.length > 0 };
  }
}

const toLowStockItem = (r: LowStockRow): LowStockItem => ({
  productId: r.product_id,
  variantId: r.variant_id,
  sku: r.sku,
  name: r.name,
  availableQuantity: r.available_quantity,
  reservedQuantity: r.reserved_quantity,
});

const toDrift = (r: {
  product_id: string;
  variant_id: string;
  reserved_quantity: number;
  expected_reserved: number;
}): Drift => ({
  productId: r.product_id,
  variantId: r.variant_id,
  reservedQuantity: r.reserved_quantity,
  expectedReserved: r.expected_reserved,
});

function isLowStockCursor(v: unknown): v is { available: number; variantId: string } {
  const o = v as { available?: unknown; variantId?: unknown } | null;
  return Number.isInteger(o?.available) && typeof o?.variantId === 'string' && isUuid(o.variantId);
}
