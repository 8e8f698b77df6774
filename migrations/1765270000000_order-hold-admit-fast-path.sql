-- Up Migration
-- The holder admission of every unpaid order (1765260000000_order-holds.sql), made cheaper without
-- changing what it admits (issue 26, the order benchmark):
-- * order_hold_lock first tries the advisory lock without waiting: the usual, uncontended case
--   needs neither the lock_timeout juggling nor the exception block (a subtransaction per call);
--   only a busy holder takes the bounded wait.
-- * order_hold_admit counts each holder's pending orders with its own query, planned once per
--   connection by PL/pgSQL, on the index of that holder's column. order_holds_of, a SQL function
--   called from PL/pgSQL, was planned on every call, with an OR of the three holder columns.
-- Signatures are unchanged: CREATE OR REPLACE, nothing to rewrite, no lock on a table. Nothing
-- calls order_holds_of any more: it goes (the down section brings it back).
CREATE OR REPLACE FUNCTION order_hold_lock(p_key TEXT, p_wait_ms INT) RETURNS VOID LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  k BIGINT := hashtextextended(p_key, 0);
  previous TEXT;
BEGIN
  IF pg_try_advisory_xact_lock(k) THEN
    RETURN;
  END IF;
  previous := current_setting('lock_timeout');
  PERFORM set_config('lock_timeout', p_wait_ms || 'ms', true);
  BEGIN
    PERFORM pg_advisory_xact_lock(k);
  EXCEPTION WHEN lock_not_available THEN
    RAISE EXCEPTION 'another order of this holder is being placed' USING ERRCODE = 'SFH03';
  END;
  PERFORM set_config('lock_timeout', previous, true);
END;
$$;

CREATE OR REPLACE FUNCTION order_hold_admit(
  p_address TEXT, p_customer UUID, p_guest TEXT, p_units INT, p_ttl_minutes INT,
  p_address_orders INT, p_address_units INT, p_owner_orders INT, p_owner_units INT
) RETURNS BOOLEAN LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  n INT;
  u BIGINT;
  ttl INTERVAL := make_interval(mins => p_ttl_minutes);
BEGIN
  IF (p_customer IS NOT NULL OR p_guest IS NOT NULL) AND (p_owner_orders > 0 OR p_owner_units > 0) THEN
    PERFORM order_hold_lock('order-hold:owner:' || COALESCE(p_customer::text, p_guest), 2000);
    IF p_customer IS NOT NULL THEN
      SELECT COUNT(*)::int, COALESCE(SUM((SELECT SUM(i.quantity) FROM order_items i WHERE i.order_id = o.id)), 0)::bigint
        INTO n, u
        FROM orders o
       WHERE o.customer_id = p_customer AND o.status = 'pending'
         AND COALESCE(o.payment_expires_at, o.created_at + ttl) > NOW();
    ELSE
      SELECT COUNT(*)::int, COALESCE(SUM((SELECT SUM(i.quantity) FROM order_items i WHERE i.order_id = o.id)), 0)::bigint
        INTO n, u
        FROM orders o
       WHERE o.guest_session_id = p_guest AND o.status = 'pending'
         AND COALESCE(o.payment_expires_at, o.created_at + ttl) > NOW();
    END IF;
    IF (p_owner_orders > 0 AND n + 1 > p_owner_orders) OR (p_owner_units > 0 AND u + p_units > p_owner_units) THEN
      RAISE EXCEPTION 'owner holds % unpaid orders of % units', n, u
        USING ERRCODE = 'SFH02', DETAIL = json_build_object('orders', n, 'units', u)::text;
    END IF;
  END IF;
  IF p_address IS NOT NULL AND (p_address_orders > 0 OR p_address_units > 0) THEN
    PERFORM order_hold_lock('order-hold:address:' || p_address, 100);
    SELECT COUNT(*)::int, COALESCE(SUM((SELECT SUM(i.quantity) FROM order_items i WHERE i.order_id = o.id)), 0)::bigint
      INTO n, u
      FROM orders o
     WHERE o.hold_address = p_address AND o.status = 'pending'
       AND COALESCE(o.payment_expires_at, o.created_at + ttl) > NOW();
    IF (p_address_orders > 0 AND n + 1 > p_address_orders) OR (p_address_units > 0 AND u + p_units > p_address_units) THEN
      RAISE EXCEPTION 'address holds % unpaid orders of % units', n, u
        USING ERRCODE = 'SFH01', DETAIL = json_build_object('orders', n, 'units', u)::text;
    END IF;
  END IF;
  RETURN TRUE;
END;
$$;

DROP FUNCTION order_holds_of(TEXT, UUID, TEXT, INT);

-- Down Migration
-- The definitions of 1765260000000_order-holds.sql, unchanged.
CREATE FUNCTION order_holds_of(p_address TEXT, p_customer UUID, p_guest TEXT, p_ttl_minutes INT)
RETURNS TABLE (orders INT, units BIGINT) LANGUAGE sql VOLATILE AS $$
  SELECT COUNT(*)::int, COALESCE(SUM((SELECT SUM(i.quantity) FROM order_items i WHERE i.order_id = o.id)), 0)::bigint
    FROM orders o
   WHERE o.status = 'pending'
     AND (o.hold_address = p_address OR o.customer_id = p_customer OR o.guest_session_id = p_guest)
     AND COALESCE(o.payment_expires_at, o.created_at + make_interval(mins => p_ttl_minutes)) > NOW();
$$;

CREATE OR REPLACE FUNCTION order_hold_lock(p_key TEXT, p_wait_ms INT) RETURNS VOID LANGUAGE plpgsql VOLATILE AS $$
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

CREATE OR REPLACE FUNCTION order_hold_admit(
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
