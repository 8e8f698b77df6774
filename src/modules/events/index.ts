import type { EventBus } from '../../platform/events/bus.ts';
import type { OutboxRelay } from '../../platform/events/relay.ts';
import type { ShopFlowModule } from '../module.ts';

/**
 * The outbox and the bus as the rest of the system sees them: the broker's health, and the prune
 * job that deletes events published longer ago than the retention.
 */
export function eventsModule(deps: {
  bus: EventBus;
  relay: OutboxRelay;
  retentionDays: number;
}): ShopFlowModule {
  return {
    name: 'events',
    jobs: [deps.relay.pruneJob({ days: deps.retentionDays })],
    health: [{ name: 'bus', required: false, check: () => deps.bus.ping() }],
  };
}
