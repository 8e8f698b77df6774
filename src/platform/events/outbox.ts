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

export async function recordEvents(tx: Queryable, events: DomainEvent[]): Promise<void> {
  if (events.length === 0) return;
  await tx.query({
    name: 'outbox_record',
    text: `INSERT INTO outbox (aggregate_type, aggregate_id, event_type, payload)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[])`,
    values: [
      events.map((e) => e.aggregateType),
      events.map((e) => e.aggregateId),
      events.map((e) => e.type),
      events.map((e) => JSON.stringify(e.payload)),
    ],
  });
}
