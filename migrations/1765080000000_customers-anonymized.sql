-- Up Migration
-- When a customer's personal data was erased (GDPR/LGPD): erasure runs once, a second request
-- finds this set and only repeats the clean-up outside the database.
ALTER TABLE customers ADD COLUMN anonymized_at TIMESTAMPTZ;

-- Down Migration
ALTER TABLE customers DROP COLUMN anonymized_at;
