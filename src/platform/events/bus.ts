/** The event bus port: RabbitMQ in production, in-process dispatch in the embedded default. */
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
