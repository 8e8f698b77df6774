/**
 * The outbox relay (in the worker). Events of one aggregate share a lane; a lane is relayed by one
 * worker at a time, under a transaction-scoped advisory lock, in outbox-id order. A pass takes
 * every free lane in one transaction (a few round trips, however many lanes). Rows are claimed
 * with FOR UPDATE SKIP LOCKED, published with confirms, and marked published in the same
 * transaction. A failed publish stops its lane (later events of the same aggregates wait behind
 * it) and is retried on the next pass: nothing is lost, nothing overtakes.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import { withTransaction } from '../db/transaction.ts';
import { defineJob, type Job } from '../jobs/scheduler.ts';
import type { EventBus } from './bus.ts';
import type { EventEnvelope } from './outbox.ts';

export const LANES = 8;
const LANE_LOCK_BASE = 7_341_000; // advisory lock keys LANE_LOCK_BASE + lane

interface Row {
  id: number;
  lane: number;
  aggregate_type: string;
  aggregate_id: string;
  event_type: string;
  payload: Record<string, unknown>;
  created_at: Date;
}

export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly deps: { pool: pg.Pool; bus: EventBus; logger: Logger; published?: Counter<'type'> },
    private readonly options: { batchSize?: number; idleMs?: number; gatherMs?: number } = {},
  ) {}

  /**
   * Relays what it can now: one transaction locks every lane with pending events that no other
   * worker holds, claims up to `batchSize` events of each, publishes them in outbox-id order, and
   * marks them published. Returns how many events were published.
   */
  async runOnce(): Promise<number> {
    // Checked outside a transaction first: an idle pass costs one cheap query.
    const pending = await this.pendingLanes();
    if (pending.length === 0) return 0;
    return withTransaction(
      this.deps.pool,
      async (tx) => {
        const { rows: owned } = await tx.query<{ lane: number }>({
          name: 'outbox_lock_lanes',
          text: `SELECT lane FROM unnest($1::int[]) AS l(lane) WHERE pg_try_advisory_xact_lock($2 + lane)`,
          values: [pending, LANE_LOCK_BASE],
        });
        if (owned.length === 0) return 0; // other workers have them all
        const { rows } = await tx.query<Row>({
          name: 'outbox_claim_lanes',
          text: `SELECT o.id, o.lane, o.aggregate_type, o.aggregate_id, o.event_type, o.payload, o.created_at
                 FROM unnest($1::int[]) AS l(lane) CROSS JOIN LATERAL (
                   SELECT * FROM outbox WHERE lane = l.lane AND published_at IS NULL
                   ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) o
                 ORDER BY o.id`,
          values: [owned.map((l) => l.lane), this.options.batchSize ?? 200],
        });
        const done: number[] = [];
        const stopped = new Set<number>(); // lanes whose publish failed this pass
        for (const r of rows) {
          if (stopped.has(r.lane)) continue;
          const event: EventEnvelope = {
            id: r.id,
            type: r.event_type,
            aggregateType: r.aggregate_type,
            aggregateId: r.aggregate_id,
            payload: r.payload,
            occurredAt: r.created_at.toISOString(),
          };
          try {
            await this.deps.bus.publish(event);
            done.push(r.id);
            this.deps.published?.inc({ type: r.event_type });
          } catch (err) {
            stopped.add(r.lane);
            await tx.query('UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1', [
              r.id,
              err instanceof Error ? err.message.slice(0, 500) : 'publish failed',
            ]);
            this.deps.logger.warn(
              { err, eventId: r.id, lane: r.lane },
              'outbox publish failed; the lane waits and retries',
            );
          }
        }
        if (done.length)
          await tx.query('UPDATE outbox SET published_at = NOW() WHERE id = ANY($1::bigint[])', [done]);
        return done.length;
      },
      { retries: 0 },
    );
  }

  /** The lanes that have unpublished events: one query, one probe of the pending-rows index per lane. */
  private async pendingLanes(): Promise<number[]> {
    const { rows } = await this.deps.pool.query<{ lane: number }>({
      name: 'outbox_pending_lanes',
      text: `SELECT g.lane FROM generate_series(0, ${LANES - 1}) AS g(lane)
             CROSS JOIN LATERAL (SELECT 1 FROM outbox o WHERE o.lane = g.lane AND o.published_at IS NULL LIMIT 1) p`,
    });
    return rows.map((r) => r.lane);
  }

  /** Polls continuously: immediately again after a busy pass, after `idleMs` after an idle one. */
  start(): void {
    const loop = async () => {
      if (this.stopped) return;
      let n = 0;
      try {
        n = await this.runOnce();
      } catch (err) {
        this.deps.logger.warn({ err }, 'outbox relay pass failed');
      }
      if (this.stopped) return;
      const next = () => {
        this.running = loop();
      };
      // A full batch: more is waiting, go on at once. Some events: let a few milliseconds' worth
      // gather, so a busy store pays a pass per batch, not per event. None: poll again later.
      const batch = this.options.batchSize ?? 200;
      const delay = n >= batch ? 0 : n > 0 ? (this.options.gatherMs ?? 20) : (this.options.idleMs ?? 200);
      this.timer = setTimeout(next, delay);
    };
    this.running = loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Deletes published events older than `days`, in batches. */
  pruneJob(options: { intervalMs: number; days: number; batch?: number }): Job {
    const { days, batch = 10_000 } = options;
    return defineJob({
      name: 'prune-outbox',
      intervalMs: options.intervalMs,
      run: async (signal) => {
        let deleted = 0;
        for (;;) {
          if (signal.aborted) break;
          const { rowCount } = await this.deps.pool.query(
            `DELETE FROM outbox WHERE id IN (
               SELECT id FROM outbox WHERE published_at < NOW() - make_interval(days => $1) ORDER BY id LIMIT $2)`,
            [days, batch],
          );
          deleted += rowCount ?? 0;
          if ((rowCount ?? 0) < batch) break;
        }
        return { deleted };
      },
    });
  }
}
