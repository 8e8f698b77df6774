/**
 * The transactional outbox: an event row commits in the same transaction as the change it
 * describes, so a change that commits always gets its event, and one that rolls back never does.
 */
import type { Queryable } from '../db/pool.ts';

export interface DomainEvent {
  type: string;
  aggregateType: string;
  aggregateId: string;
  payload: Record<string, unknown>;
}

/** What the bus carries: the event plus its outbox id (unique, increasing) and time. */
export interface EventEnvelope extends DomainEvent {
  id: number;
  occurredAt: string;
}

/**
 * The outbox INSERT with its four array parameters starting at `$first`, to be run alone
 * ({@link recordEvents}) or as one step of a larger statement (order placement writes its order,
 * items and events in one round trip).
 */
export const outboxInsertSql = (first: number) =>
  `INSERT INTO outbox (aggregate_type, aggregate_id, event_type, payload)
           SELECT * FROM unnest($${first}::text[], $${first + 1}::text[], $${first + 2}::text[], $${first + 3}::jsonb[])`;

/** The values of {@link outboxInsertSql}'s parameters, in order. */
export const outboxValues = (events: DomainEvent[]): [string[], string[], string[], string[]] => [
  events.map((e) => e.aggregateType),
  events.map((e) => e.aggregateId),
  events.map((e) => e.type),
  events.map((e) => JSON.stringify(e.payload)),
];

export async function recordEvents(tx: Queryable, events: DomainEvent[]): Promise<void> {
  if (events.length === 0) return;
  await tx.query({ name: 'outbox_record', text: outboxInsertSql(1), values: outboxValues(events) });
}
