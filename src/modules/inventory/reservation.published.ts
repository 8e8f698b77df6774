/**
 * The inventory module's one published statement: the one-product reservation, which the orders
 * module's one-statement order runs as a CTE (docs/decisions/0003-one-statement-orders.md). It is
 * the inventory's SQL, kept in the inventory module and imported from here by name, so that the
 * ownership test knows the orders module writes `inventory` only through it.
 */

/**
 * The one-product reservation: a guarded UPDATE (free units never go below zero; its row lock
 * queues concurrent buyers) of a live product's stock, also returning the product's price.
 * `guard` is a fixed SQL condition of the caller's (never input) that does not read the rows: it
 * is checked once, before any row is read or locked (e.g. an admission sub-select).
 */
export const reserveOneLiveSql = (guard: string) => `UPDATE inventory i
             SET available_quantity = i.available_quantity - $2, reserved_quantity = i.reserved_quantity + $2
             FROM products p
             WHERE ${guard} AND i.product_id = $1 AND p.id = $1 AND p.deleted_at IS NULL AND i.available_quantity >= $2
             RETURNING i.product_id AS "productId", i.available_quantity AS "availableQuantity",
                       i.reserved_quantity AS "reservedQuantity", p.base_price AS "basePrice"`;
export const RESERVE_ONE_LIVE_SQL = reserveOneLiveSql('TRUE');
