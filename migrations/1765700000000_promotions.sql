-- Up Migration
-- Promotions and coupon codes (issue 30). New tables only: nothing existing is rewritten or locked.
--
-- A promotion takes a percentage or a fixed amount off the lines it applies to, or the freight
-- (free shipping); by code or automatically; within a date window, above a minimum subtotal, for a
-- first order. Redemptions are written in the order's transaction and held exactly like stock: the
-- promotion's `used` is moved by a guarded UPDATE (it never passes `usage_limit`), a single-use
-- code by a guarded UPDATE of its row, so a code limited to N uses is on exactly N orders however
-- many checkouts race for it. A redemption is released (and `used` given back) when its order
-- expires unpaid or is cancelled before payment.
CREATE TABLE promotions (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  automatic BOOLEAN NOT NULL DEFAULT false,
  kind TEXT NOT NULL CHECK (kind IN ('percentage', 'fixed', 'free_shipping')),
  -- percentage: 1-100 (% off); fixed: centavos off; free_shipping: unused (0).
  value INT NOT NULL DEFAULT 0 CHECK (value >= 0),
  -- fixed only: the amount comes off each line it applies to, not once per order.
  per_line BOOLEAN NOT NULL DEFAULT false,
  -- {productIds?, categoryIds?, variantIds?}: the lines it applies to (categories with their
  -- sub-categories); NULL: every line.
  applies_to JSONB,
  min_subtotal INT NOT NULL DEFAULT 0 CHECK (min_subtotal >= 0),
  first_order_only BOOLEAN NOT NULL DEFAULT false,
  starts_at TIMESTAMPTZ,
  ends_at TIMESTAMPTZ,
  usage_limit INT CHECK (usage_limit > 0),
  usage_limit_per_customer INT CHECK (usage_limit_per_customer > 0),
  combinable BOOLEAN NOT NULL DEFAULT false,
  -- Live redemptions (released ones given back): never above usage_limit.
  used INT NOT NULL DEFAULT 0 CHECK (used >= 0),
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  deleted_at TIMESTAMPTZ,
  CHECK (kind <> 'percentage' OR value BETWEEN 1 AND 100),
  CHECK (usage_limit IS NULL OR used <= usage_limit),
  CHECK (starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at)
);
-- The automatic promotions every cart is priced with: a handful of live rows.
CREATE INDEX idx_promotions_automatic ON promotions (created_at, id) WHERE automatic AND deleted_at IS NULL;
CREATE TRIGGER promotions_updated_at BEFORE UPDATE ON promotions
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Every code, shared (one per promotion, reusable within the limits) or single-use (generated in
-- bulk): unique across all promotions, stored upper-case, looked up case-insensitively.
CREATE TABLE promotion_codes (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  promotion_id UUID NOT NULL REFERENCES promotions(id) ON DELETE CASCADE,
  code TEXT NOT NULL UNIQUE CHECK (code = upper(code) AND length(code) BETWEEN 3 AND 64),
  single_use BOOLEAN NOT NULL,
  -- A single-use code's live redemption: the order it is on (NULL: free).
  redeemed_order_id UUID,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  CHECK (single_use OR redeemed_order_id IS NULL)
);
CREATE INDEX idx_promotion_codes_promotion ON promotion_codes (promotion_id, single_use, created_at, id);

-- Who used what: one row per promotion on an order, with the discount it gave. `customer_key` is
-- the customer, or for a guest a digest of their document and one of their e-mail (two rows' worth
-- of identity in one key: see the service), so per-customer limits hold for guests too.
CREATE TABLE promotion_redemptions (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  promotion_id UUID NOT NULL REFERENCES promotions(id),
  code_id UUID REFERENCES promotion_codes(id) ON DELETE SET NULL,
  -- No foreign key: archived orders leave the orders table, their redemptions stay.
  order_id UUID NOT NULL,
  customer_keys TEXT[] NOT NULL,
  amount INT NOT NULL CHECK (amount >= 0),
  released_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  UNIQUE (order_id, promotion_id)
);
CREATE INDEX idx_promotion_redemptions_live_keys ON promotion_redemptions USING GIN (customer_keys)
  WHERE released_at IS NULL;
CREATE INDEX idx_promotion_redemptions_promotion ON promotion_redemptions (promotion_id, created_at DESC, id DESC);
-- Deleting a code (with its promotion) sets its redemptions' code_id to NULL: found by this index.
CREATE INDEX idx_promotion_redemptions_code ON promotion_redemptions (code_id);

-- Down Migration
DROP TABLE promotion_redemptions;
DROP TABLE promotion_codes;
DROP TABLE promotions;
