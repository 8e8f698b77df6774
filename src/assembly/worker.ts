/**
 * The background side: every module's event consumers, the outbox relay, and every module's
 * scheduled jobs. Run by `shopflow worker`, and beside the API by `shopflow serve` with
 * SHOPFLOW_ROLE=all. Adding a job or a consumer touches its module, not this file.
 */
import type { Logger } from 'pino';
import type { EventBus } from '../platform/events/bus.ts';
import type { OutboxRelay } from '../platform/events/relay.ts';
import type { JobRunner } from '../platform/jobs/runner.ts';
import type { ShopFlowModule } from '../modules/module.ts';

/** How long start waits for the broker before going on without it. */
const SUBSCRIBE_WAIT_MS = 5000;

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
  jobs: JobRunner;
  logger: Logger;
}): Worker {
  const scheduler = deps.jobs;
  const consumers: string[] = [];
  let started = false;
  return {
    running: { jobs: scheduler.scheduled, consumers },
    async start() {
      if (started) return;
      started = true;
      // Consumers subscribe before the relay starts, so that a first start declares their queues
      // before anything is published. A broker that is away does not hold the worker back: the
      // subscriptions complete when it returns, and meanwhile the relay keeps events in the outbox.
      const subscribing = deps.modules
        .flatMap((m) => m.consumers ?? [])
        .map((spec) =>
          deps.bus.consume(spec).then(
            () => consumers.push(spec.name),
            (err: unknown) => deps.logger.error({ err, consumer: spec.name }, 'consumer subscription failed'),
          ),
        );
      const waited = await Promise.race([
        Promise.all(subscribing).then(() => true),
        new Promise<false>((r) => setTimeout(() => r(false), SUBSCRIBE_WAIT_MS).unref()),
      ]);
      if (!waited)
        deps.logger.warn('the event broker is not reachable yet; consumers subscribe when it returns');
      deps.relay.start();
      for (const loop of deps.modules.flatMap((m) => m.loops ?? [])) loop.start();
      await scheduler.start();
      deps.logger.info({ jobs: scheduler.scheduled, consumers }, 'background work started');
    },
    async stop() {
      await scheduler.stop();
      if (started) await Promise.all(deps.modules.flatMap((m) => m.loops ?? []).map((l) => l.stop()));
      await deps.relay.stop();
    },
  };
}
