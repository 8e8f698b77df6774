/**
 * A local stand-in for api.mercadopago.com: answers the endpoints ShopFlow's Mercado Pago adapter
 * uses (payments create, get, cancel and search; refunds create; installments) the way Mercado
 * Pago's API reference describes them, honours `X-Idempotency-Key` (the same key answers the same
 * response), checks what a create must carry (a bearer token, a positive `transaction_amount`
 * with at most two decimals, the payer's e-mail, the card token and installments, the payer's
 * name, document and address for a boleto: 400 with Mercado Pago's error body otherwise), and
 * records every request the official SDK sent for the tests to assert on. Notifications are
 * built here and signed as Mercado Pago signs them (`x-signature: ts=<s>,v1=<HMAC-SHA256 hex of
 * id:<data.id>;request-id:<x-request-id>;ts:<ts>;>`).
 */
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MpRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  idempotencyKey: string | undefined;
  authorization: string | undefined;
  body: Record<string, unknown> | undefined;
}

export type MpStatus =
  | 'pending'
  | 'in_process'
  | 'approved'
  | 'rejected'
  | 'cancelled'
  | 'refunded'
  | 'in_mediation'
  | 'charged_back';

/** A stored payment, in Mercado Pago's JSON shape. */
export type MpPayment = Record<string, unknown> & {
  id: number;
  status: MpStatus;
  transaction_amount: number;
  transaction_amount_refunded: number;
  payment_method_id: string;
  external_reference?: string;
};

export interface MercadoPagoEndpoint {
  url: string;
  requests: MpRequest[];
  payments: Map<number, MpPayment>;
  refunds: Map<number, Record<string, unknown>>;
  /** The payment's status now (as if the payer paid, or Mercado Pago settled it). */
  setStatus(id: number | string, status: MpStatus, patch?: Partial<MpPayment>): MpPayment;
  /** Refunds of boletos are refused (400) while set, as for a payment method that cannot refund. */
  refuseBoletoRefunds: boolean;
  /** Requests are carried out but answered 500 while this is set (the answers are lost). */
  loseAnswers: boolean;
  /** New payments are answered without `date_of_expiration` while this is set. */
  omitExpiry: boolean;
  /** The installment counts the installments API answers (Mercado Pago's rules for the card). */
  installmentCounts: number[];
  /** A signed notification for payment `id` (timestamp now, or `ts` seconds; another secret to forge). */
  notification(
    id: number | string,
    options?: { ts?: number; secret?: string; notificationId?: number; action?: string; type?: string },
  ): { body: string; headers: Record<string, string>; query: string };
  close(): Promise<void>;
}

const read = (req: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });

/** The environment of a test app whose Mercado Pago adapter talks to `mp` and verifies `secret`. */
export const mercadoPagoAppEnv = (mp: MercadoPagoEndpoint, secret: string): Record<string, string> => ({
  PAYMENT_PROVIDER: 'mercadopago',
  MERCADOPAGO_ACCESS_TOKEN: 'TEST-0000000000000000-local',
  MERCADOPAGO_WEBHOOK_SECRET: secret,
  MERCADOPAGO_API_BASE_URL: mp.url,
});

const bad = (message: string, code: string | number = 'bad_request') => ({
  status: 400,
  body: { message, error: 'bad_request', status: 400, cause: [{ code, description: message }] },
});

const twoDecimals = (n: unknown) => typeof n === 'number' && n > 0 && Math.round(n * 100) === n * 100;

export async function startMercadoPagoEndpoint(webhookSecret: string): Promise<MercadoPagoEndpoint> {
  const requests: MpRequest[] = [];
  const payments = new Map<number, MpPayment>();
  const refunds = new Map<number, Record<string, unknown>>();
  const byKey = new Map<string, { status: number; body: unknown }>();
  let nextId = 1_000_000_000;
  let notifications = 50_000;

  function createPayment(b: Record<string, unknown>): { status: number; body: unknown } {
    if (!twoDecimals(b.transaction_amount))
      return bad('transaction_amount must be a positive number with at most two decimals', 4037);
    const payer = (b.payer ?? {}) as Record<string, unknown>;
    if (typeof payer.email !== 'string' || !payer.email.includes('@'))
      return bad('payer.email is required', 4050);
    const method = typeof b.payment_method_id === 'string' ? b.payment_method_id : '';
    const ident = payer.identification as { type?: string; number?: string } | undefined;
    const id = ++nextId;
    const now = new Date().toISOString();
    const base = {
      id,
      status: 'pending' as MpStatus,
      status_detail: 'pending_waiting_payment',
      currency_id: 'BRL',
      transaction_amount: b.transaction_amount as number,
      transaction_amount_refunded: 0,
      external_reference: b.external_reference as string,
      metadata: b.metadata ?? {},
      description: b.description,
      date_created: now,
      date_of_expiration: endpoint.omitExpiry ? null : ((b.date_of_expiration as string | undefined) ?? null),
      payer,
      refunds: [],
    };
    let payment: MpPayment;
    if (method === 'pix') {
      payment = {
        ...base,
        payment_method_id: 'pix',
        payment_type_id: 'bank_transfer',
        point_of_interaction: {
          type: 'PIX',
          transaction_data: {
            qr_code: `00020126580014br.gov.bcb.pix0136${randomUUID()}5204000053039865802BR6304ABCD`,
            qr_code_base64: Buffer.from(`png-of-${id}`).toString('base64'),
            ticket_url: `https://www.mercadopago.com.br/payments/${id}/ticket`,
          },
        },
      };
    } else if (method === 'bolbradesco') {
      const address = payer.address as Record<string, unknown> | undefined;
      if (!payer.first_name || !payer.last_name)
        return bad('payer.first_name and last_name are required', 4033);
      if (!ident?.number || !['CPF', 'CNPJ'].includes(ident.type ?? ''))
        return bad('payer.identification is required', 2067);
      for (const f of ['zip_code', 'street_name', 'street_number', 'neighborhood', 'city', 'federal_unit'])
        if (!address?.[f]) return bad(`payer.address.${f} is required`, 4020);
      payment = {
        ...base,
        payment_method_id: 'bolbradesco',
        payment_type_id: 'ticket',
        barcode: { content: '23791234500000129903380260000000001234567890' },
        transaction_details: {
          external_resource_url: `https://www.mercadopago.com.br/payments/${id}/ticket?caller_id=1&hash=x`,
          digitable_line: '23793.38029 60000.000001 12345.678901 1 12345000012990',
          barcode: { content: '23791234500000129903380260000000001234567890' },
        },
      };
    } else {
      if (typeof b.token !== 'string' || !b.token) return bad('token is required for a card payment', 2006);
      if (!Number.isInteger(b.installments) || (b.installments as number) < 1)
        return bad('installments must be a positive integer', 4020);
      if (!ident?.number) return bad('payer.identification is required', 2067);
      const token = b.token;
      const rejected = token.includes('rejected');
      const pending = token.includes('pending');
      payment = {
        ...base,
        payment_method_id: method || 'visa',
        payment_type_id: 'credit_card',
        installments: b.installments,
        issuer_id: b.issuer_id,
        status: rejected ? 'rejected' : pending ? 'in_process' : 'approved',
        status_detail: rejected
          ? 'cc_rejected_insufficient_amount'
          : pending
            ? 'pending_contingency'
            : 'accredited',
      };
    }
    payments.set(id, payment);
    return { status: 201, body: payment };
  }

  function refund(paymentId: number, b: Record<string, unknown>): { status: number; body: unknown } {
    const p = payments.get(paymentId);
    if (!p)
      return {
        status: 404,
        body: { message: 'Payment not found', error: 'not_found', status: 404, cause: [] },
      };
    if (p.payment_type_id === 'ticket' && endpoint.refuseBoletoRefunds)
      return bad('Payment method does not allow refunds', 'refund_not_allowed');
    if (!['approved', 'in_mediation'].includes(p.status))
      return bad(`Payment is ${p.status}`, 'invalid_status');
    const left = Math.round((p.transaction_amount - p.transaction_amount_refunded) * 100);
    const amount = b.amount === undefined ? left : Math.round((b.amount as number) * 100);
    if (b.amount !== undefined && !twoDecimals(b.amount)) return bad('amount must have at most two decimals');
    if (amount > left) return bad('Amount exceeds what can be refunded', 'amount_too_large');
    const id = ++nextId;
    const r = {
      id,
      payment_id: paymentId,
      amount: amount / 100,
      status: 'approved',
      date_created: new Date().toISOString(),
    };
    refunds.set(id, r);
    p.transaction_amount_refunded = Math.round(p.transaction_amount_refunded * 100 + amount) / 100;
    (p.refunds as unknown[]).push(r);
    if (p.transaction_amount_refunded >= p.transaction_amount) p.status = 'refunded';
    return { status: 201, body: r };
  }

  function handle(req: MpRequest): { status: number; body: unknown } {
    const notFound = {
      status: 404,
      body: { message: 'resource not found', error: 'not_found', status: 404, cause: [] },
    };
    if (req.authorization !== 'Bearer TEST-0000000000000000-local')
      return {
        status: 401,
        body: { message: 'invalid access token', error: 'unauthorized', status: 401, cause: [] },
      };
    if (req.method === 'POST' && req.path === '/v1/payments') return createPayment(req.body ?? {});
    if (req.method === 'GET' && req.path === '/v1/payments/search') {
      const results = [...payments.values()]
        .filter((p) => p.external_reference === req.query.external_reference)
        .reverse();
      return { status: 200, body: { paging: { total: results.length, limit: 30, offset: 0 }, results } };
    }
    if (req.method === 'GET' && req.path === '/v1/payment_methods/installments') {
      return {
        status: 200,
        body: [
          {
            payment_method_id: req.query.payment_method_id,
            payer_costs: endpoint.installmentCounts.map((n) => ({ installments: n, installment_rate: 0 })),
          },
        ],
      };
    }
    const refundPath = /^\/v1\/payments\/(\d+)\/refunds$/.exec(req.path);
    if (req.method === 'POST' && refundPath) return refund(Number(refundPath[1]), req.body ?? {});
    const one = /^\/v1\/payments\/(\d+)$/.exec(req.path);
    if (one) {
      const p = payments.get(Number(one[1]));
      if (!p) return notFound;
      if (req.method === 'GET') return { status: 200, body: p };
      if (req.method === 'PUT' && req.body?.status === 'cancelled') {
        if (p.status !== 'pending' && p.status !== 'in_process')
          return bad(`Payment is ${p.status}: it cannot be cancelled`, 'invalid_status');
        p.status = 'cancelled';
        p.status_detail = 'by_collector';
        return { status: 200, body: p };
      }
    }
    return notFound;
  }

  const server: Server = createServer((req, res) => {
    void (async () => {
      const raw = await read(req);
      const url = new URL(req.url ?? '/', 'http://local');
      const header = (n: string) => {
        const v = req.headers[n];
        return Array.isArray(v) ? v[0] : v;
      };
      const recorded: MpRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        idempotencyKey: header('x-idempotency-key'),
        authorization: header('authorization'),
        body: raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined,
      };
      requests.push(recorded);
      const keyed = recorded.method !== 'GET' && recorded.idempotencyKey;
      const cacheKey = keyed ? `${recorded.method} ${recorded.path} ${recorded.idempotencyKey}` : undefined;
      let answer = cacheKey ? byKey.get(cacheKey) : undefined;
      if (!answer) {
        answer = handle(recorded);
        if (cacheKey && answer.status < 500) byKey.set(cacheKey, answer);
      }
      if (endpoint.loseAnswers)
        answer = {
          status: 500,
          body: { message: 'internal error', error: 'internal_error', status: 500, cause: [] },
        };
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    })().catch((err: unknown) => {
      res.writeHead(500);
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const endpoint: MercadoPagoEndpoint = {
    url: `http://127.0.0.1:${port}`,
    requests,
    payments,
    refunds,
    refuseBoletoRefunds: false,
    loseAnswers: false,
    omitExpiry: false,
    installmentCounts: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
    setStatus(id, status, patch = {}) {
      const p = payments.get(Number(id));
      if (!p) throw new Error(`no payment ${id}`);
      p.status = status;
      p.status_detail = status === 'approved' ? 'accredited' : status;
      Object.assign(p, patch);
      return p;
    },
    notification(id, options = {}) {
      const ts = options.ts ?? Math.floor(Date.now() / 1000);
      const requestId = randomUUID();
      const dataId = String(id);
      const manifest = `id:${dataId.toLowerCase()};request-id:${requestId};ts:${ts};`;
      const v1 = createHmac('sha256', options.secret ?? webhookSecret)
        .update(manifest)
        .digest('hex');
      const type = options.type ?? 'payment';
      const body = JSON.stringify({
        id: options.notificationId ?? ++notifications,
        live_mode: false,
        type,
        date_created: new Date().toISOString(),
        user_id: 44444,
        api_version: 'v1',
        action: options.action ?? 'payment.updated',
        data: { id: dataId },
      });
      return {
        body,
        headers: {
          'content-type': 'application/json',
          'x-signature': `ts=${ts},v1=${v1}`,
          'x-request-id': requestId,
        },
        query: `data.id=${encodeURIComponent(dataId)}&type=${type}`,
      };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return endpoint;
}
