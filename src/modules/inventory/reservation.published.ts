/**
 * The inventory module's one published statement: the one-product reservation, which the orders
 * module's one-statement order runs as a CTE (docs/decisions/0003-one-statement-orders.md). It is
 * the inventory's SQL, kept in the inventory module and imported from here by name, so that the
 * ownership test knows the orders module writes `inventory` only through it.
 */

/**
 * The one-variant reservation: a guarded UPDATE (free units never go below zero; its row lock
 * queues concurrent buyers) of a live variant's stock ($1 the variant, $2 the units), also
 * returning what the order line keeps of it (price, SKU, option values, product name) and the
 * product's totals over all its variants after the change (the other variants' rows are read, not
 * locked). `guard` is a fixed SQL condition of the caller's (never input) that does not read the
 * rows: it is checked once, before any row is read or locked (e.g. an admission sub-select).
 */
export const reserveOneLiveSql = (guard: string) => `UPDATE inventory i
             SET available_quantity = i.available_quantity - $2, reserved_quantity = i.reserved_quantity + $2
             FROM product_variants v JOIN products p ON p.id = v.product_id
             WHERE ${guard} AND i.variant_id = $1 AND v.id = $1 AND v.deleted_at IS NULL AND p.deleted_at IS NULL
               AND i.available_quantity >= $2
             RETURNING i.product_id AS "productId", i.variant_id AS "variantId",
                       i.available_quantity AS "availableQuantity", i.reserved_quantity AS "reservedQuantity",
                       v.price AS "basePrice", v.sku, v.options, p.name,
                       (SELECT COALESCE(SUM(o.available_quantity), 0) FROM inventory o
                         WHERE o.product_id = i.product_id AND o.variant_id <> i.variant_id)::int AS "otherAvailable",
                       (SELECT COALESCE(SUM(o.reserved_quantity), 0) FROM inventory o
                         WHERE o.product_id = i.product_id AND o.variant_id <> i.variant_id)::int AS "otherReserved"`;
export const RESERVE_ONE_LIVE_SQL = reserveOneLiveSql('TRUE');

/**
 * The outbox rows of `inventory.low_stock` for a reservation `source` (a CTE named like the
 * reservation's RETURNING: "productId", "variantId", "availableQuantity") that took `qty` units
 * and crossed the threshold (`threshold`, a parameter reference such as `$15`): from above it to
 * it or below. A SELECT to UNION into the caller's outbox insert, so the order statement emits it
 * in the same round trip, and only once per crossing (the next order starts at or below it).
 */
export const lowStockEventsSql = (source: string, qty: string, threshold: string) =>
  `SELECT 'product', ${source}."productId"::text, 'inventory.low_stock',
           jsonb_build_object('productId', ${source}."productId", 'variantId', ${source}."variantId",
                              'availableQuantity', ${source}."availableQuantity", 'threshold', ${threshold}::int)
    FROM ${source}
    WHERE ${source}."availableQuantity" <= ${threshold}::int AND ${source}."availableQuantity" + ${qty} > ${threshold}::int`;
