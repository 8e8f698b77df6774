/**
 * Idempotency-Key support for requests that must never run twice (placing an order, checkout).
 *
 * A key is scoped to its caller and kept 24 h. The first request claims the key in its own short
 * transaction, so concurrent duplicates see it in flight; the work and the stored response then
 * commit together in one transaction, so a crash can never leave an order without its record.
 * Keys are stored as SHA-256 digests and a response's secret part (a new guest session token) is
 * encrypted with a key derived from the raw idempotency key: the table alone replays nothing.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Database, Queryable } from '../../platform/db/pool.ts';
import { withTransaction, type Tx } from '../../platform/db/transaction.ts';
import { AppError } from '../../platform/errors.ts';

export interface StoredResponse {
  status: number;
  body: unknown;
  /** Returned to the caller but stored only encrypted. */
  secret?: string;
}

export interface IdempotentRequest {
  /** Who is calling: `customer:<id>`, `session:<id>` or `ip:<address>`. */
  scope: string;
  key: string;
  /** What is being asked: the route and the canonical body. */
  fingerprint: unknown;
}

/** Turns an error thrown by the work into a response worth replaying (client errors), or undefined. */
export type ErrorToResponse = (error: unknown) => StoredResponse | undefined;

/** After this long, an in-flight claim whose process died may be taken over. */
const STALE_CLAIM_SECONDS = 60;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

function secretKey(raw: string, scope: string): Buffer {
  return Buffer.from(hkdfSync('sha256', raw, scope, 'shopflow-idempotency-secret', 32));
}

function encrypt(secret: string, raw: string, scope: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', secretKey(raw, scope), iv);
  const data = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), data].map((b) => b.toString('base64url')).join('.');
}

function decrypt(stored: string, raw: string, scope: string): string | undefined {
  const [iv, tag, data] = stored.split('.').map((p) => Buffer.from(p, 'base64url'));
  if (!iv || !tag || !data) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', secretKey(raw, scope), iv);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

interface Row {
  request_hash: string;
  status: 'in_progress' | 'completed';
  response_status: number | null;
  response_body: unknown;
  response_secret: string | null;
}

export class IdempotencyService {
  constructor(private readonly deps: { db: Database; waitMs?: number }) {}

  /**
   * Runs `work` at most once per (scope, key). Returns the response and whether it is a replay.
   * `work` gets the transaction its effects and the stored response commit in.
   */
  async run(
    req: IdempotentRequest,
    work: (tx: Tx) => Promise<StoredResponse>,
    errorToResponse: ErrorToResponse,
  ): Promise<{ response: StoredResponse; replayed: boolean }> {
    const keyHash = sha256(req.key);
    const requestHash = sha256(canonical(req.fingerprint));
    const pool = this.deps.db.primary;

    const deadline = Date.now() + (this.deps.waitMs ?? 10_000);
    for (;;) {
      const claimed = await pool.query(
        `INSERT INTO idempotency_keys AS k (scope, key, request_hash, status)
         VALUES ($1, $2, $3, 'in_progress')
         ON CONFLICT (scope, key) DO UPDATE SET
           request_hash = EXCLUDED.request_hash, status = 'in_progress', response_status = NULL,
           response_body = NULL, response_secret = NULL, created_at = NOW(),
           expires_at = NOW() + INTERVAL '24 hours'
         WHERE k.expires_at < NOW()
            OR (k.status = 'in_progress' AND k.request_hash = EXCLUDED.request_hash
                AND k.created_at < NOW() - make_interval(secs => $4))
         RETURNING 1`,
        [req.scope, keyHash, requestHash, STALE_CLAIM_SECONDS],
      );
      if (claimed.rowCount) break;

      const { rows } = await pool.query<Row>(
        `SELECT request_hash, status, response_status, response_body, response_secret
         FROM idempotency_keys WHERE scope = $1 AND key = $2`,
        [req.scope, keyHash],
      );
      const row = rows[0];
      if (!row) continue; // purged between the two statements: claim again
      if (row.request_hash !== requestHash) {
        throw new AppError(
          'unprocessable',
          'idempotency_key_reused',
          'This Idempotency-Key was used for a different request',
        );
      }
      if (row.status === 'completed') {
        const secret = row.response_secret ? decrypt(row.response_secret, req.key, req.scope) : undefined;
        return {
          response: {
            status: row.response_status ?? 200,
            body: row.response_body,
            ...(secret ? { secret } : {}),
          },
          replayed: true,
        };
      }
      if (Date.now() > deadline) {
        throw AppError.conflict(
          'request_in_progress',
          'A request with this Idempotency-Key is still being processed',
        );
      }
      await sleep(25);
    }

    const complete = (tx: Queryable, r: StoredResponse) =>
      tx.query(
        `UPDATE idempotency_keys SET status = 'completed', response_status = $3, response_body = $4, response_secret = $5
         WHERE scope = $1 AND key = $2`,
        [
          req.scope,
          keyHash,
          r.status,
          JSON.stringify(r.body),
          r.secret ? encrypt(r.secret, req.key, req.scope) : null,
        ],
      );

    try {
      const response = await withTransaction(pool, async (tx) => {
        const r = await work(tx);
        await complete(tx, r);
        return r;
      });
      return { response, replayed: false };
    } catch (error) {
      const stored = errorToResponse(error);
      if (stored) {
        // A client error (e.g. insufficient stock) is the answer to this request: replay it too.
        await complete(pool, stored);
        throw error;
      }
      // Anything else (an outage, a bug): release the key so that a retry can run.
      await pool
        .query('DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status = $3', [
          req.scope,
          keyHash,
          'in_progress',
        ])
        .catch(() => undefined);
      throw error;
    }
  }
}
