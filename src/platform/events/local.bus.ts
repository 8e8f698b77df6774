import type { Logger } from 'pino';
import { MAX_DELIVERIES, matches, type ConsumerSpec, type EventBus } from './bus.ts';
import type { EventEnvelope } from './outbox.ts';

/**
 * In-process dispatch (no AMQP_URL): the relay's publish runs the matching consumers right away,
 * each retried a bounded number of times; one that keeps failing is logged as dead-lettered and
 * does not hold the others back.
 */
export class LocalEventBus implements EventBus {
  private readonly consumers: ConsumerSpec[] = [];

  constructor(private readonly logger: Logger) {}

  async publish(event: EventEnvelope): Promise<void> {
    for (const c of this.consumers) {
      if (!matches(c.bindings, event.type)) continue;
      for (let attempt = 1; ; attempt++) {
        try {
          await c.handler(event);
          break;
        } catch (err) {
          if (attempt >= MAX_DELIVERIES) {
            this.logger.error(
              { err, consumer: c.name, eventId: event.id, type: event.type },
              'event dead-lettered',
            );
            break;
          }
        }
      }
    }
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
