import type pg from 'pg';
import type { JobContext } from './job.ts';

/**
 * Runs a deleting statement again and again until it deletes fewer rows than a batch, or the job
 * is told to stop: each batch commits on its own, so an interrupted run loses nothing and the
 * next one goes on. `statement` takes `values` and then the batch size as its last parameter
 * (`... LIMIT $n`). Returns the rows deleted.
 */
export async function deleteInBatches(
  pool: pg.Pool,
  statement: string,
  values: unknown[],
  ctx: JobContext,
  options: { batch: number; unit: string; before?: number },
): Promise<number> {
  let deleted = options.before ?? 0;
  for (;;) {
    if (ctx.signal.aborted) return deleted;
    const { rowCount } = await pool.query(statement, [...values, options.batch]);
    deleted += rowCount ?? 0;
    ctx.progress({ done: deleted, unit: options.unit });
    if ((rowCount ?? 0) < options.batch) return deleted;
  }
}
