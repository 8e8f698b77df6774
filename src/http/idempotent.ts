/**
 * The HTTP side of order placement and checkout: the Idempotency-Key header, the caller's scope,
 * a guest session created on the way when the caller has none, and the after-commit notification.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { Database } from '../platform/db/pool.ts';
import { withTransaction } from '../platform/db/transaction.ts';
import { AppError } from '../platform/errors.ts';
import type { IdempotencyService, StoredResponse } from '../modules/idempotency/idempotency.service.ts';
import type { Session } from '../modules/auth/session-store.ts';
import type { StockLevel } from '../modules/inventory/inventory.sql.ts';
import { toHttpError } from './error-handler.ts';
import type { SessionHelpers } from './session.ts';

export interface PlacementDeps {
  db: Database;
  sessions: SessionHelpers;
  idempotency: IdempotencyService;
  notify: (levels: StockLevel[]) => void;
}

const KEY = /^[\x21-\x7e]{1,255}$/;

export async function placeIdempotently(
  deps: PlacementDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  fingerprint: unknown,
  /** The placement itself, in the transaction that also records the idempotent response. */
  place: (tx: pg.PoolClient, session: Session) => Promise<{ body: object; levels: StockLevel[] }>,
  options: {
    createSession: boolean;
    /**
     * The same placement without an Idempotency-Key, when it can commit on its own (no stored
     * response to write alongside): e.g. an order of one product in one statement.
     */
    direct?: (session: Session) => Promise<{ body: object; levels: StockLevel[] }>;
  },
): Promise<FastifyReply> {
  const rawKey = request.headers['idempotency-key'];
  if (rawKey !== undefined && (typeof rawKey !== 'string' || !KEY.test(rawKey))) {
    throw AppError.invalid('Idempotency-Key must be 1 to 255 visible ASCII characters', [
      { field: 'headers.idempotency-key', message: 'invalid' },
    ]);
  }
  const existing = await deps.sessions.current(request);
  if (!existing && !options.createSession) throw AppError.unauthorized('A session is required');
  const scope = existing
    ? existing.customerId
      ? `customer:${existing.customerId}`
      : `session:${existing.id}`
    : `ip:${request.ip}`;
  // A guest without a session gets one now, before the transaction: creating it inside would
  // hold one pooled connection while waiting for another, and a burst would starve the pool.
  const created = existing ? undefined : await deps.sessions.store.create({ customerId: null });
  const session = existing ?? created!.session;

  let levels: StockLevel[] = [];
  const answer = (placed: { body: object; levels: StockLevel[] }): StoredResponse => {
    levels = placed.levels;
    return { status: 201, body: placed.body, ...(created ? { secret: created.token } : {}) };
  };
  const work = async (tx: pg.PoolClient) => answer(await place(tx, session));

  let response: StoredResponse;
  let replayed = false;
  try {
    ({ response, replayed } = await execute());
  } catch (error) {
    // The request failed: the guest session made for it leads nowhere.
    if (created) await deps.sessions.store.destroy(created.token).catch(() => undefined);
    throw error;
  }
  if (!replayed) deps.notify(levels);
  // A replay answers with the first request's session; the one made for this retry is not needed.
  else if (created) await deps.sessions.store.destroy(created.token);

  let body = response.body as object;
  if (response.secret) {
    deps.sessions.setCookie(reply, response.secret);
    body = { ...body, sessionToken: response.secret };
  }
  if (replayed) void reply.header('idempotent-replayed', 'true');
  return reply.status(response.status).send(body);

  async function execute(): Promise<{ response: StoredResponse; replayed: boolean }> {
    if (typeof rawKey !== 'string') {
      const response = options.direct
        ? answer(await options.direct(session))
        : await withTransaction(deps.db.primary, work);
      return { response, replayed: false };
    }
    return deps.idempotency.run({ scope, key: rawKey, fingerprint }, work, (error) => {
      const mapped = toHttpError(error, request.id);
      // Client errors are this request's answer and are replayed; throttling and auth are not.
      return mapped.status >= 400 && mapped.status < 500 && mapped.status !== 401 && mapped.status !== 429
        ? { status: mapped.status, body: mapped.body }
        : undefined;
    });
  }
}
