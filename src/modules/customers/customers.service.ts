import type { Database, Queryable } from '../../platform/db/pool.ts';
import { withTransaction } from '../../platform/db/transaction.ts';
import { recordEvents } from '../../platform/events/outbox.ts';
import { AppError } from '../../platform/errors.ts';
import { pgCode, PG } from '../../platform/db/pg-errors.ts';
import { decodeCursor, isTimeIdCursor, keysetPage } from '../../platform/cursor.ts';
import { isUuid } from '../../platform/ids.ts';
import { likeLiteral } from '../../platform/db/like.ts';
import type { Session, SessionStore } from '../../platform/sessions/session-store.ts';
import type { PasswordHasher } from './password.ts';
import { maskDocument, type DocumentType, type TaxDocument } from './documents.ts';
import { formatDocument } from './documents.ts';

export interface Customer {
  id: string;
  email: string;
  name: string;
  phone: string | null;
  /** The CPF or CNPJ: formatted in full for the customer, masked in the admin's lists. */
  document: { type: DocumentType; number: string } | null;
  createdAt: string;
}

interface Row {
  id: string;
  email: string;
  name: string;
  phone: string | null;
  document_type: DocumentType | null;
  document_number: string | null;
  created_at: Date;
  password_hash: string | null;
}

const documentOf = (r: Pick<Row, 'document_type' | 'document_number'>): TaxDocument | null =>
  r.document_type && r.document_number ? { type: r.document_type, number: r.document_number } : null;

const toCustomer = (r: Row, full = true): Customer => {
  const doc = documentOf(r);
  return {
    id: r.id,
    email: r.email,
    name: r.name,
    phone: r.phone,
    document: doc ? { type: doc.type, number: full ? formatDocument(doc) : maskDocument(doc) } : null,
    createdAt: r.created_at.toISOString(),
  };
};

const CUSTOMER_COLUMNS = 'id, email, name, phone, document_type, document_number, created_at, password_hash';

/** What the admin sees of a customer: erased ones keep their row, with placeholders. */
export interface AdminCustomer extends Customer {
  anonymizedAt: string | null;
  deletedAt: string | null;
}

interface AdminRow extends Omit<Row, 'password_hash'> {
  anonymized_at: Date | null;
  deleted_at: Date | null;
  created_key: string;
}

const toAdminCustomer = (r: AdminRow): AdminCustomer => ({
  ...toCustomer({ ...r, password_hash: null }, false),
  anonymizedAt: r.anonymized_at?.toISOString() ?? null,
  deletedAt: r.deleted_at?.toISOString() ?? null,
});

const ADMIN_COLUMNS =
  'id, email, name, phone, document_type, document_number, created_at, anonymized_at, deleted_at, created_at::text AS created_key';

export class CustomersService {
  constructor(private readonly deps: { db: Database; sessions: SessionStore; passwords: PasswordHasher }) {}

  /** Password checks made by this process (login, erasure): the throttles' tests count them. */
  get passwordChecks(): number {
    return this.deps.passwords.checks;
  }

  async register(input: {
    email: string;
    password: string;
    name: string;
    phone?: string | null;
  }): Promise<Customer> {
    const hash = await this.deps.passwords.hash(input.password);
    try {
      // The account and its `customer.created` commit together (the event carries the id only:
      // the webhook reads the customer when it fans the event out).
      const row = await withTransaction(this.deps.db.primary, async (tx) => {
        const { rows } = await tx.query<Row>(
          `INSERT INTO customers (email, name, phone, password_hash) VALUES ($1, $2, $3, $4)
           RETURNING ${CUSTOMER_COLUMNS}`,
          [input.email.trim().toLowerCase(), input.name, input.phone ?? null, hash],
        );
        const created = rows[0]!;
        await recordEvents(tx, [
          {
            type: 'customer.created',
            aggregateType: 'customer',
            aggregateId: created.id,
            payload: { customerId: created.id },
          },
        ]);
        return created;
      });
      return toCustomer(row);
    } catch (error) {
      if (pgCode(error) === PG.UNIQUE_VIOLATION) {
        throw AppError.conflict('duplicate', 'An account with this email already exists', [
          { field: 'email' },
        ]);
      }
      throw error;
    }
  }

  /** Checks the credentials and opens a customer session. Unknown email and wrong password look alike. */
  async login(
    email: string,
    password: string,
  ): Promise<{ token: string; session: Session; customer: Customer }> {
    const { rows } = await this.deps.db.primary.query<Row>(
      `SELECT ${CUSTOMER_COLUMNS} FROM customers WHERE lower(email) = $1 AND deleted_at IS NULL`,
      [email.trim().toLowerCase()],
    );
    const row = rows[0];
    const passwords = this.deps.passwords;
    const ok = await passwords.verify(password, row?.password_hash ?? (await passwords.dummyHash()));
    if (!row || !row.password_hash || !ok) throw AppError.unauthorized('Wrong email or password');
    // Hashes made at an older cost are replaced now that the password is at hand.
    if (passwords.isOutdated(row.password_hash)) {
      await this.deps.db.primary.query('UPDATE customers SET password_hash = $2 WHERE id = $1', [
        row.id,
        await passwords.hash(password),
      ]);
    }
    const { token, session } = await this.deps.sessions.create({ customerId: row.id });
    return { token, session, customer: toCustomer(row) };
  }

  /** Whether `password` is the live customer's password (an erasure asks for it again). */
  async checkPassword(id: string, password: string): Promise<boolean> {
    const { rows } = await this.deps.db.primary.query<{ password_hash: string | null }>(
      'SELECT password_hash FROM customers WHERE id = $1 AND deleted_at IS NULL',
      [id],
    );
    const hash = rows[0]?.password_hash;
    const ok = await this.deps.passwords.verify(password, hash ?? (await this.deps.passwords.dummyHash()));
    return Boolean(hash) && ok;
  }

  async get(id: string): Promise<Customer> {
    const { rows } = await this.deps.db.primary.query<Row>(
      `SELECT ${CUSTOMER_COLUMNS} FROM customers WHERE id = $1 AND deleted_at IS NULL`,
      [id],
    );
    if (!rows[0]) throw AppError.notFound('Customer');
    return toCustomer(rows[0]);
  }

  /**
   * Changes the live customer's profile: name, phone, document (null removes it). The document
   * arrives validated and normalized (see brazil.schemas.ts).
   */
  async updateProfile(
    id: string,
    patch: { name?: string; phone?: string | null; document?: TaxDocument | null },
  ): Promise<Customer> {
    const { rows } = await this.deps.db.primary.query<Row>(
      `UPDATE customers SET
         name = CASE WHEN $2 THEN $3 ELSE name END,
         phone = CASE WHEN $4 THEN $5 ELSE phone END,
         document_type = CASE WHEN $6 THEN $7 ELSE document_type END,
         document_number = CASE WHEN $6 THEN $8 ELSE document_number END
       WHERE id = $1 AND deleted_at IS NULL RETURNING ${CUSTOMER_COLUMNS}`,
      [
        id,
        patch.name !== undefined,
        patch.name ?? null,
        patch.phone !== undefined,
        patch.phone ?? null,
        patch.document !== undefined,
        patch.document?.type ?? null,
        patch.document?.number ?? null,
      ],
    );
    if (!rows[0]) throw AppError.notFound('Customer');
    return toCustomer(rows[0]);
  }

  /** The buyer a logged-in customer checks out as: name, email and document from the profile. */
  async buyerOf(
    id: string,
  ): Promise<{ name: string; email: string; document: TaxDocument | null } | undefined> {
    const { rows } = await this.deps.db.primary.query<Row>(
      `SELECT ${CUSTOMER_COLUMNS} FROM customers WHERE id = $1 AND deleted_at IS NULL`,
      [id],
    );
    const r = rows[0];
    return r ? { name: r.name, email: r.email, document: documentOf(r) } : undefined;
  }

  /**
   * Customers, newest first; `q` matches the start of the email or any part of the name
   * (case-insensitive). Keyset pages on (created_at, id).
   */
  async search(f: {
    q?: string;
    limit: number;
    cursor?: string;
  }): Promise<{ items: AdminCustomer[]; nextCursor: string | null }> {
    const after = f.cursor === undefined ? undefined : decodeCursor(f.cursor, isTimeIdCursor);
    const q = f.q?.trim().toLowerCase();
    const { rows } = await this.deps.db.read.query<AdminRow>(
      `SELECT ${ADMIN_COLUMNS} FROM customers
       WHERE ($1::text IS NULL OR lower(email) LIKE $1 || '%' OR lower(name) LIKE '%' || $1 || '%')
         AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid))
       ORDER BY created_at DESC, id DESC
       LIMIT $4`,
      [q ? likeLiteral(q) : null, after?.createdAt ?? null, after?.id ?? null, f.limit + 1],
    );
    return keysetPage(rows, f.limit, toAdminCustomer, (last) => ({
      createdAt: last.created_key,
      id: last.id,
    }));
  }

  /**
   * A customer's name and email as they are now, from the primary (erased ones give the erasure's
   * placeholders); undefined when there is no such customer.
   */
  async contactOf(id: string): Promise<{ name: string; email: string } | undefined> {
    const { rows } = await this.deps.db.primary.query<{ name: string; email: string }>(
      'SELECT name, email FROM customers WHERE id = $1',
      [id],
    );
    return rows[0];
  }

  /** One customer as the admin sees it, erased or deleted ones included. */
  async getAdmin(id: string): Promise<AdminCustomer> {
    if (!isUuid(id)) throw AppError.notFound('Customer', { customerId: id });
    const { rows } = await this.deps.db.read.query<AdminRow>(
      `SELECT ${ADMIN_COLUMNS} FROM customers WHERE id = $1`,
      [id],
    );
    if (!rows[0]) throw AppError.notFound('Customer', { customerId: id });
    return toAdminCustomer(rows[0]);
  }

  /** Locks a customer row for erasure in the caller's transaction; undefined: no such customer. */
  async lockForErasure(tx: Queryable, id: string): Promise<{ anonymizedAt: Date | null } | undefined> {
    const { rows } = await tx.query<{ anonymized_at: Date | null }>(
      'SELECT anonymized_at FROM customers WHERE id = $1 FOR UPDATE',
      [id],
    );
    return rows[0] ? { anonymizedAt: rows[0].anonymized_at } : undefined;
  }

  /** Erasure: replaces every personal field (a placeholder email, no name, phone, address or password). */
  async erase(tx: Queryable, id: string, placeholderEmail: string): Promise<void> {
    await tx.query(
      `UPDATE customers SET email = $2, name = 'Erased customer', phone = NULL, address = NULL,
         document_type = NULL, document_number = NULL, password_hash = NULL, deleted_at = COALESCE(deleted_at, NOW()), anonymized_at = NOW()
       WHERE id = $1`,
      [id, placeholderEmail],
    );
  }

  /** A live customer's profile and address as their data export shows them; undefined: none. */
  async exportOf(
    id: string,
  ): Promise<{ profile: Record<string, unknown>; addresses: unknown[] } | undefined> {
    const { rows } = await this.deps.db.primary.query<{
      id: string;
      email: string;
      name: string;
      phone: string | null;
      address: unknown;
      document_type: DocumentType | null;
      document_number: string | null;
      created_at: Date;
      updated_at: Date;
    }>(
      `SELECT id, email, name, phone, address, document_type, document_number, created_at, updated_at
       FROM customers WHERE id = $1 AND deleted_at IS NULL`,
      [id],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      profile: {
        id: row.id,
        email: row.email,
        name: row.name,
        phone: row.phone,
        document: documentOf(row),
        createdAt: row.created_at,
        updatedAt: row.updated_at,
      },
      addresses: row.address ? [row.address] : [],
    };
  }
}
