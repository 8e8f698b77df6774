import type { Logger } from 'pino';
import { matches, runInline, type ConsumerSpec, type EventBus } from './bus.ts';
import type { EventEnvelope } from './outbox.ts';

/**
 * In-process dispatch (no AMQP_URL): the relay's publish runs the matching consumers right away,
 * each retried a bounded number of times. One that keeps failing on a bad event is logged as
 * dead-lettered and does not hold the others back; one that keeps failing because a dependency is
 * away fails the publish, so the event stays in the outbox and is delivered again later (the
 * consumers are idempotent, and those that already ran do the same thing twice).
 */
export class LocalEventBus implements EventBus {
  private readonly consumers: ConsumerSpec[] = [];

  constructor(private readonly logger: Logger) {}

  async publish(event: EventEnvelope): Promise<void> {
    for (const c of this.consumers)
      if (matches(c.bindings, event.type)) await runInline(c, event, this.logger);
  }

  consume(spec: ConsumerSpec): Promise<void> {
    this.consumers.push(spec);
    return Promise.resolve();
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.consumers.length = 0;
    return Promise.resolve();
  }
}
