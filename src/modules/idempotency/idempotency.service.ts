/**
 * Idempotency-Key support for requests that must never run twice (placing an order, checkout).
 *
 * A key is scoped to its caller and kept 24 h. The work and the key's stored answer commit in one
 * transaction, the work first: almost every keyed request is a first try, so the common path is
 * the work and then one statement that claims the key and stores the answer at once. A duplicate
 * is found by that statement: the key is answered already (or is being answered by a live
 * transaction, which the statement waits for, up to 10 s, then 409 request_in_progress), so the
 * duplicate's work is rolled back and the stored answer replayed. A duplicate running beside the
 * first therefore does its work in vain but never twice in effect: the order and its key commit
 * together or not at all. A client error is the request's answer too: the work is rolled back and
 * the error stored in its place (unless the key was answered meanwhile, which is then replayed).
 * Keys are stored as SHA-256 digests and a response's secret part (a new guest session token) is
 * encrypted with a key derived from the raw idempotency key: the table alone replays nothing.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import type { Database, Queryable } from '../../platform/db/pool.ts';
import { withTransaction, type Tx } from '../../platform/db/transaction.ts';
import { AppError } from '../../platform/errors.ts';
import { PG, pgCode, pgConstraint } from '../../platform/db/pg-errors.ts';
import type { JobContext } from '../../platform/jobs/job.ts';
import { idempotencySql } from './idempotency.sql.ts';

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
  /**
   * The answer to a key whose claim names an order but holds no answer (the process stopped
   * between placing it and storing its answer; see {@link IdempotencyService.runClaimed}).
   */
  recover?: (orderId: string) => Promise<StoredResponse>;
}

/** A key claimed by the statement that does the work (see {@link IdempotencyService.runClaimed}). */
export interface KeyClaim {
  scope: string;
  keyDigest: string;
  requestDigest: string;
  /** The response's secret, encrypted (see the module's comment). */
  encryptedSecret: string | null;
  /** How long that statement waits for a live claim of the same key. */
  lockTimeout: string;
}

/** Turns an error thrown by the work into a response worth replaying (client errors), or undefined. */
export type ErrorToResponse = (error: unknown) => StoredResponse | undefined;

/** How long a duplicate waits for a live first request before answering 409 request_in_progress. */
const WAIT_FOR_HOLDER = '10s';

const inProgress = () =>
  AppError.conflict('request_in_progress', 'A request with this Idempotency-Key is still being processed');

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

/** Internal: the work failed with a client error, which is to be stored as the answer. */
class ClientFailure extends Error {
  constructor(
    readonly error: unknown,
    readonly stored: StoredResponse,
  ) {
    super('client failure');
  }
}

/** Internal: the key was answered by another request; this one's work is rolled back. */
class AlreadyAnswered extends Error {}

export class IdempotencyService {
  constructor(private readonly deps: { db: Database }) {}

  /** Deletes expired keys in batches (the housekeeping job); returns how many. */
  purgeExpired(ctx: JobContext, batch: number, before = 0): Promise<number> {
    return idempotencySql.deleteExpired(this.deps.db.primary, ctx, batch, before);
  }

  /**
   * Runs `work` at most once in effect per (scope, key). Returns the response and whether it is a
   * replay. `work` gets the transaction its effects and the stored response commit in.
   */
  async run(
    req: IdempotentRequest,
    work: (tx: Tx) => Promise<StoredResponse>,
    errorToResponse: ErrorToResponse,
  ): Promise<{ response: StoredResponse; replayed: boolean }> {
    const keyHash = sha256(req.key);
    const requestHash = sha256(canonical(req.fingerprint));
    const store = (db: Queryable, r: StoredResponse) => this.claimAndStore(db, req, keyHash, requestHash, r);
    const replay = async () => {
      const response = await this.stored(req, keyHash, requestHash);
      // Answered a moment ago and expired now: nothing to replay; a retry runs anew.
      if (!response)
        throw AppError.conflict('request_in_progress', 'Retry: this Idempotency-Key was just released');
      return { response, replayed: true };
    };
    try {
      const response = await withTransaction(this.deps.db.primary, async (tx) => {
        let response: StoredResponse;
        try {
          response = await work(tx);
        } catch (error) {
          const stored = errorToResponse(error);
          // Anything but a client error (an outage, a bug): the transaction rolls back and a retry
          // can run at once.
          if (!stored) throw error;
          throw new ClientFailure(error, stored);
        }
        if (!(await store(tx, response))) throw new AlreadyAnswered();
        return response;
      });
      return { response, replayed: false };
    } catch (error) {
      try {
        if (error instanceof AlreadyAnswered) return await replay();
        // A client error (e.g. insufficient stock) is this request's answer: stored for replays
        // (one statement, its own transaction), unless another request answered the key first.
        if (error instanceof ClientFailure) {
          if (await store(this.deps.db.primary, error.stored)) throw error.error;
          return await replay();
        }
        throw error;
      } catch (e) {
        if (pgCode(e) === PG.LOCK_NOT_AVAILABLE) throw inProgress();
        throw e;
      }
    }
  }

  /**
   * {@link run} for work that is one statement able to claim the key itself (an order of one
   * product): `work` writes `claim` with its effects, so both commit or neither does, and a key
   * claimed already fails that statement as a whole (nothing of the duplicate is written; the
   * stored answer is replayed). The answer is stored by a second statement; a claim left without
   * one (the process stopped between the two) is answered by `req.recover` from its order. Two
   * round trips where {@link run} takes four (BEGIN, the work, claim and answer, COMMIT).
   * Undefined when the key is held by an expired answer: then {@link run} takes it over.
   */
  async runClaimed(
    req: IdempotentRequest,
    secret: string | undefined,
    work: (claim: KeyClaim) => Promise<{ response: StoredResponse; orderId: string }>,
    errorToResponse: ErrorToResponse,
  ): Promise<{ response: StoredResponse; replayed: boolean } | undefined> {
    const keyHash = sha256(req.key);
    const requestHash = sha256(canonical(req.fingerprint));
    const db = this.deps.db.primary;
    let done: { response: StoredResponse; orderId: string };
    try {
      done = await work({
        scope: req.scope,
        keyDigest: keyHash,
        requestDigest: requestHash,
        encryptedSecret: secret ? encrypt(secret, req.key, req.scope) : null,
        lockTimeout: WAIT_FOR_HOLDER,
      });
    } catch (error) {
      try {
        if (pgCode(error) === PG.UNIQUE_VIOLATION && pgConstraint(error) === 'idempotency_keys_pkey') {
          const response = await this.stored(req, keyHash, requestHash);
          return response && { response, replayed: true };
        }
        const stored = errorToResponse(error);
        if (!stored) throw error;
        // A client error is this request's answer (see run), unless the key was answered meanwhile.
        if (await this.claimAndStore(db, req, keyHash, requestHash, stored)) throw error;
        const response = await this.stored(req, keyHash, requestHash);
        if (!response) throw error;
        return { response, replayed: true };
      } catch (e) {
        if (pgCode(e) === PG.LOCK_NOT_AVAILABLE) throw inProgress();
        throw e;
      }
    }
    const { status, body } = done.response;
    // Should this fail (the database went away just now), the claim names the order: a retry is
    // answered from it, so the order is never placed twice.
    await idempotencySql
      .storeClaimedAnswer(db, { scope: req.scope, keyHash, status, body, orderId: done.orderId })
      .catch(() => undefined);
    return { response: done.response, replayed: false };
  }

  /** Claims the key and stores `r` as its answer in one statement; false when the key is held. */
  private async claimAndStore(
    db: Queryable,
    req: IdempotentRequest,
    keyHash: string,
    requestHash: string,
    r: StoredResponse,
  ): Promise<boolean> {
    return idempotencySql.claimAndStore(db, {
      scope: req.scope,
      keyHash,
      requestHash,
      status: r.status,
      body: r.body,
      secret: r.secret ? encrypt(r.secret, req.key, req.scope) : null,
      lockTimeout: WAIT_FOR_HOLDER,
    });
  }

  /**
   * The stored answer of a key; 422 when the key was used for another request; undefined when it
   * expired (a new request may take it over).
   */
  private async stored(
    req: IdempotentRequest,
    keyHash: string,
    requestHash: string,
  ): Promise<StoredResponse | undefined> {
    const row = await idempotencySql.find(this.deps.db.primary, req.scope, keyHash);
    // Answered a moment ago and gone now (expired and purged): nothing to replay; a retry runs anew.
    if (!row) throw AppError.conflict('request_in_progress', 'Retry: this Idempotency-Key was just released');
    if (row.request_hash !== requestHash) {
      throw new AppError(
        'unprocessable',
        'idempotency_key_reused',
        'This Idempotency-Key was used for a different request',
      );
    }
    if (row.expired) return undefined;
    const secret = row.response_secret ? decrypt(row.response_secret, req.key, req.scope) : undefined;
    if (row.status === 'in_progress' && row.order_id && req.recover) {
      return { ...(await req.recover(row.order_id)), ...(secret ? { secret } : {}) };
    }
    return { status: row.response_status ?? 200, body: row.response_body, ...(secret ? { secret } : {}) };
  }

  /** Erasure, in the caller's transaction: the stored answers of one scope's keyed requests. */
  forgetScope(tx: Tx, scope: string): Promise<number> {
    return idempotencySql.deleteScope(tx, scope);
  }
}
