-- Up Migration
-- Brazilian checkout (issue 29): buyer documents, the address book, freight and fulfilments.
-- New nullable columns (no rewrite, no volatile default) and new tables only.
SET lock_timeout = '3s';

-- A customer's CPF or CNPJ, normalized (digits, or upper-case letters and digits for the 2026
-- alphanumeric CNPJ); shown masked.
ALTER TABLE customers ADD COLUMN document_type TEXT CHECK (document_type IN ('cpf', 'cnpj'));
ALTER TABLE customers ADD COLUMN document_number TEXT CHECK (document_number ~ '^[0-9A-Z]{11,14}$');

-- The address book (owner: customers). One default per customer.
CREATE TABLE customer_addresses (
  id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  customer_id UUID NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  label       TEXT,
  recipient   TEXT NOT NULL,
  cep         CHAR(8) NOT NULL CHECK (cep ~ '^[0-9]{8}$'),
  street      TEXT NOT NULL,
  number      TEXT NOT NULL,
  complement  TEXT,
  district    TEXT NOT NULL,
  city        TEXT NOT NULL,
  state       CHAR(2) NOT NULL,
  phone       TEXT,
  is_default  BOOLEAN NOT NULL DEFAULT false,
  created_at  TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at  TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_customer_addresses_customer ON customer_addresses (customer_id, created_at);
CREATE UNIQUE INDEX uq_customer_addresses_default ON customer_addresses (customer_id) WHERE is_default;

-- Freight tables (owner: shipping): a zone covers UFs and/or CEP ranges, and prices by weight.
CREATE TABLE shipping_zones (
  id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  name        TEXT NOT NULL,
  carrier     TEXT NOT NULL,
  service     TEXT NOT NULL,
  states      TEXT[] NOT NULL DEFAULT '{}',
  -- [{"from": "01000000", "to": "05999999"}]
  cep_ranges  JSONB NOT NULL DEFAULT '[]',
  -- [{"maxGrams": 1000, "price": 1990, "minDays": 2, "maxDays": 4}], ascending by maxGrams
  brackets    JSONB NOT NULL,
  free_above  INTEGER CHECK (free_above >= 0),
  active      BOOLEAN NOT NULL DEFAULT true,
  created_at  TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at  TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

-- Quotes offered for a cart (owner: shipping): the price a client chooses is read from here.
CREATE TABLE shipping_quotes (
  id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  cart_id         UUID NOT NULL REFERENCES carts(id) ON DELETE CASCADE,
  engine          TEXT NOT NULL,
  carrier         TEXT NOT NULL,
  service         TEXT NOT NULL,
  price           INTEGER NOT NULL CHECK (price >= 0),
  min_days        INTEGER NOT NULL,
  max_days        INTEGER NOT NULL,
  destination_cep CHAR(8) NOT NULL,
  -- What was priced (destination, weight, subtotal): a quote is valid only for the same request.
  basis           TEXT NOT NULL,
  expires_at      TIMESTAMPTZ NOT NULL,
  created_at      TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_shipping_quotes_cart ON shipping_quotes (cart_id);
CREATE INDEX idx_shipping_quotes_expires ON shipping_quotes (expires_at);

-- A cart's delivery (owner: carts): the address, the buyer and the chosen quote (a snapshot).
ALTER TABLE carts ADD COLUMN shipping_address JSONB;
ALTER TABLE carts ADD COLUMN buyer JSONB;
ALTER TABLE carts ADD COLUMN shipping_method JSONB;

-- An order's delivery (owner: orders). NULL on orders placed without one (direct orders).
ALTER TABLE orders ADD COLUMN shipping_address JSONB;
ALTER TABLE orders ADD COLUMN buyer JSONB;
ALTER TABLE orders ADD COLUMN shipping JSONB;
ALTER TABLE orders ADD COLUMN shipping_amount INTEGER;
ALTER TABLE orders ADD COLUMN discount_amount INTEGER;

-- Shipments of an order (owner: orders).
CREATE TABLE order_fulfillments (
  id            UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  order_id      UUID NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
  carrier       TEXT NOT NULL,
  tracking_code TEXT NOT NULL,
  tracking_url  TEXT,
  -- [{"orderItemId": "...", "quantity": 2}]
  items         JSONB NOT NULL,
  created_at    TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_order_fulfillments_order ON order_fulfillments (order_id, created_at);

-- An order's history (owner: orders): every status change, payment, refund and fulfilment.
CREATE TABLE order_events (
  id         BIGSERIAL PRIMARY KEY,
  order_id   UUID NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
  type       TEXT NOT NULL,
  actor_type TEXT NOT NULL CHECK (actor_type IN ('customer', 'guest', 'admin', 'provider', 'job', 'system')),
  actor      TEXT,
  data       JSONB NOT NULL DEFAULT '{}',
  customer_visible BOOLEAN NOT NULL DEFAULT true,
  at         TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX idx_order_events_order ON order_events (order_id, id);

-- Down Migration
DROP TABLE order_events;
DROP TABLE order_fulfillments;
ALTER TABLE orders DROP COLUMN discount_amount;
ALTER TABLE orders DROP COLUMN shipping_amount;
ALTER TABLE orders DROP COLUMN shipping;
ALTER TABLE orders DROP COLUMN buyer;
ALTER TABLE orders DROP COLUMN shipping_address;
ALTER TABLE carts DROP COLUMN shipping_method;
ALTER TABLE carts DROP COLUMN buyer;
ALTER TABLE carts DROP COLUMN shipping_address;
DROP TABLE shipping_quotes;
DROP TABLE shipping_zones;
DROP TABLE customer_addresses;
ALTER TABLE customers DROP COLUMN document_number;
ALTER TABLE customers DROP COLUMN document_type;
