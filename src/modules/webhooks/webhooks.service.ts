/**
 * Outgoing webhooks: endpoints (URL, subscribed event types, a signing secret sealed at rest), the
 * fan-out of outbox events into one delivery row per subscribed endpoint, and what the admin sees
 * of the deliveries. Sending is the dispatcher's (webhooks.dispatcher.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { Gauge } from 'prom-client';
import type pg from 'pg';
import type { Database, Queryable } from '../../platform/db/pool.ts';
import { decodeCursor, isTimeIdCursor, keysetPage } from '../../platform/cursor.ts';
import { AppError } from '../../platform/errors.ts';
import { defineConsumer, type ConsumerSpec } from '../../platform/events/bus.ts';
import type { EventEnvelope } from '../../platform/events/outbox.ts';
import { isUuid } from '../../platform/ids.ts';
import { deleteInBatches } from '../../platform/jobs/batches.ts';
import { defineJob, type Job } from '../../platform/jobs/job.ts';
import type { Metrics } from '../../platform/metrics.ts';
import { SUBSCRIBABLE_TYPES, type WebhookEventType } from './webhooks.catalogue.ts';
import { dataOf, readsResource, type ResourceReaders } from './webhooks.payloads.ts';
import { newSecret, openSecret, sealSecret } from './webhooks.crypto.ts';
import { ipLiteralOf, isPublicAddress } from '../../platform/net/public-address.ts';
import {
  PRUNE_DELIVERIES_SQL,
  webhooksSql,
  type AttemptRow,
  type DeliveryRow,
  type EndpointRow,
} from './webhooks.sql.ts';

/** How long a rotated-out secret keeps signing beside the new one. */
export const ROTATION_OVERLAP_HOURS = 24;

export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string | null;
  events: string[];
  enabled: boolean;
  /** Why it is disabled: by an admin (`manual`) or after failing for days (`failing`). */
  disabledReason: 'manual' | 'failing' | null;
  disabledAt: string | null;
  /** Since when every attempt has failed (null: the last one succeeded). */
  failingSince: string | null;
  /** Until when the previous secret still signs beside the current one. */
  previousSecretExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface WebhookAttempt {
  attempt: number;
  at: string;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  response: string | null;
}

export interface WebhookDelivery {
  id: string;
  endpointId: string;
  eventId: number | null;
  webhookId: string;
  eventType: string;
  status: 'pending' | 'delivered' | 'failed';
  /** A pending delivery that has failed at least once. */
  retrying: boolean;
  attempts: number;
  nextAttemptAt: string | null;
  responseStatus: number | null;
  durationMs: number | null;
  error: string | null;
  /** The first bytes of the last answer. */
  response: string | null;
  createdAt: string;
  completedAt: string | null;
  attemptLog: WebhookAttempt[];
}

export interface EndpointInput {
  url: string;
  events: string[];
  description?: string | null;
  enabled?: boolean;
}

const toEndpoint = (r: EndpointRow): WebhookEndpoint => ({
  id: r.id,
  url: r.url,
  description: r.description,
  events: r.events,
  enabled: r.enabled,
  disabledReason: r.disabled_reason,
  disabledAt: r.disabled_at?.toISOString() ?? null,
  failingSince: r.failing_since?.toISOString() ?? null,
  previousSecretExpiresAt:
    r.previous_secret_expires_at && r.previous_secret_expires_at > new Date()
      ? r.previous_secret_expires_at.toISOString()
      : null,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

const toAttempt = (a: AttemptRow): WebhookAttempt => ({
  attempt: a.attempt,
  at: a.at.toISOString(),
  statusCode: a.status_code,
  durationMs: a.duration_ms,
  error: a.error,
  response: a.response,
});

const toDelivery = (r: DeliveryRow, attempts: AttemptRow[] = []): WebhookDelivery => ({
  id: r.id,
  endpointId: r.endpoint_id,
  eventId: r.event_id === null ? null : Number(r.event_id),
  webhookId: r.message_id,
  eventType: r.event_type,
  status: r.status,
  retrying: r.status === 'pending' && r.attempts > 0,
  attempts: r.attempts,
  nextAttemptAt: r.status === 'pending' ? r.next_attempt_at.toISOString() : null,
  responseStatus: r.last_status,
  durationMs: r.last_duration_ms,
  error: r.last_error,
  response: r.last_response,
  createdAt: r.created_at.toISOString(),
  completedAt: r.completed_at?.toISOString() ?? null,
  attemptLog: attempts.filter((a) => a.delivery_id === r.id).map(toAttempt),
});

export class WebhooksService {
  private readonly notFound = () => AppError.notFound('Webhook endpoint');
  /** Called after a fan-out or a manual retry: the local dispatcher looks at once. */
  private readonly wakers: (() => void)[] = [];

  constructor(
    private readonly deps: {
      db: Database;
      /** The resources events carry, as the owning modules' admin API shows them. */
      read: ResourceReaders;
      /** Null: no WEBHOOK_SECRETS_KEY in production; creating, rotating and signing answer 503. */
      secretsKey: Buffer | null;
      allowInsecureUrls: boolean;
      retentionDays: number;
      logger: Logger;
    },
  ) {}

  private key(): Buffer {
    if (!this.deps.secretsKey) throw AppError.unavailable('webhook secrets key (WEBHOOK_SECRETS_KEY)');
    return this.deps.secretsKey;
  }

  onWork(wake: () => void): void {
    this.wakers.push(wake);
  }

  private wake(): void {
    for (const w of this.wakers) w();
  }

  private checkUrl(raw: string): string {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw AppError.invalid('url must be an absolute URL', [{ field: 'url', message: 'invalid URL' }]);
    }
    const bad = (message: string) => AppError.invalid(message, [{ field: 'url', message }]);
    if (url.protocol !== 'https:' && !(this.deps.allowInsecureUrls && url.protocol === 'http:'))
      throw bad('url must use https');
    if (url.username || url.password) throw bad('url must not carry credentials');
    const literal = ipLiteralOf(url.hostname);
    if (!this.deps.allowInsecureUrls) {
      if (literal && !isPublicAddress(literal)) throw bad('url must point to a public address');
      if (!literal && (url.hostname === 'localhost' || url.hostname.endsWith('.localhost')))
        throw bad('url must point to a public address');
    }
    return url.toString();
  }

  private checkEvents(events: string[]): string[] {
    const unknown = events.filter((e) => !(SUBSCRIBABLE_TYPES as string[]).includes(e));
    if (unknown.length > 0)
      throw AppError.invalid('Unknown event types', [{ field: 'events', message: unknown.join(', ') }]);
    return [...new Set(events)].sort();
  }

  /** Creates an endpoint; its signing secret is returned here once and never again. */
  async create(input: EndpointInput): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const id = randomUUID();
    const secret = newSecret();
    const row = await webhooksSql.insertEndpoint(this.deps.db.primary, {
      id,
      url: this.checkUrl(input.url),
      description: input.description ?? null,
      events: this.checkEvents(input.events),
      enabled: input.enabled ?? true,
      secret: sealSecret(this.key(), id, secret),
    });
    return { endpoint: toEndpoint(row), secret };
  }

  async list(): Promise<WebhookEndpoint[]> {
    return (await webhooksSql.endpoints(this.deps.db.primary)).map(toEndpoint);
  }

  private async row(id: string): Promise<EndpointRow> {
    const row = isUuid(id) ? await webhooksSql.endpoint(this.deps.db.primary, id) : undefined;
    if (!row) throw this.notFound();
    return row;
  }

  async get(id: string): Promise<WebhookEndpoint> {
    return toEndpoint(await this.row(id));
  }

  /** Changes an endpoint; `enabled: true` also clears a failure streak (and 'failing' with it). */
  async update(id: string, patch: Partial<EndpointInput>): Promise<WebhookEndpoint> {
    if (!isUuid(id)) throw this.notFound();
    const row = await webhooksSql.updateEndpoint(this.deps.db.primary, id, {
      ...(patch.url !== undefined ? { url: this.checkUrl(patch.url) } : {}),
      ...(patch.events !== undefined ? { events: this.checkEvents(patch.events) } : {}),
      ...(patch.description !== undefined ? { description: patch.description } : {}),
      ...(patch.enabled !== undefined ? { enabled: patch.enabled } : {}),
    });
    if (!row) throw this.notFound();
    if (row.enabled) this.wake();
    return toEndpoint(row);
  }

  /** Deletes an endpoint with its deliveries (pending ones are not sent). */
  async remove(id: string): Promise<void> {
    if (!isUuid(id) || !(await webhooksSql.deleteEndpoint(this.deps.db.primary, id))) throw this.notFound();
  }

  /**
   * A new secret, returned once; the current one keeps signing beside it for 24 h (a secret
   * rotated out earlier and still in its overlap is dropped).
   */
  async rotateSecret(id: string): Promise<{ secret: string; previousSecretExpiresAt: string }> {
    const row = await this.row(id);
    const secret = newSecret();
    const updated = await webhooksSql.rotateSecret(
      this.deps.db.primary,
      id,
      { current: sealSecret(this.key(), id, secret), previous: row.secret_encrypted },
      ROTATION_OVERLAP_HOURS,
    );
    if (!updated) throw this.notFound();
    return { secret, previousSecretExpiresAt: updated.previous_secret_expires_at!.toISOString() };
  }

  /** The secrets that sign a delivery of `endpointId` now: the current, and the previous within its overlap. */
  signingSecrets(
    endpointId: string,
    row: {
      secret_encrypted: string;
      previous_secret_encrypted: string | null;
      previous_secret_expires_at: Date | null;
    },
  ): string[] {
    const key = this.key();
    const secrets = [openSecret(key, endpointId, row.secret_encrypted)];
    if (
      row.previous_secret_encrypted &&
      row.previous_secret_expires_at &&
      row.previous_secret_expires_at > new Date()
    )
      secrets.push(openSecret(key, endpointId, row.previous_secret_encrypted));
    return secrets;
  }

  /** Queues a `webhook.test` delivery to the endpoint (enabled or not: it is sent once enabled). */
  async test(id: string): Promise<WebhookDelivery> {
    await this.row(id);
    const messageId = `msg_test_${randomUUID()}`;
    const row = await webhooksSql.insertTest(this.deps.db.primary, {
      endpointId: id,
      messageId,
      payload: {
        type: 'webhook.test',
        timestamp: new Date().toISOString(),
        data: { endpointId: id, message: 'A test event from ShopFlow' },
      },
    });
    this.wake();
    return toDelivery(row);
  }

  async deliveries(
    id: string,
    f: { status?: 'pending' | 'delivered' | 'failed'; limit: number; cursor?: string },
  ): Promise<{ items: WebhookDelivery[]; nextCursor: string | null }> {
    await this.row(id);
    const after = f.cursor ? decodeCursor(f.cursor, isTimeIdCursor) : undefined;
    const rows = await webhooksSql.deliveries(this.deps.db.primary, {
      endpointId: id,
      limit: f.limit + 1,
      ...(f.status ? { status: f.status } : {}),
      ...(after ? { after } : {}),
    });
    const attempts = await webhooksSql.attemptsOf(
      this.deps.db.primary,
      rows.slice(0, f.limit).map((r) => r.id),
    );
    return keysetPage(
      rows,
      f.limit,
      (r) => toDelivery(r, attempts),
      (r) => ({ createdAt: r.created_key, id: r.id }),
    );
  }

  /** Sends a delivery that failed (or is waiting for its retry) again now; a delivered one is 409. */
  async retry(id: string, deliveryId: string): Promise<WebhookDelivery> {
    await this.row(id);
    if (!isUuid(deliveryId)) throw AppError.notFound('Delivery');
    const row = await webhooksSql.retry(this.deps.db.primary, id, deliveryId);
    if (!row) {
      const existing = await webhooksSql.delivery(this.deps.db.primary, id, deliveryId);
      if (!existing) throw AppError.notFound('Delivery');
      throw AppError.conflict('invalid_transition', 'The delivery was delivered already');
    }
    this.wake();
    return toDelivery(row);
  }

  /**
   * Fans one outbox event out to the endpoints subscribed to its type: one delivery row each, in
   * one statement, idempotent (the relay may hand the same event over twice). The body carries the
   * resource as the admin API shows it (the order, the product, the customer...), read now
   * (webhooks.payloads.ts).
   */
  async fanOut(event: EventEnvelope): Promise<number> {
    const db = this.deps.db.primary;
    if (!(SUBSCRIBABLE_TYPES as string[]).includes(event.type)) return 0;
    let data: Record<string, unknown> = { ...event.payload };
    // The resource is read only when someone will receive it (the insert below filters anyway).
    if (readsResource(event.type)) {
      if (!(await webhooksSql.subscribed(db, event.type))) return 0;
      data = await dataOf(event.type, event.payload, this.deps.read);
    }
    const n = await webhooksSql.fanOut(db, {
      eventId: event.id,
      type: event.type,
      resourceKey: `${event.aggregateType}:${event.aggregateId}`,
      payload: { type: event.type as WebhookEventType, timestamp: event.occurredAt, data },
    });
    if (n > 0) this.wake();
    return n;
  }

  consumer(): ConsumerSpec {
    return defineConsumer({
      name: 'webhooks-fan-out',
      bindings: [...SUBSCRIBABLE_TYPES],
      // In outbox order per aggregate: an event's deliveries exist before the next event of its
      // resource is fanned out, so the dispatcher's head-of-queue rule orders them (see claim).
      inline: true,
      handler: async (event) => {
        await this.fanOut(event);
      },
    });
  }

  /**
   * Erasure: the deliveries (pending or sent, kept for the log) about the customer and their
   * orders lose the personal data in their body (`order` and `customer` become null). Called by
   * the privacy module inside its erasure transaction.
   */
  async redactCustomer(tx: Queryable, who: { customerId: string; orderIds: string[] }): Promise<number> {
    return webhooksSql.redact(tx, [`customer:${who.customerId}`, ...who.orderIds.map((id) => `order:${id}`)]);
  }

  pruneJob(pool: pg.Pool): Job {
    const days = this.deps.retentionDays;
    return defineJob({
      name: 'prune-webhook-deliveries',
      schedule: '41 * * * *',
      description: `Deletes webhook deliveries (and their attempts) completed more than ${days} days ago, in batches`,
      run: async (ctx) => ({
        deleted: await deleteInBatches(pool, PRUNE_DELIVERIES_SQL, [days], ctx, {
          batch: 5_000,
          unit: 'deliveries',
        }),
      }),
    });
  }

  /**
   * Per endpoint, read when metrics are scraped: deliveries waiting, of them retrying, and the age
   * of the oldest. A database that does not answer within a second leaves the last values.
   */
  registerMetrics(metrics: Metrics): void {
    let last: Awaited<ReturnType<typeof webhooksSql.backlog>> = [];
    let reading: Promise<void> | undefined;
    const read = async () => {
      reading ??= (async () => {
        try {
          last = await Promise.race([
            webhooksSql.backlog(this.deps.db.primary),
            new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 1000).unref()),
          ]);
        } catch {
          // keep the last values
        } finally {
          reading = undefined;
        }
      })();
      await reading;
    };
    const gauge = (name: string, help: string, pick: (r: (typeof last)[number]) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['endpoint'],
        registers: [metrics.registry],
        async collect() {
          await read();
          this.reset();
          for (const r of last) this.set({ endpoint: r.endpoint_id }, pick(r));
        },
      });
    gauge(
      'shopflow_webhook_pending_deliveries',
      'Webhook deliveries waiting to be sent, per endpoint',
      (r) => r.pending,
    );
    gauge(
      'shopflow_webhook_retrying_deliveries',
      'Webhook deliveries waiting for a retry, per endpoint',
      (r) => r.retrying,
    );
    gauge(
      'shopflow_webhook_oldest_pending_seconds',
      'Age of the oldest webhook delivery not yet sent, per endpoint',
      (r) => r.oldest,
    );
  }
}
