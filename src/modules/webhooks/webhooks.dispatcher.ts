/**
 * Sends the deliveries (in the worker). A loop leases what is due (webhooksSql.claim: the head of
 * each endpoint's queue per resource, so a delivery waiting for its retry holds back the later
 * ones of the same resource) and sends each in its own task, at most `concurrency` at once and
 * `perEndpoint` per endpoint: a hanging endpoint holds its own few slots until the timeout, never
 * the others'. Every attempt is signed per the Standard Webhooks specification (`standardwebhooks`),
 * with the current secret and, during a rotation's overlap, the previous one. A 2xx is delivered;
 * anything else is retried with a growing, jittered delay until `retryHours` after the delivery
 * was created, then failed. Nothing is held in memory between passes: the queue is the table, so
 * an endpoint that is down for hours costs rows, not heap.
 *
 * A worker that dies mid-send leaves its lease to expire; the delivery is sent again (at least
 * once, with the same webhook-id, which is how receivers drop duplicates).
 */
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import { Webhook } from 'standardwebhooks';
import type { Database } from '../../platform/db/pool.ts';
import type { WebhookHttpClient } from './webhooks.http.ts';
import type { WebhooksService } from './webhooks.service.ts';
import { webhooksSql, type ClaimedRow } from './webhooks.sql.ts';

const MAX_RETRY_STEP_MS = 6 * 3600_000;

/**
 * The delay before the next attempt after `attempts` failed ones: doubling from `baseMs`, capped
 * at 6 h, each spread over [0.5, 1] of its step so that many deliveries failing together (an
 * endpoint that went down) do not come back in lockstep.
 */
export function retryDelayMs(attempts: number, baseMs: number, random: () => number = Math.random): number {
  const step = Math.min(MAX_RETRY_STEP_MS, baseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 30));
  return Math.round(step * (0.5 + 0.5 * random()));
}

/** The body as sent: `{type, timestamp, data}` in that order (the stored jsonb keeps no key order). */
export function bodyOf(payload: ClaimedRow['payload']): string {
  return JSON.stringify({ type: payload.type, timestamp: payload.timestamp, data: payload.data });
}

/** The three Standard Webhooks headers; one `v1,` signature per secret, space-separated. */
export function signatureHeaders(
  messageId: string,
  at: Date,
  body: string,
  secrets: string[],
): Record<string, string> {
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': secrets.map((s) => new Webhook(s).sign(messageId, at, body)).join(' '),
  };
}

export class WebhookDispatcher {
  private readonly inFlight = new Map<string, number>();
  private running = 0;
  private stopped = true;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private again = false;
  private readonly tasks = new Set<Promise<void>>();

  constructor(
    private readonly deps: {
      db: Database;
      service: WebhooksService;
      http: WebhookHttpClient;
      logger: Logger;
      outcomes?: Counter;
    },
    private readonly options: {
      concurrency: number;
      perEndpoint: number;
      timeoutMs: number;
      retryBaseMs: number;
      retryHours: number;
      disableAfterDays: number;
      idleMs?: number;
    },
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.deps.service.onWork(() => this.poke());
    this.poke();
  }

  /** Looks for work now (or right after the pass under way). */
  poke(): void {
    if (this.stopped) return;
    if (this.polling) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.polling = this.pass().finally(() => {
      this.polling = undefined;
      if (this.stopped) return;
      if (this.again) {
        this.again = false;
        this.poke();
      } else this.timer = setTimeout(() => this.poke(), this.options.idleMs ?? 250);
    });
  }

  private async pass(): Promise<void> {
    const free = this.options.concurrency - this.running;
    if (free <= 0) return;
    let rows: ClaimedRow[];
    try {
      rows = await webhooksSql.claim(this.deps.db.primary, {
        inFlight: this.inFlight,
        perEndpoint: this.options.perEndpoint,
        limit: free,
        // The lease outlives the request's deadline; a dead worker's leases expire and are sent again.
        leaseSeconds: Math.ceil((this.options.timeoutMs * 2) / 1000) + 5,
      });
    } catch (err) {
      this.deps.logger.warn({ err }, 'webhook deliveries could not be claimed; retrying');
      return;
    }
    for (const row of rows) {
      this.running++;
      this.inFlight.set(row.endpoint_id, (this.inFlight.get(row.endpoint_id) ?? 0) + 1);
      const task = this.send(row).finally(() => {
        this.running--;
        const n = (this.inFlight.get(row.endpoint_id) ?? 1) - 1;
        if (n > 0) this.inFlight.set(row.endpoint_id, n);
        else this.inFlight.delete(row.endpoint_id);
        this.tasks.delete(task);
        this.poke();
      });
      this.tasks.add(task);
    }
    // A full batch: there may be more due right away.
    if (rows.length === free && rows.length > 0) this.again = true;
  }

  private async send(row: ClaimedRow): Promise<void> {
    const body = bodyOf(row.payload);
    let result;
    try {
      const headers = signatureHeaders(
        row.message_id,
        new Date(),
        body,
        this.deps.service.signingSecrets(row.endpoint_id, row),
      );
      result = await this.deps.http.post(row.url, headers, body);
    } catch (err) {
      // A secret that does not open (the key changed): the attempt fails like an unreachable endpoint.
      result = { status: null, durationMs: 0, response: null, error: (err as Error).message.slice(0, 300) };
    }
    const ok = result.status !== null && result.status >= 200 && result.status < 300;
    const attempts = row.attempts + 1;
    const next = new Date(Date.now() + retryDelayMs(attempts, this.options.retryBaseMs));
    const deadline = row.created_at.getTime() + this.options.retryHours * 3600_000;
    const retryAt = ok ? null : next.getTime() <= deadline ? next : null;
    try {
      const recorded = await webhooksSql.record(this.deps.db.primary, {
        id: row.id,
        ok,
        status: result.status,
        durationMs: result.durationMs,
        error: result.error ?? (ok ? null : `HTTP ${result.status}`),
        response: result.response,
        retryAt,
        disableAfterDays: this.options.disableAfterDays,
      });
      this.deps.outcomes?.inc({ result: ok ? 'delivered' : retryAt ? 'retrying' : 'failed' });
      if (recorded?.endpoint_disabled && !ok)
        this.deps.logger.warn(
          { endpointId: row.endpoint_id },
          'webhook endpoint disabled after failing for days',
        );
    } catch (err) {
      // The lease expires and the delivery is sent again: at least once.
      this.deps.logger.warn({ err, deliveryId: row.id }, 'webhook attempt could not be recorded');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.polling;
    await Promise.allSettled([...this.tasks]);
  }
}
