/**
 * The job queue's schema (pg-boss, in its own `pgboss` schema), created here so that it exists
 * before any process starts and is part of every backup and of the test template. Its own script
 * runs in its own transaction under its own lock; later pg-boss versions upgrade the schema
 * themselves when a worker starts.
 */
import PgBoss from 'pg-boss';

export const up = (pgm) => {
  pgm.noTransaction();
  pgm.sql(PgBoss.getConstructionPlans('pgboss'));
};

export const down = (pgm) => {
  pgm.noTransaction();
  pgm.sql('DROP SCHEMA IF EXISTS pgboss CASCADE');
};
