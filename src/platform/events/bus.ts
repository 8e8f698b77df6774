/** The event bus port: RabbitMQ in production, in-process dispatch in the embedded default. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { isConnectionError } from '../db/pg-errors.ts';
import { AppError } from '../errors.ts';
import type { EventEnvelope } from './outbox.ts';

export type EventHandler = (event: EventEnvelope) => Promise<void>;

export interface ConsumerSpec {
  /** A durable consumer name: its queue is `shopflow.<name>`. */
  name: string;
  /** Routing keys (event types) it wants; `#` for all. */
  bindings: string[];
  handler: EventHandler;
  /**
   * Run by the relay as part of publishing, in outbox order per aggregate, instead of from a
   * queue of its own: an event's handler has finished before the aggregate's next event is
   * published, in whichever process relays it (a queue's consumer handles several messages at
   * once, and several workers share a queue, so a queue keeps no order between an aggregate's
   * events once they are being handled). For a quick, idempotent handler whose effects must
   * follow the aggregate's order (the webhook fan-out). A handler that keeps failing because a
   * dependency is away fails the publish (the event stays in the outbox and its lane waits); one
   * that keeps failing on a bad event is logged as dead-lettered and does not hold the lane.
   */
  inline?: boolean;
}

/**
 * Declares a consumer. Every consumer is made through this function, so a test can find each one
 * in the source and check that the worker subscribes it.
 */
export function defineConsumer(spec: ConsumerSpec): ConsumerSpec {
  return spec;
}

export interface EventBus {
  /** Resolves once the broker has confirmed the event (or every local consumer has run). */
  publish(event: EventEnvelope): Promise<void>;
  consume(spec: ConsumerSpec): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const EXCHANGE = 'shopflow.events';
export const DEAD_LETTER_EXCHANGE = 'shopflow.events.dead';
/** Deliveries of one message before it is dead-lettered. */
export const MAX_DELIVERIES = 5;

/**
 * Runs one consumer's handler on an event the way the relay's publish does (the local bus for
 * every consumer, the broker's bus for inline ones): retried a bounded number of times; a
 * dependency that stays away fails the call, a bad event is logged as dead-lettered.
 */
export async function runInline(spec: ConsumerSpec, event: EventEnvelope, logger: Logger): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await spec.handler(event);
      return;
    } catch (err) {
      if (attempt >= MAX_DELIVERIES && isTransient(err)) throw err;
      if (attempt >= MAX_DELIVERIES) {
        logger.error(
          { err, consumer: spec.name, eventId: event.id, type: event.type },
          'event dead-lettered',
        );
        return;
      }
      await sleep(20 * attempt);
    }
  }
}

export function matches(bindings: string[], type: string): boolean {
  return bindings.some(
    (b) =>
      b === '#' ||
      b === type ||
      (b.endsWith('.*') && type.startsWith(b.slice(0, -1)) && !type.slice(b.length - 1).includes('.')),
  );
}

/**
 * A handler failure that says a dependency is away (the database, object storage), not that the
 * event is bad: it is retried for as long as the outage lasts, instead of spending the event's
 * bounded deliveries and ending in the dead letters.
 */
export function isTransient(err: unknown): boolean {
  return isConnectionError(err) || (err instanceof AppError && err.kind === 'unavailable');
}
