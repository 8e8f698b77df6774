-- Up Migration
-- Outgoing webhooks (issue 32). An endpoint is a URL, the event types it subscribes to and its
-- signing secret, stored only encrypted (AES-256-GCM with WEBHOOK_SECRETS_KEY). A rotation keeps
-- the previous secret signing beside the new one until `previous_secret_expires_at`.
-- `failing_since` is the start of an unbroken run of failed attempts; an endpoint failing longer
-- than WEBHOOK_DISABLE_AFTER_DAYS is disabled with `disabled_reason = 'failing'`.
SET lock_timeout = '3s';
CREATE TABLE webhook_endpoints (
  id                         UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  url                        TEXT NOT NULL CHECK (length(url) <= 2048),
  description                TEXT CHECK (length(description) <= 500),
  events                     TEXT[] NOT NULL CHECK (cardinality(events) > 0),
  enabled                    BOOLEAN NOT NULL DEFAULT TRUE,
  disabled_reason            TEXT CHECK (disabled_reason IN ('manual', 'failing')),
  disabled_at                TIMESTAMPTZ,
  secret_encrypted           TEXT NOT NULL,
  previous_secret_encrypted  TEXT,
  previous_secret_expires_at TIMESTAMPTZ,
  failing_since              TIMESTAMPTZ,
  created_at                 TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at                 TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

-- One row per (endpoint, event): the fan-out inserts them with ON CONFLICT DO NOTHING, so an event
-- relayed twice is fanned out once. Each row carries its own copy of the body it sends (the
-- outbox prune never takes a pending delivery's payload away). `message_id` is the webhook-id
-- header, the same on every attempt. Deliveries of one resource to one endpoint are sent in
-- `event_id` order (test deliveries, without an event, after them in creation order).
CREATE TABLE webhook_deliveries (
  id                UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  endpoint_id       UUID NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  event_id          BIGINT,
  message_id        TEXT NOT NULL,
  event_type        TEXT NOT NULL,
  resource_key      TEXT NOT NULL,
  payload           JSONB NOT NULL,
  status            TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts          INT NOT NULL DEFAULT 0,
  next_attempt_at   TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  lease_until       TIMESTAMPTZ,
  last_status       INT,
  last_error        TEXT,
  last_duration_ms  INT,
  last_response     TEXT,
  created_at        TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  completed_at      TIMESTAMPTZ,
  UNIQUE (endpoint_id, event_id)
);
-- The dispatcher's claim: an endpoint's due deliveries in order, and the head (first pending
-- delivery) of each resource's queue.
CREATE INDEX idx_webhook_deliveries_pending
  ON webhook_deliveries (endpoint_id, resource_key, event_id, created_at, id) WHERE status = 'pending';
-- `next_attempt_at IS NOT NULL` (always true) is in the predicate so that only the claim's scan,
-- which states it, may use this index: the head probe must use the one above.
CREATE INDEX idx_webhook_deliveries_due ON webhook_deliveries (endpoint_id, next_attempt_at)
  WHERE status = 'pending' AND next_attempt_at IS NOT NULL;
CREATE INDEX idx_webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);
CREATE INDEX idx_webhook_deliveries_completed ON webhook_deliveries (completed_at) WHERE status <> 'pending';

-- Every attempt of a delivery: what the delivery log shows.
CREATE TABLE webhook_attempts (
  delivery_id  UUID NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
  attempt      INT NOT NULL,
  at           TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  status_code  INT,
  duration_ms  INT NOT NULL,
  error        TEXT,
  response     TEXT,
  PRIMARY KEY (delivery_id, attempt)
);

-- The admin scope for the webhook routes.
ALTER TABLE admin_api_keys DROP CONSTRAINT admin_api_keys_scopes_known;
ALTER TABLE admin_api_keys ADD CONSTRAINT admin_api_keys_scopes_known CHECK (
  cardinality(scopes) > 0
  AND scopes <@ ARRAY['*', 'catalog', 'inventory', 'orders', 'refunds', 'customers', 'privacy',
                      'operations', 'keys', 'webhooks']::TEXT[]
) NOT VALID;
ALTER TABLE admin_api_keys VALIDATE CONSTRAINT admin_api_keys_scopes_known;

-- Down Migration
-- Keys holding the webhooks scope lose it. A key that held nothing else is revoked (a revoked key
-- authenticates nothing; it keeps 'operations' only because the check wants a non-empty list).
SET lock_timeout = '3s';
UPDATE admin_api_keys SET revoked_at = COALESCE(revoked_at, NOW()), scopes = ARRAY['operations']
  WHERE scopes = ARRAY['webhooks'];
UPDATE admin_api_keys SET scopes = array_remove(scopes, 'webhooks') WHERE 'webhooks' = ANY(scopes);
ALTER TABLE admin_api_keys DROP CONSTRAINT admin_api_keys_scopes_known;
ALTER TABLE admin_api_keys ADD CONSTRAINT admin_api_keys_scopes_known CHECK (
  cardinality(scopes) > 0
  AND scopes <@ ARRAY['*', 'catalog', 'inventory', 'orders', 'refunds', 'customers', 'privacy',
                      'operations', 'keys']::TEXT[]
);
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
