import { routes, type ShopFlowModule } from '../module.ts';
import { auditAdminRoutes } from './audit.routes.ts';
import type { AuditService } from './audit.service.ts';

/** The audit log of admin changes (recorded by the server's admin scope, see assembly/server.ts). */
export function auditModule(deps: { audit: AuditService; retentionDays: number }): ShopFlowModule {
  return {
    name: 'audit',
    routes: [routes('admin', auditAdminRoutes, { audit: deps.audit })],
    jobs: [deps.audit.pruneJob(deps.retentionDays)],
  };
}
