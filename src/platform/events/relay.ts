/**
 * The outbox relay (in the worker). Events of one aggregate share a lane; a lane is relayed by one
 * worker at a time, in outbox-id order, under a lease in `outbox_lanes`. A pass is three steps and
 * holds no database connection while it waits for the broker:
 *
 * 1. claim: one statement leases every free lane that has pending events (for `leaseMs`) and
 *    returns up to `batchSize` of each lane's oldest pending events;
 * 2. publish them in outbox-id order, with confirms; a failed publish stops its lane (later events
 *    of the same aggregates wait behind it). A long pass renews its leases as it goes, and stops
 *    when it cannot, so no other worker takes a lane while its events are still being sent;
 * 3. one statement marks the sent events published (each row once), records the failure, and gives
 *    the lanes back.
 *
 * A worker that dies between 2 and 3 leaves its events unmarked: another worker (or it, restarted)
 * sends them again once the lease has expired (10 s by default). Delivery is therefore at least
 * once, in order per aggregate, and every consumer is idempotent (docs/failure-modes.md). The
 * outbox records each event as published exactly once.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import { backoffDelay } from '../backoff.ts';
import { isConnectionError } from '../db/pg-errors.ts';
import { deleteInBatches } from '../jobs/batches.ts';
import { defineJob, type Job } from '../jobs/job.ts';
import type { EventBus } from './bus.ts';
import type { EventEnvelope } from './outbox.ts';

interface Row {
  id: number;
  lane: number;
  aggregate_type: string;
  aggregate_id: string;
  event_type: string;
  payload: Record<string, unknown>;
  created_at: Date;
}

/** What a pass could not write back yet (the database went away after the broker confirmed). */
interface Outcome {
  published: number[];
  failed?: { id: number; error: string };
  lanes: number[];
}

export class OutboxRelay {
  /** This relay's name in the lane leases. */
  readonly owner = `relay-${randomUUID()}`;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;
  /** Outcomes whose write-back failed; written before the next claim. */
  private unsettled: Outcome[] = [];

  constructor(
    private readonly deps: {
      pool: pg.Pool;
      bus: EventBus;
      logger: Logger;
      published?: Counter<'type'>;
      publishFailures?: Counter;
    },
    private readonly options: {
      batchSize?: number;
      idleMs?: number;
      gatherMs?: number;
      leaseMs?: number;
    } = {},
  ) {}

  private get leaseMs(): number {
    return this.options.leaseMs ?? 10_000;
  }

  /**
   * Relays what it can now: leases the lanes with pending events that no other worker holds,
   * publishes up to `batchSize` events of each in outbox-id order, marks them published and
   * releases the lanes. Returns how many events were published.
   */
  async runOnce(): Promise<number> {
    await this.settle();
    let renewed = Date.now();
    const { rows } = await this.deps.pool.query<Row>({
      name: 'outbox_claim_lanes',
      // Free lanes are locked in lane order and those another relay is claiming right now are
      // skipped: two relays never wait for each other, nor deadlock.
      text: `WITH free AS (
               SELECT l.lane FROM outbox_lanes l
               WHERE (l.lease_until < NOW() OR l.owner = $1)
                 AND EXISTS (SELECT 1 FROM outbox o WHERE o.lane = l.lane AND o.published_at IS NULL)
               ORDER BY l.lane FOR UPDATE SKIP LOCKED),
             owned AS (
               UPDATE outbox_lanes l SET owner = $1, lease_until = NOW() + make_interval(secs => $3)
               FROM free WHERE l.lane = free.lane
               RETURNING l.lane)
             SELECT o.id, o.lane, o.aggregate_type, o.aggregate_id, o.event_type, o.payload, o.created_at
             FROM owned CROSS JOIN LATERAL (
               SELECT * FROM outbox WHERE lane = owned.lane AND published_at IS NULL ORDER BY id LIMIT $2) o
             ORDER BY o.id`,
      values: [this.owner, this.options.batchSize ?? 200, this.leaseMs / 1000],
    });
    if (rows.length === 0) return 0;
    const outcome: Outcome = { published: [], lanes: [...new Set(rows.map((r) => r.lane))] };
    const stopped = new Set<number>(); // lanes whose publish failed this pass
    for (const r of rows) {
      if (stopped.has(r.lane)) continue;
      // A third of the lease gone: extend it before sending more (one publish waits at most the
      // broker's confirm timeout, well under the rest). Lanes no longer ours, or a database that
      // cannot be reached to say so, end the pass: the lease must outlive the sending.
      if (Date.now() - renewed > this.leaseMs / 3) {
        const ours = await this.renew(outcome.lanes).catch(() => undefined);
        if (!ours) break;
        for (const lane of outcome.lanes) if (!ours.has(lane)) stopped.add(lane);
        renewed = Date.now();
        if (stopped.has(r.lane)) continue;
      }
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
        outcome.published.push(r.id);
        this.deps.published?.inc({ type: r.event_type });
      } catch (err) {
        stopped.add(r.lane);
        this.deps.publishFailures?.inc();
        // Only the first failure of a pass is recorded on its row; the others wait behind theirs.
        outcome.failed ??= {
          id: r.id,
          error: err instanceof Error ? err.message.slice(0, 500) : 'publish failed',
        };
        this.deps.logger.warn(
          { err, eventId: r.id, lane: r.lane },
          'outbox publish failed; the lane waits and retries',
        );
      }
    }
    this.unsettled.push(outcome);
    await this.settle();
    return outcome.published.length;
  }

  /** Extends this relay's leases; returns the lanes it still holds. */
  private async renew(lanes: number[]): Promise<Set<number>> {
    const { rows } = await this.deps.pool.query<{ lane: number }>({
      name: 'outbox_renew_lanes',
      text: `UPDATE outbox_lanes SET lease_until = NOW() + make_interval(secs => $3)
             WHERE owner = $1 AND lane = ANY($2::int[]) AND lease_until > NOW() RETURNING lane`,
      values: [this.owner, lanes, this.leaseMs / 1000],
    });
    return new Set(rows.map((r) => r.lane));
  }

  /**
   * Writes back what passes published: marks the events (a row already marked stays as it was),
   * counts the failed attempt, releases this relay's leases on the lanes. Kept for the next pass
   * when the database is away; the leases then simply expire.
   */
  private async settle(): Promise<void> {
    while (this.unsettled.length > 0) {
      const o = this.unsettled[0]!;
      const write = () =>
        this.deps.pool.query({
          name: 'outbox_settle',
          text: `WITH marked AS (
                   UPDATE outbox SET published_at = NOW() WHERE id = ANY($2::bigint[]) AND published_at IS NULL),
                 failed AS (
                   UPDATE outbox SET attempts = attempts + 1, last_error = $4 WHERE id = $3)
                 UPDATE outbox_lanes SET lease_until = '-infinity' WHERE owner = $1 AND lane = ANY($5::int[])`,
          values: [this.owner, o.published, o.failed?.id ?? null, o.failed?.error ?? null, o.lanes],
        });
      // A pooled connection that died while the broker was being waited for fails once; the
      // pool has discarded it, and the second try gets a fresh one.
      await write().catch((err: unknown) => {
        if (!isConnectionError(err)) throw err;
        return write();
      });
      this.unsettled.shift();
    }
  }

  /**
   * Polls continuously: immediately again after a full pass, after `gatherMs` after a partial one,
   * after `idleMs` after an idle one. A failing pass (database or broker away) is logged and
   * retried with a growing, jittered delay, and the relay resumes by itself when they return.
   */
  start(): void {
    let failures = 0;
    const loop = async () => {
      if (this.stopped) return;
      let n = 0;
      let failed = false;
      try {
        n = await this.runOnce();
        failures = 0;
      } catch (err) {
        failed = true;
        failures++;
        this.deps.logger.warn({ err, failures }, 'outbox relay pass failed; retrying');
      }
      if (this.stopped) return;
      const next = () => {
        this.running = loop();
      };
      const batch = this.options.batchSize ?? 200;
      const delay = failed
        ? backoffDelay(failures, { baseMs: this.options.idleMs ?? 200, maxMs: 10_000 })
        : n >= batch
          ? 0
          : n > 0
            ? (this.options.gatherMs ?? 20)
            : (this.options.idleMs ?? 200);
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
  pruneJob(options: { days: number; batch?: number }): Job {
    const { days, batch = 10_000 } = options;
    return defineJob({
      name: 'prune-outbox',
      schedule: '17 * * * *',
      description: `Deletes outbox events published more than ${days} days ago, in batches`,
      run: async (ctx) => ({
        deleted: await deleteInBatches(
          this.deps.pool,
          `DELETE FROM outbox WHERE id IN (
             SELECT id FROM outbox WHERE published_at < NOW() - make_interval(days => $1) ORDER BY id LIMIT $2)`,
          [days],
          ctx,
          { batch, unit: 'events' },
        ),
      }),
    });
  }
}
