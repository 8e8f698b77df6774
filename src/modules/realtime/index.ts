import { routes, type ShopFlowModule } from '../module.ts';
import { realtimeRoutes } from './realtime.routes.ts';
import type { RealtimeService } from './realtime.service.ts';

export function realtimeModule(deps: {
  realtime: RealtimeService;
  maxConnectionsPerAddress: number;
  maxMessagesPerSecond: number;
}): ShopFlowModule {
  return { name: 'realtime', routes: [routes('public', realtimeRoutes, deps, ['websocket'])] };
}
