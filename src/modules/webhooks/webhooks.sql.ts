/** The literal SQL of the webhooks module: its three tables only. */
import type { Queryable } from '../../platform/db/pool.ts';

export interface EndpointRow {
  id: string;
  url: string;
  description: string | null;
  events: string[];
  enabled: boolean;
  disabled_reason: 'manual' | 'failing' | null;
  disabled_at: Date | null;
  secret_encrypted: string;
  previous_secret_encrypted: string | null;
  previous_secret_expires_at: Date | null;
  failing_since: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface DeliveryRow {
  id: string;
  endpoint_id: string;
  event_id: string | null;
  message_id: string;
  event_type: string;
  resource_key: string;
  payload: { type: string; timestamp: string; data: unknown };
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  next_attempt_at: Date;
  last_status: number | null;
  last_error: string | null;
  last_duration_ms: number | null;
  last_response: string | null;
  created_at: Date;
  created_key: string;
  completed_at: Date | null;
}

export interface AttemptRow {
  delivery_id: string;
  attempt: number;
  at: Date;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  response: string | null;
}

/** A claimed delivery with what sending it needs from its endpoint. */
export interface ClaimedRow extends DeliveryRow {
  url: string;
  secret_encrypted: string;
  previous_secret_encrypted: string | null;
  previous_secret_expires_at: Date | null;
}

const ENDPOINT = `id, url, description, events, enabled, disabled_reason, disabled_at, secret_encrypted,
  previous_secret_encrypted, previous_secret_expires_at, failing_since, created_at, updated_at`;
const DELIVERY = `d.id, d.endpoint_id, d.event_id, d.message_id, d.event_type, d.resource_key, d.payload, d.status,
  d.attempts, d.next_attempt_at, d.last_status, d.last_error, d.last_duration_ms, d.last_response,
  d.created_at, d.created_at::text AS created_key, d.completed_at`;

export const webhooksSql = {
  async insertEndpoint(
    db: Queryable,
    e: {
      id: string;
      url: string;
      description: string | null;
      events: string[];
      enabled: boolean;
      secret: string;
    },
  ): Promise<EndpointRow> {
    const { rows } = await db.query<EndpointRow>(
      `INSERT INTO webhook_endpoints (id, url, description, events, enabled, disabled_reason, disabled_at, secret_encrypted)
       VALUES ($1, $2, $3, $4, $5, CASE WHEN $5 THEN NULL ELSE 'manual' END, CASE WHEN $5 THEN NULL ELSE NOW() END, $6)
       RETURNING ${ENDPOINT}`,
      [e.id, e.url, e.description, e.events, e.enabled, e.secret],
    );
    return rows[0]!;
  },

  async endpoint(db: Queryable, id: string): Promise<EndpointRow | undefined> {
    const { rows } = await db.query<EndpointRow>(`SELECT ${ENDPOINT} FROM webhook_endpoints WHERE id = $1`, [
      id,
    ]);
    return rows[0];
  },

  async endpoints(db: Queryable): Promise<EndpointRow[]> {
    const { rows } = await db.query<EndpointRow>(
      `SELECT ${ENDPOINT} FROM webhook_endpoints ORDER BY created_at, id LIMIT 1000`,
    );
    return rows;
  },

  /** Applies a patch; `enabled` set to true clears the failure streak and the reason it was disabled. */
  async updateEndpoint(
    db: Queryable,
    id: string,
    p: { url?: string; description?: string | null; events?: string[]; enabled?: boolean },
  ): Promise<EndpointRow | undefined> {
    const { rows } = await db.query<EndpointRow>(
      `UPDATE webhook_endpoints SET
         url = COALESCE($2, url),
         description = CASE WHEN $3 THEN $4 ELSE description END,
         events = COALESCE($5, events),
         enabled = COALESCE($6, enabled),
         disabled_reason = CASE WHEN $6 IS NULL THEN disabled_reason WHEN $6 THEN NULL
                                WHEN enabled THEN 'manual' ELSE disabled_reason END,
         disabled_at = CASE WHEN $6 IS NULL THEN disabled_at WHEN $6 THEN NULL
                            WHEN enabled THEN NOW() ELSE disabled_at END,
         failing_since = CASE WHEN $6 IS TRUE AND NOT enabled THEN NULL ELSE failing_since END,
         updated_at = NOW()
       WHERE id = $1 RETURNING ${ENDPOINT}`,
      [
        id,
        p.url ?? null,
        p.description !== undefined,
        p.description ?? null,
        p.events ?? null,
        p.enabled ?? null,
      ],
    );
    return rows[0];
  },

  async deleteEndpoint(db: Queryable, id: string): Promise<boolean> {
    const { rowCount } = await db.query('DELETE FROM webhook_endpoints WHERE id = $1', [id]);
    return rowCount === 1;
  },

  async rotateSecret(
    db: Queryable,
    id: string,
    sealed: { current: string; previous: string },
    overlapHours: number,
  ): Promise<EndpointRow | undefined> {
    const { rows } = await db.query<EndpointRow>(
      `UPDATE webhook_endpoints SET secret_encrypted = $2, previous_secret_encrypted = $3,
         previous_secret_expires_at = NOW() + make_interval(hours => $4), updated_at = NOW()
       WHERE id = $1 RETURNING ${ENDPOINT}`,
      [id, sealed.current, sealed.previous, overlapHours],
    );
    return rows[0];
  },

  /**
   * One delivery row per enabled endpoint subscribed to the event's type, with the body each
   * sends; a row already there (the event relayed again) is left alone. Returns how many were new.
   */
  async fanOut(
    db: Queryable,
    e: { eventId: number; type: string; resourceKey: string; payload: object },
  ): Promise<number> {
    const { rowCount } = await db.query({
      name: 'webhooks_fan_out',
      text: `INSERT INTO webhook_deliveries (endpoint_id, event_id, message_id, event_type, resource_key, payload)
             SELECT e.id, $1::bigint, 'msg_' || $1::bigint::text, $2, $3, $4::jsonb
             FROM webhook_endpoints e WHERE e.enabled AND $2 = ANY(e.events)
             ON CONFLICT (endpoint_id, event_id) DO NOTHING`,
      values: [e.eventId, e.type, e.resourceKey, JSON.stringify(e.payload)],
    });
    return rowCount ?? 0;
  },

  /** Whether any enabled endpoint subscribes to `type` (the fan-out reads the resource only then). */
  async subscribed(db: Queryable, type: string): Promise<boolean> {
    const { rows } = await db.query({
      name: 'webhooks_subscribed',
      text: 'SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled AND $1 = ANY(events)) AS any',
      values: [type],
    });
    return (rows[0] as { any: boolean }).any;
  },

  async insertTest(
    db: Queryable,
    d: { endpointId: string; messageId: string; payload: object },
  ): Promise<DeliveryRow> {
    const { rows } = await db.query<DeliveryRow>(
      `INSERT INTO webhook_deliveries AS d (endpoint_id, message_id, event_type, resource_key, payload)
       VALUES ($1, $2, 'webhook.test', 'test:' || $2, $3::jsonb) RETURNING ${DELIVERY}`,
      [d.endpointId, d.messageId, JSON.stringify(d.payload)],
    );
    return rows[0]!;
  },

  /**
   * Leases deliveries to send now: of each (endpoint, resource) queue only its head (no earlier
   * pending delivery of the same resource to the same endpoint), and only when it is due and not
   * leased, on enabled endpoints, at most `perEndpoint` minus what this worker already has in
   * flight per endpoint, `limit` in all. A head that is waiting for its retry (or being sent)
   * holds back the later deliveries of its resource.
   */
  async claim(
    db: Queryable,
    o: {
      inFlight: Map<string, number>;
      perEndpoint: number;
      limit: number;
      leaseSeconds: number;
    },
  ): Promise<ClaimedRow[]> {
    const { rows } = await db.query<ClaimedRow>({
      name: 'webhooks_claim',
      // Per enabled endpoint, its due heads, oldest due first, as many as it has free slots: a
      // LATERAL probe per endpoint on the due index, each candidate checked against the head of
      // its resource's queue (one probe of the pending index), so one endpoint's backlog neither
      // slows the claim down (no sort of every pending row) nor takes the others' turn.
      text: `WITH due AS (
               SELECT c.id, c.next_attempt_at
               FROM webhook_endpoints e
               LEFT JOIN unnest($1::uuid[], $2::int[]) AS f(endpoint_id, n) ON f.endpoint_id = e.id
               CROSS JOIN LATERAL (
                 SELECT d.id, d.next_attempt_at FROM webhook_deliveries d
                 WHERE d.endpoint_id = e.id AND d.status = 'pending' AND d.next_attempt_at IS NOT NULL
                   AND d.next_attempt_at <= NOW()
                   AND (d.lease_until IS NULL OR d.lease_until < NOW())
                   AND d.id = (
                     SELECT p.id FROM webhook_deliveries p
                     WHERE p.endpoint_id = d.endpoint_id AND p.resource_key = d.resource_key AND p.status = 'pending'
                     ORDER BY p.event_id, p.created_at, p.id LIMIT 1)
                 ORDER BY d.next_attempt_at LIMIT GREATEST($3 - COALESCE(f.n, 0), 0)) c
               WHERE e.enabled),
             picked AS (
               SELECT d.id FROM webhook_deliveries d JOIN due ON due.id = d.id
               WHERE d.status = 'pending'
               ORDER BY due.next_attempt_at LIMIT $4
               FOR UPDATE OF d SKIP LOCKED),
             leased AS (
               UPDATE webhook_deliveries d SET lease_until = NOW() + make_interval(secs => $5)
               FROM picked WHERE d.id = picked.id
               RETURNING ${DELIVERY})
             SELECT d.*, e.url, e.secret_encrypted, e.previous_secret_encrypted, e.previous_secret_expires_at
             FROM leased d JOIN webhook_endpoints e ON e.id = d.endpoint_id`,
      values: [[...o.inFlight.keys()], [...o.inFlight.values()], o.perEndpoint, o.limit, o.leaseSeconds],
    });
    return rows;
  },

  /**
   * Records one attempt and its outcome in one statement: the attempt row, the delivery (delivered,
   * retried at `retryAt`, or failed when `retryAt` is null), and the endpoint's failure streak,
   * disabling the endpoint once the streak is older than `disableAfterDays`. Returns a row only
   * when the endpoint's state changed.
   */
  async record(
    db: Queryable,
    r: {
      id: string;
      ok: boolean;
      status: number | null;
      durationMs: number;
      error: string | null;
      response: string | null;
      retryAt: Date | null;
      disableAfterDays: number;
    },
  ): Promise<{ endpoint_disabled: boolean } | undefined> {
    const { rows } = await db.query<{ endpoint_disabled: boolean }>({
      name: 'webhooks_record',
      text: `WITH d AS (
               UPDATE webhook_deliveries SET attempts = attempts + 1, lease_until = NULL,
                 status = CASE WHEN $2 THEN 'delivered' WHEN $7::timestamptz IS NULL THEN 'failed' ELSE 'pending' END,
                 next_attempt_at = COALESCE($7, next_attempt_at),
                 completed_at = CASE WHEN $2 OR $7::timestamptz IS NULL THEN NOW() END,
                 last_status = $3, last_duration_ms = $4, last_error = $5, last_response = $6
               WHERE id = $1 AND status = 'pending'
               RETURNING id, endpoint_id, attempts),
             a AS (
               INSERT INTO webhook_attempts (delivery_id, attempt, status_code, duration_ms, error, response)
               SELECT id, attempts, $3, $4, $5, $6 FROM d)
             UPDATE webhook_endpoints e SET
               failing_since = CASE WHEN $2 THEN NULL ELSE COALESCE(e.failing_since, NOW()) END,
               enabled = CASE WHEN NOT $2 AND e.failing_since < NOW() - make_interval(days => $8) THEN FALSE ELSE e.enabled END,
               disabled_reason = CASE WHEN NOT $2 AND e.enabled AND e.failing_since < NOW() - make_interval(days => $8)
                                      THEN 'failing' ELSE e.disabled_reason END,
               disabled_at = CASE WHEN NOT $2 AND e.enabled AND e.failing_since < NOW() - make_interval(days => $8)
                                  THEN NOW() ELSE e.disabled_at END
             FROM d WHERE e.id = d.endpoint_id
               -- Only when the endpoint's state changes: every delivery writing its endpoint's row
               -- would queue all of that endpoint's deliveries behind one row lock.
               AND CASE WHEN $2 THEN e.failing_since IS NOT NULL
                        ELSE e.failing_since IS NULL
                          OR (e.enabled AND e.failing_since < NOW() - make_interval(days => $8)) END
             RETURNING NOT e.enabled AS endpoint_disabled`,
      values: [r.id, r.ok, r.status, r.durationMs, r.error, r.response, r.retryAt, r.disableAfterDays],
    });
    return rows[0];
  },

  /** A failed (or pending) delivery sent again now, its attempt count kept. */
  async retry(db: Queryable, endpointId: string, id: string): Promise<DeliveryRow | undefined> {
    const { rows } = await db.query<DeliveryRow>(
      `UPDATE webhook_deliveries d SET status = 'pending', next_attempt_at = NOW(), completed_at = NULL
       WHERE d.endpoint_id = $1 AND d.id = $2 AND d.status <> 'delivered' RETURNING ${DELIVERY}`,
      [endpointId, id],
    );
    return rows[0];
  },

  async delivery(db: Queryable, endpointId: string, id: string): Promise<DeliveryRow | undefined> {
    const { rows } = await db.query<DeliveryRow>(
      `SELECT ${DELIVERY} FROM webhook_deliveries d WHERE d.endpoint_id = $1 AND d.id = $2`,
      [endpointId, id],
    );
    return rows[0];
  },

  async deliveries(
    db: Queryable,
    f: { endpointId: string; status?: string; limit: number; after?: { createdAt: string; id: string } },
  ): Promise<DeliveryRow[]> {
    const { rows } = await db.query<DeliveryRow>(
      `SELECT ${DELIVERY} FROM webhook_deliveries d
       WHERE d.endpoint_id = $1 AND ($2::text IS NULL OR d.status = $2)
         AND ($3::timestamptz IS NULL OR (d.created_at, d.id) < ($3::timestamptz, $4::uuid))
       ORDER BY d.created_at DESC, d.id DESC LIMIT $5`,
      [f.endpointId, f.status ?? null, f.after?.createdAt ?? null, f.after?.id ?? null, f.limit],
    );
    return rows;
  },

  async attemptsOf(db: Queryable, ids: string[]): Promise<AttemptRow[]> {
    const { rows } = await db.query<AttemptRow>(
      `SELECT delivery_id, attempt, at, status_code, duration_ms, error, response
       FROM webhook_attempts WHERE delivery_id = ANY($1::uuid[]) ORDER BY delivery_id, attempt`,
      [ids],
    );
    return rows;
  },

  /** Per endpoint: deliveries waiting, how many of them are retries, the age of the oldest. */
  async backlog(
    db: Queryable,
  ): Promise<{ endpoint_id: string; pending: number; retrying: number; oldest: number }[]> {
    const { rows } = await db.query<{
      endpoint_id: string;
      pending: number;
      retrying: number;
      oldest: number;
    }>(
      `SELECT endpoint_id, COUNT(*)::int AS pending, COUNT(*) FILTER (WHERE attempts > 0)::int AS retrying,
              EXTRACT(EPOCH FROM NOW() - MIN(created_at))::float8 AS oldest
       FROM webhook_deliveries WHERE status = 'pending' GROUP BY endpoint_id`,
    );
    return rows;
  },

  /**
   * Erasure: the deliveries of the customer's resources lose the personal data of their body:
   * the order (its customer, buyer, address and line customizations) and the customer become
   * null, and `redacted` true; the ids stay.
   */
  async redact(db: Queryable, resourceKeys: string[]): Promise<number> {
    const { rowCount } = await db.query(
      `UPDATE webhook_deliveries SET payload = jsonb_set(payload, '{data}',
         (payload->'data') - 'order' - 'customer' || jsonb_build_object('redacted', TRUE)
         || CASE WHEN payload->'data' ? 'order' THEN jsonb_build_object('order', NULL) ELSE '{}'::jsonb END
         || CASE WHEN payload->'data' ? 'customer' THEN jsonb_build_object('customer', NULL) ELSE '{}'::jsonb END)
       WHERE resource_key = ANY($1::text[]) AND NOT (payload->'data' ? 'redacted')`,
      [resourceKeys],
    );
    return rowCount ?? 0;
  },
};

/** The delete statement of the retention job: completed deliveries older than `$1` days, `$2` a batch. */
export const PRUNE_DELIVERIES_SQL = `DELETE FROM webhook_deliveries WHERE id IN (
  SELECT id FROM webhook_deliveries WHERE status <> 'pending' AND completed_at < NOW() - make_interval(days => $1)
  ORDER BY completed_at LIMIT $2)`;
