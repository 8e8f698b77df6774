/**
 * Which scope each admin route needs: one line per route, read by the admin context's hook
 * (src/assembly/server.ts), which stores it on the route and checks it on every request. A route
 * missing here is answered only to `*` keys, and test/security/admin-scopes.test.ts walks every
 * registered /admin route and fails on one with no line. `auditRead` marks reads of personal data:
 * each successful one is written to the audit log with the actor and the target.
 */
import type { AdminRouteRule } from '../http/admin-scopes.ts';

export const ADMIN_ROUTE_RULES: Readonly<Record<string, AdminRouteRule>> = {
  // Key management
  'GET /admin/api-keys/me': { access: 'authenticated' },
  'GET /admin/api-keys': { access: 'keys' },
  'POST /admin/api-keys': { access: 'keys' },
  'DELETE /admin/api-keys/:id': { access: 'keys' },

  // Catalogue
  'GET /admin/products': { access: 'catalog' },
  'POST /admin/products': { access: 'catalog' },
  'PATCH /admin/products/:id': { access: 'catalog' },
  'DELETE /admin/products/:id': { access: 'catalog' },
  'GET /admin/products/deleted': { access: 'catalog' },
  'GET /admin/products/export': { access: 'catalog' },
  'POST /admin/products/import': { access: 'catalog' },
  'POST /admin/products/:id/restore': { access: 'catalog' },
  'POST /admin/products/:id/variants': { access: 'catalog' },
  'PUT /admin/products/:id/options': { access: 'catalog' },
  'PATCH /admin/variants/:id': { access: 'catalog' },
  'DELETE /admin/variants/:id': { access: 'catalog' },
  'POST /admin/products/:id/images': { access: 'catalog' },
  'POST /admin/products/:id/images/uploads': { access: 'catalog' },
  'POST /admin/products/:id/images/uploaded': { access: 'catalog' },
  'POST /admin/categories': { access: 'catalog' },
  'PATCH /admin/categories/:id': { access: 'catalog' },
  'DELETE /admin/categories/:id': { access: 'catalog' },
  'GET /admin/categories/deleted': { access: 'catalog' },
  'POST /admin/categories/:id/restore': { access: 'catalog' },
  'GET /admin/stats/products': { access: 'catalog' },
  'GET /admin/stats/products/:id/variants': { access: 'catalog' },

  // Promotions (prices are the catalogue's)
  'POST /admin/promotions': { access: 'catalog' },
  'GET /admin/promotions': { access: 'catalog' },
  'GET /admin/promotions/:id': { access: 'catalog' },
  'PATCH /admin/promotions/:id': { access: 'catalog' },
  'DELETE /admin/promotions/:id': { access: 'catalog' },
  'POST /admin/promotions/:id/codes': { access: 'catalog' },
  'GET /admin/promotions/:id/codes': { access: 'catalog' },
  'GET /admin/promotions/:id/codes/export': { access: 'catalog' },
  'GET /admin/promotions/:id/redemptions': { access: 'catalog' },

  // Inventory
  'PUT /admin/inventory/:productId': { access: 'inventory' },
  'PUT /admin/inventory/variants/:variantId': { access: 'inventory' },
  'GET /admin/inventory/low-stock': { access: 'inventory' },
  'GET /admin/inventory/reconcile': { access: 'inventory' },
  'POST /admin/inventory/reconcile': { access: 'inventory' },

  // Orders and payments (refunds move money: a scope of their own)
  'GET /admin/orders': { access: 'orders' },
  'GET /admin/orders/overview': { access: 'orders' },
  'GET /admin/orders/:id': { access: 'orders' },
  'POST /admin/orders/:id/transition': { access: 'orders' },
  'POST /admin/orders/:id/fulfillments': { access: 'orders' },
  'GET /admin/orders/:id/events': { access: 'orders' },
  'GET /admin/order-items': { access: 'orders' },
  'GET /admin/orders/:id/payments': { access: 'orders' },
  'GET /admin/payments/attention': { access: 'orders' },
  'POST /admin/orders/:id/refunds': { access: 'refunds' },

  // Freight (the table engine's zones)
  'GET /admin/shipping/zones': { access: 'orders' },
  'POST /admin/shipping/zones': { access: 'orders' },
  'GET /admin/shipping/zones/:id': { access: 'orders' },
  'PATCH /admin/shipping/zones/:id': { access: 'orders' },
  'DELETE /admin/shipping/zones/:id': { access: 'orders' },

  // Customers (personal data: every read is audited) and privacy (export, erasure)
  'GET /admin/customers': { access: 'customers', auditRead: true },
  'GET /admin/customers/:id': { access: 'customers', auditRead: true },
  'GET /admin/customers/:id/export': { access: 'privacy', auditRead: true },
  'POST /admin/customers/:id/anonymize': { access: 'privacy' },

  // Operations
  'GET /admin/audit': { access: 'operations' },
  'GET /admin/backups': { access: 'operations' },
  'GET /admin/outbox': { access: 'operations' },
  'GET /admin/jobs': { access: 'operations' },
  'GET /admin/jobs/runs': { access: 'operations' },
  'POST /admin/jobs/:name/run': { access: 'operations' },
  'POST /admin/retention/run': { access: 'operations' },
  'POST /admin/search/reindex': { access: 'operations' },
  'GET /admin/search/reindex/:jobId': { access: 'operations' },
  'POST /admin/stats/refresh': { access: 'operations' },

  // Outgoing webhooks (endpoints, secrets, deliveries)
  'GET /admin/webhooks/event-types': { access: 'webhooks' },
  'GET /admin/webhooks': { access: 'webhooks' },
  'POST /admin/webhooks': { access: 'webhooks' },
  'GET /admin/webhooks/:id': { access: 'webhooks' },
  'PATCH /admin/webhooks/:id': { access: 'webhooks' },
  'DELETE /admin/webhooks/:id': { access: 'webhooks' },
  'POST /admin/webhooks/:id/rotate-secret': { access: 'webhooks' },
  'POST /admin/webhooks/:id/test': { access: 'webhooks' },
  'GET /admin/webhooks/:id/deliveries': { access: 'webhooks' },
  'POST /admin/webhooks/:id/deliveries/:deliveryId/retry': { access: 'webhooks' },
};

/** The rule of a route (`HEAD` follows its `GET`), or undefined when the table has no line for it. */
export function adminRouteRule(method: string, url: string): AdminRouteRule | undefined {
  return ADMIN_ROUTE_RULES[`${method === 'HEAD' ? 'GET' : method} ${url}`];
}
