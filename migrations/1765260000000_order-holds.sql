-- Up Migration
-- Stock held by unpaid orders is bounded per holder (issue 26): the orders and units an address,
-- a customer or a guest session hold while their pending orders' holds last, and the boletos a
-- payer document and an address hold. Nullable columns: nothing is rewritten. The holder keys
-- only matter while the order (or attempt) is pending and are cleared when it leaves that state.
SET lock_timeout = '3s';
-- The client address that placed a pending order (its /64 for IPv6), NULL once it is not pending.
ALTER TABLE orders ADD COLUMN hold_address TEXT;
-- Who a pending boleto binds: a digest of the payer's CPF/CNPJ and of the paying address.
ALTER TABLE payment_attempts ADD COLUMN payer_key TEXT;
ALTER TABLE payment_attempts ADD COLUMN hold_address TEXT;

-- Takes a holder's transaction-scoped advisory lock, waiting at most p_wait_ms (then SFH03, a
-- 429 to retry): a customer or guest session 2 s (its own requests: concurrent retries of one
-- Idempotency-Key wait here for the first to commit, then replay it), an address or a payer
-- document 100 ms (a burst of fresh sessions from one address does not queue for long on pooled
-- connections; one placement holds the lock for a few milliseconds). The caller's lock_timeout is
-- restored once the lock is held.
CREATE FUNCTION order_hold_lock(p_key TEXT, p_wait_ms INT) RETURNS VOID LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  previous TEXT := current_setting('lock_timeout');
BEGIN
  PERFORM set_config('lock_timeout', p_wait_ms || 'ms', true);
  BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(p_key, 0));
  EXCEPTION WHEN lock_not_available THEN
    RAISE EXCEPTION 'another order of this holder is being placed' USING ERRCODE = 'SFH03';
  END;
  PERFORM set_config('lock_timeout', previous, true);
END;
$$;

-- The pending orders (and their units) of an address, or of a customer or guest session, whose
-- hold has not ended: payment_expires_at when a PIX or boleto set it, else placement plus the TTL.
CREATE FUNCTION order_holds_of(p_address TEXT, p_customer UUID, p_guest TEXT, p_ttl_minutes INT)
RETURNS TABLE (orders INT, units BIGINT) LANGUAGE sql VOLATILE AS $$
  SELECT COUNT(*)::int, COALESCE(SUM((SELECT SUM(i.quantity) FROM order_items i WHERE i.order_id = o.id)), 0)::bigint
    FROM orders o
   WHERE o.status = 'pending'
     AND (o.hold_address = p_address OR o.customer_id = p_customer OR o.guest_session_id = p_guest)
     AND COALESCE(o.payment_expires_at, o.created_at + make_interval(mins => p_ttl_minutes)) > NOW();
$$;

-- Admits a new pending order of p_units units for its holders, or raises: SFH01 when the
-- address, SFH02 when the customer or guest session would hold more than allowed (a cap of 0: no
-- cap), SFH03 when the holder stays busy. Holders are taken one at a time with a
-- transaction-scoped advisory lock (the customer or guest session, then the address: a fixed
-- order), and the counts are
-- read after the lock: a VOLATILE function reads each statement with a fresh snapshot, so it sees
-- every order committed by the holder's previous admission. Called from the statement (or
-- transaction) that inserts the order; the locks last until it commits, so concurrent placements
-- of one holder are counted one by one.
CREATE FUNCTION order_hold_admit(
  p_address TEXT, p_customer UUID, p_guest TEXT, p_units INT, p_ttl_minutes INT,
  p_address_orders INT, p_address_units INT, p_owner_orders INT, p_owner_units INT
) RETURNS BOOLEAN LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  n INT;
  u BIGINT;
BEGIN
  IF (p_customer IS NOT NULL OR p_guest IS NOT NULL) AND (p_owner_orders > 0 OR p_owner_units > 0) THEN
    PERFORM order_hold_lock('order-hold:owner:' || COALESCE(p_customer::text, p_guest), 2000);
    SELECT h.orders, h.units INTO n, u FROM order_holds_of(NULL, p_customer, p_guest, p_ttl_minutes) h;
    IF (p_owner_orders > 0 AND n + 1 > p_owner_orders) OR (p_owner_units > 0 AND u + p_units > p_owner_units) THEN
      RAISE EXCEPTION 'owner holds % unpaid orders of % units', n, u
        USING ERRCODE = 'SFH02', DETAIL = json_build_object('orders', n, 'units', u)::text;
    END IF;
  END IF;
  IF p_address IS NOT NULL AND (p_address_orders > 0 OR p_address_units > 0) THEN
    PERFORM order_hold_lock('order-hold:address:' || p_address, 100);
    SELECT h.orders, h.units INTO n, u FROM order_holds_of(p_address, NULL, NULL, p_ttl_minutes) h;
    IF (p_address_orders > 0 AND n + 1 > p_address_orders) OR (p_address_units > 0 AND u + p_units > p_address_units) THEN
      RAISE EXCEPTION 'address holds % unpaid orders of % units', n, u
        USING ERRCODE = 'SFH01', DETAIL = json_build_object('orders', n, 'units', u)::text;
    END IF;
  END IF;
  RETURN TRUE;
END;
$$;

-- Down Migration
-- The holder keys only describe pending orders: nothing of value is lost.
DROP FUNCTION order_hold_admit(TEXT, UUID, TEXT, INT, INT, INT, INT, INT, INT);
DROP FUNCTION order_holds_of(TEXT, UUID, TEXT, INT);
DROP FUNCTION order_hold_lock(TEXT, INT);
ALTER TABLE payment_attempts DROP COLUMN hold_address;
ALTER TABLE payment_attempts DROP COLUMN payer_key;
ALTER TABLE orders DROP COLUMN hold_address;
