/**
 * The background side: every module's event consumers, the outbox relay, and every module's
 * scheduled jobs. Run by `shopflow worker`, and beside the API by `shopflow serve` with
 * SHOPFLOW_ROLE=all. Adding a job or a consumer touches its module, not this file.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { EventBus } from '../platform/events/bus.ts';
import type { OutboxRelay } from '../platform/events/relay.ts';
import { Scheduler } from '../platform/jobs/scheduler.ts';
import type { ShopFlowModule } from '../modules/module.ts';

export interface Worker {
  /** Subscribes the consumers, starts the relay and the schedules. */
  start(): Promise<void>;
  /** Stops the schedules (waiting for running jobs) and the relay. */
  stop(): Promise<void>;
  /** Names of the scheduled jobs and of the subscribed consumers, once started. */
  readonly running: { jobs: readonly string[]; consumers: readonly string[] };
}

export function createWorker(deps: {
  modules: ShopFlowModule[];
  bus: EventBus;
  relay: OutboxRelay;
  pool: pg.Pool;
  logger: Logger;
}): Worker {
  const scheduler = new Scheduler({ pool: deps.pool, logger: deps.logger });
  const consumers: string[] = [];
  let started = false;
  return {
    running: { jobs: scheduler.scheduled, consumers },
    async start() {
      if (started) return;
      started = true;
      for (const spec of deps.modules.flatMap((m) => m.consumers ?? [])) {
        await deps.bus.consume(spec);
        consumers.push(spec.name);
      }
      deps.relay.start();
      scheduler.start(deps.modules.flatMap((m) => m.jobs ?? []));
      deps.logger.info({ jobs: scheduler.scheduled, consumers }, 'background work started');
    },
    async stop() {
      await scheduler.stop();
      await deps.relay.stop();
    },
  };
}
