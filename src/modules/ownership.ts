/**
 * Who owns each table: the one module (or platform adapter) whose SQL may write it. Any other
 * module changes it through the owner's service, taking the caller's transaction when the change
 * must commit with its own. Reads of another owner's table are allowed only where written down
 * below, each with its reason (docs/decisions/0005-module-boundaries.md).
 * test/architecture/ownership.test.ts reads the SQL literals of every file and holds the code to
 * this map.
 */

/** Owner -> the tables only its SQL writes. An owner is `modules/<name>` or `platform/<name>`. */
export const TABLE_OWNERS = {
  'modules/catalog': ['products', 'categories', 'product_variants', 'product_options'],
  'modules/media': ['product_images'],
  'modules/inventory': ['inventory'],
  'modules/orders': ['orders', 'order_items', 'order_fulfillments', 'order_events'],
  'modules/carts': ['carts', 'cart_items'],
  'modules/customers': ['customers', 'customer_addresses'],
  'modules/shipping': ['shipping_zones', 'shipping_quotes'],
  'modules/reviews': ['reviews'],
  'modules/payments': ['payment_attempts', 'payment_events', 'payment_refunds'],
  'modules/idempotency': ['idempotency_keys'],
  'modules/audit': ['audit_log'],
  'modules/admin-keys': ['admin_api_keys'],
  'modules/archive': ['order_archive', 'archived_sales', 'archive_customer_keys'],
  'modules/uploads': ['upload_records'],
  'modules/promotions': ['promotions', 'promotion_codes', 'promotion_redemptions'],
  'modules/stats': ['product_stats'],
  'modules/seed': ['seed_deferred_indexes'],
  'modules/webhooks': ['webhook_endpoints', 'webhook_deliveries', 'webhook_attempts'],
  'platform/events': ['outbox', 'outbox_lanes'],
  'platform/sessions': ['sessions'],
  'platform/jobs': ['job_runs'],
  'platform/search': ['search_documents', 'search_words'],
} as const satisfies Record<string, readonly string[]>;

export type Owner = keyof typeof TABLE_OWNERS;

export interface Exception {
  /** Who reaches into another owner's table: a module or adapter folder, or a file directly under platform/. */
  who: `modules/${string}` | `platform/${string}`;
  table: string;
  /** `read`: selects (joins) only. `write`: writes too. */
  access: 'read' | 'write';
  why: string;
}

/** Every way a module reaches into a table it does not own, on purpose. */
export const EXCEPTIONS: Exception[] = [
  {
    who: 'modules/catalog',
    table: 'inventory',
    access: 'read',
    why: 'the product page and listings show stock in the same query (a hot path the benchmark measures)',
  },
  {
    who: 'modules/catalog',
    table: 'reviews',
    access: 'read',
    why: 'the product page and listings show the rating in the same query',
  },
  {
    who: 'modules/catalog',
    table: 'product_images',
    access: 'read',
    why: 'the product page and listings show image URLs in the same query',
  },
  {
    who: 'modules/inventory',
    table: 'products',
    access: 'read',
    why: 'the reservation reserves live products only and returns the price; the low-stock report names them',
  },
  {
    who: 'modules/inventory',
    table: 'product_variants',
    access: 'read',
    why: 'the reservation reserves live variants only and returns what the order line keeps (price, SKU, options); the low-stock report names them',
  },
  {
    who: 'modules/carts',
    table: 'products',
    access: 'read',
    why: 'a cart is shown with its lines priced live in one query',
  },
  {
    who: 'modules/carts',
    table: 'inventory',
    access: 'read',
    why: 'a cart is shown with the stock of each line in the same query',
  },
  {
    who: 'modules/carts',
    table: 'product_variants',
    access: 'read',
    why: 'a line is added for one live variant (checked in the adding statement) and shown with its price and SKU in the same query',
  },
  {
    who: 'modules/orders',
    table: 'idempotency_keys',
    access: 'write',
    why: 'the one-statement keyed order claims its key in the statement that places it (ADR 0003)',
  },
  {
    who: 'modules/orders',
    table: 'outbox',
    access: 'write',
    why: 'the one-statement order appends its events in the statement that places it (the outbox is written with the data it describes)',
  },
  {
    who: 'modules/seed',
    table: 'products',
    access: 'write',
    why: 'the seeder is a bulk loader (COPY in batches of tens of thousands); services would take hours for a million products',
  },
  {
    who: 'modules/seed',
    table: 'categories',
    access: 'write',
    why: 'the seeder is a bulk loader',
  },
  {
    who: 'modules/seed',
    table: 'inventory',
    access: 'write',
    why: 'the seeder is a bulk loader',
  },
  {
    who: 'modules/seed',
    table: 'product_variants',
    access: 'write',
    why: 'the seeder is a bulk loader (the demo catalog has products with sizes, colours and volumes)',
  },
  {
    who: 'modules/seed',
    table: 'product_options',
    access: 'write',
    why: 'the seeder is a bulk loader',
  },
  {
    who: 'modules/uploads',
    table: 'order_items',
    access: 'read',
    why: 'an upload is unreferenced (and expires) when no order line names it: checked in the deleting statement, answered by the GIN index on customization',
  },
  {
    who: 'modules/payments',
    table: 'orders',
    access: 'read',
    why: 'the boleto caps count the pending orders (and their units) a payer document and address hold, in the statement that admits the boleto',
  },
  {
    who: 'modules/payments',
    table: 'order_items',
    access: 'read',
    why: 'the boleto caps count units, in the same statement',
  },
  {
    who: 'platform/metrics.ts',
    table: 'outbox',
    access: 'read',
    why: 'the outbox backlog gauges are read where metrics are registered',
  },
];
