/**
 * Idempotency-Key support for requests that must never run twice (placing an order, checkout).
 *
 * A key is scoped to its caller and kept 24 h. The claim, the work and the stored response are one
 * transaction: the claim row is inserted first, so a concurrent duplicate's insert waits on it (the
 * unique index) for as long as the first request's transaction lives. When that one commits, the
 * duplicate finds the stored response and replays it; when it dies (rolled back, connection lost,
 * process killed) its claim vanishes with it and the duplicate runs at once. A claim is therefore
 * never taken over while its holder is alive, and never waited out by age. A client error is the
 * request's answer too: the work is undone to a savepoint and the error stored in its place.
 * Keys are stored as SHA-256 digests and a response's secret part (a new guest session token) is
 * encrypted with a key derived from the raw idempotency key: the table alone replays nothing.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import type { Database, Queryable } from '../../platform/db/pool.ts';
import { withTransaction, type Tx } from '../../platform/db/transaction.ts';
import { AppError } from '../../platform/errors.ts';
import { PG, pgCode } from '../../platform/db/pg-errors.ts';

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

/** How long a duplicate waits for a live first request before answering 409 request_in_progress. */
const WAIT_FOR_HOLDER = '10s';

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
  constructor(private readonly deps: { db: Database }) {}

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

    type Outcome =
      | { kind: 'done'; response: StoredResponse }
      | { kind: 'replay'; response: StoredResponse }
      | { kind: 'failed'; error: unknown };

    let outcome: Outcome;
    try {
      outcome = await withTransaction(this.deps.db.primary, async (tx): Promise<Outcome> => {
        // A live holder's claim blocks this insert; wait for it, but not for ever.
        await tx.query("SELECT set_config('lock_timeout', $1, true)", [WAIT_FOR_HOLDER]);
        const claimed = await tx.query(
          `INSERT INTO idempotency_keys AS k (scope, key, request_hash, status)
           VALUES ($1, $2, $3, 'in_progress')
           ON CONFLICT (scope, key) DO UPDATE SET
             request_hash = EXCLUDED.request_hash, status = 'in_progress', response_status = NULL,
             response_body = NULL, response_secret = NULL, created_at = NOW(),
             expires_at = NOW() + INTERVAL '24 hours'
           -- Expired, or a committed in-progress row (left by an older version): nobody holds it.
           WHERE k.expires_at < NOW() OR k.status = 'in_progress'
           RETURNING 1`,
          [req.scope, keyHash, requestHash],
        );
        if (!claimed.rowCount) {
          const { rows } = await tx.query<Row>(
            `SELECT request_hash, status, response_status, response_body, response_secret
             FROM idempotency_keys WHERE scope = $1 AND key = $2`,
            [req.scope, keyHash],
          );
          const row = rows[0]!;
          if (row.request_hash !== requestHash) {
            throw new AppError(
              'unprocessable',
              'idempotency_key_reused',
              'This Idempotency-Key was used for a different request',
            );
          }
          const secret = row.response_secret ? decrypt(row.response_secret, req.key, req.scope) : undefined;
          return {
            kind: 'replay',
            response: {
              status: row.response_status ?? 200,
              body: row.response_body,
              ...(secret ? { secret } : {}),
            },
          };
        }
        try {
          const response = await tx.savepoint(() => work(tx));
          await complete(tx, response);
          return { kind: 'done', response };
        } catch (error) {
          const stored = errorToResponse(error);
          // Anything but a client error (an outage, a bug): the whole transaction rolls back, the
          // claim with it, and a retry can run at once.
          if (!stored) throw error;
          // A client error (e.g. insufficient stock) is this request's answer: store it for replays.
          await complete(tx, stored);
          return { kind: 'failed', error };
        }
      });
    } catch (error) {
      if (pgCode(error) === PG.LOCK_NOT_AVAILABLE) {
        throw AppError.conflict(
          'request_in_progress',
          'A request with this Idempotency-Key is still being processed',
        );
      }
      throw error;
    }
    if (outcome.kind === 'failed') throw outcome.error;
    return { response: outcome.response, replayed: outcome.kind === 'replay' };

    function complete(tx: Queryable, r: StoredResponse) {
      return tx.query(
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
    }
  }
}
