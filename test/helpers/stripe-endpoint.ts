/**
 * A local stand-in for api.stripe.com: answers the endpoints ShopFlow's Stripe adapter uses
 * (PaymentIntents create, retrieve, cancel and search; refunds create) the way Stripe documents
 * them, honours idempotency keys like Stripe (the same key answers the same response), and records
 * every request the official SDK sent, decoded, for the tests to assert on. Webhook deliveries are
 * built here and signed with the SDK's own test-header helper.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';

export interface RecordedRequest {
  method: string;
  path: string;
  idempotencyKey: string | undefined;
  authorization: string | undefined;
  /** The form body (or query string) as flat `key[sub]` -> value pairs. */
  params: Record<string, string>;
}

export type IntentStatus =
  'requires_payment_method' | 'requires_action' | 'processing' | 'succeeded' | 'canceled';

/** The stored PaymentIntents, as JSON objects in Stripe's shape. */
type Intent = Record<string, unknown> & {
  id: string;
  status: IntentStatus;
  amount: number;
  metadata: Record<string, string>;
};

export interface StripeEndpoint {
  url: string;
  host: string;
  port: number;
  requests: RecordedRequest[];
  intents: Map<string, Intent>;
  /** The intent's status now (as if the payer acted, or Stripe settled it). */
  setStatus(id: string, status: IntentStatus, received?: number): Intent;
  /** Refunds are refused (400) while this is set. */
  refuseRefunds: boolean;
  /** The status new refunds get (Stripe answers `pending` for some methods, `succeeded` for cards). */
  refundStatus: 'succeeded' | 'pending';
  /** While set, a refund is made at once but answered only when this settles (its answer in flight). */
  holdRefundAnswers: Promise<void> | undefined;
  /** The refunds made, as JSON objects in Stripe's shape. */
  refunds: Map<string, Record<string, unknown>>;
  /** Requests are carried out but answered 500 while this is set (the answers are lost). */
  loseAnswers: boolean;
  /** A webhook delivery: JSON body and its `Stripe-Signature` header (timestamp: now, or `at`). */
  event(
    type: string,
    object: Record<string, unknown>,
    options?: { id?: string; at?: number; secret?: string },
  ): { body: string; signature: string; id: string };
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

/** The environment of a test app whose Stripe adapter talks to `stripe` and verifies `secret`. */
export const stripeAppEnv = (stripe: StripeEndpoint, secret: string): Record<string, string> => ({
  PAYMENT_PROVIDER: 'stripe',
  STRIPE_SECRET_KEY: 'sk_test_shopflowlocal',
  STRIPE_WEBHOOK_SECRET: secret,
  STRIPE_API_HOST: stripe.host,
  STRIPE_API_PORT: String(stripe.port),
  STRIPE_API_PROTOCOL: 'http',
});

export async function startStripeEndpoint(webhookSecret: string): Promise<StripeEndpoint> {
  const requests: RecordedRequest[] = [];
  const intents = new Map<string, Intent>();
  const refunds = new Map<string, Record<string, unknown>>();
  const byKey = new Map<string, { status: number; body: unknown }>();
  let n = 0;
  const nextId = (prefix: string) => `${prefix}_${(++n).toString().padStart(6, '0')}local`;
  const now = () => Math.floor(Date.now() / 1000);

  const error = (status: number, type: string, code: string, message: string, extra: object = {}) => ({
    status,
    body: { error: { type, code, message, ...extra } },
  });

  function createIntent(p: Record<string, string>): { status: number; body: unknown } {
    const id = nextId('pi');
    const amount = Number(p.amount);
    const metadata: Record<string, string> = {};
    for (const [k, v] of Object.entries(p)) {
      const m = /^metadata\[(.+)\]$/.exec(k);
      if (m) metadata[m[1]!] = v;
    }
    const intent: Intent = {
      id,
      object: 'payment_intent',
      amount,
      amount_received: 0,
      currency: p.currency,
      metadata,
      status: 'requires_payment_method',
      client_secret: `${id}_secret_local`,
      last_payment_error: null,
      next_action: null,
      cancellation_reason: null,
      created: now(),
    };
    const type = p['payment_method_data[type]'] ?? 'card';
    if (type === 'pix') {
      const expires = Number(p['payment_method_options[pix][expires_at]'] ?? now() + 3600);
      intent.status = 'requires_action';
      intent.next_action = {
        type: 'pix_display_qr_code',
        pix_display_qr_code: {
          data: `00020101021226880014br.gov.bcb.pix${id}`,
          expires_at: expires,
          image_url_png: `https://qr.stripe.local/${id}.png`,
          image_url_svg: `https://qr.stripe.local/${id}.svg`,
          hosted_instructions_url: `https://payments.stripe.local/pix/${id}`,
        },
      };
    } else if (type === 'boleto') {
      const days = Number(p['payment_method_options[boleto][expires_after_days]'] ?? 3);
      intent.status = 'requires_action';
      intent.next_action = {
        type: 'boleto_display_details',
        boleto_display_details: {
          expires_at: now() + days * 86_400,
          hosted_voucher_url: `https://payments.stripe.local/boleto/${id}`,
          number: '01010101010101010101010101010101010101010101010',
          pdf: `https://payments.stripe.local/boleto/${id}.pdf`,
        },
      };
    } else {
      // Stripe's test PaymentMethods: pm_card_visa succeeds, pm_card_chargeDeclined is declined,
      // pm_card_authenticationRequired asks for 3-D Secure.
      const pm = p.payment_method;
      if (pm === 'pm_card_chargeDeclined') {
        intent.last_payment_error = {
          type: 'card_error',
          code: 'card_declined',
          decline_code: 'generic_decline',
        };
        intents.set(id, intent);
        return error(402, 'card_error', 'card_declined', 'Your card was declined.', {
          decline_code: 'generic_decline',
          payment_intent: intent,
        });
      }
      if (pm === 'pm_card_authenticationRequired') {
        intent.status = 'requires_action';
        intent.next_action = { type: 'use_stripe_sdk', use_stripe_sdk: {} };
      } else if (pm?.startsWith('pm_card_')) {
        intent.status = 'succeeded';
        intent.amount_received = amount;
      } else {
        return error(400, 'invalid_request_error', 'resource_missing', `No such PaymentMethod: '${pm}'`, {
          param: 'payment_method',
        });
      }
    }
    intents.set(id, intent);
    return { status: 200, body: intent };
  }

  function createRefund(p: Record<string, string>): { status: number; body: unknown } {
    const intent = intents.get(p.payment_intent ?? '');
    if (!intent) return error(400, 'invalid_request_error', 'resource_missing', 'No such payment_intent');
    if (endpoint.refuseRefunds)
      return error(400, 'invalid_request_error', 'charge_disputed', 'This charge has been disputed.');
    const refunded = [...refunds.values()]
      .filter((r) => r.payment_intent === intent.id)
      .reduce((s, r) => s + (r.amount as number), 0);
    const amount = p.amount ? Number(p.amount) : (intent.amount_received as number) - refunded;
    if (amount + refunded > (intent.amount_received as number))
      return error(
        400,
        'invalid_request_error',
        'amount_too_large',
        'Refund amount is greater than unrefunded amount',
      );
    const refund = {
      id: nextId('re'),
      object: 'refund',
      amount,
      currency: intent.currency,
      payment_intent: intent.id,
      status: endpoint.refundStatus,
      reason: p.reason ?? null,
      metadata: Object.fromEntries(
        Object.entries(p)
          .filter(([k]) => k.startsWith('metadata['))
          .map(([k, v]) => [k.slice('metadata['.length, -1), v]),
      ),
      created: now(),
    };
    refunds.set(refund.id, refund);
    return { status: 200, body: refund };
  }

  function route(method: string, path: string, p: Record<string, string>): { status: number; body: unknown } {
    if (method === 'POST' && path === '/v1/payment_intents') return createIntent(p);
    if (method === 'GET' && path === '/v1/payment_intents/search') {
      const m = /metadata\['attemptId'\]:'([0-9a-f-]+)'/.exec(p.query ?? '');
      const data = [...intents.values()].filter((i) => m && i.metadata.attemptId === m[1]);
      return { status: 200, body: { object: 'search_result', data, has_more: false, url: path } };
    }
    const one = /^\/v1\/payment_intents\/([^/]+)(\/cancel)?$/.exec(path);
    if (one) {
      const intent = intents.get(one[1]!);
      if (!intent) return error(404, 'invalid_request_error', 'resource_missing', 'No such payment_intent');
      if (method === 'GET') return { status: 200, body: intent };
      if (one[2]) {
        if (intent.status === 'succeeded' || intent.status === 'canceled')
          return error(
            400,
            'invalid_request_error',
            'payment_intent_unexpected_state',
            `status is ${intent.status}`,
          );
        intent.status = 'canceled';
        intent.cancellation_reason = p.cancellation_reason ?? 'requested_by_customer';
        intent.next_action = null;
        return { status: 200, body: intent };
      }
    }
    if (method === 'POST' && path === '/v1/refunds') return createRefund(p);
    return error(404, 'invalid_request_error', 'unknown_route', `No route ${method} ${path}`);
  }

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://local');
      const raw = req.method === 'GET' ? url.search.slice(1) : await read(req);
      const params = Object.fromEntries(new URLSearchParams(raw));
      const key = req.headers['idempotency-key'] as string | undefined;
      requests.push({
        method: req.method ?? '',
        path: url.pathname,
        idempotencyKey: key,
        authorization: req.headers.authorization,
        params,
      });
      let answer: { status: number; body: unknown };
      if (key && byKey.has(`${url.pathname}:${key}`)) answer = byKey.get(`${url.pathname}:${key}`)!;
      else {
        answer = route(req.method ?? '', url.pathname, params);
        if (key && answer.status < 500) byKey.set(`${url.pathname}:${key}`, answer);
      }
      if (endpoint.loseAnswers) answer = error(500, 'api_error', 'internal', 'lost answer (test)');
      if (url.pathname === '/v1/refunds' && endpoint.holdRefundAnswers) await endpoint.holdRefundAnswers;
      res.writeHead(answer.status, { 'content-type': 'application/json', 'request-id': `req_${n}` });
      res.end(JSON.stringify(answer.body));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const stripe = new Stripe('sk_test_signing_only');

  const endpoint: StripeEndpoint = {
    url: `http://127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    requests,
    intents,
    refuseRefunds: false,
    refundStatus: 'succeeded',
    holdRefundAnswers: undefined,
    refunds,
    loseAnswers: false,
    setStatus(id, status, received) {
      const intent = intents.get(id);
      if (!intent) throw new Error(`no intent ${id}`);
      intent.status = status;
      if (status === 'succeeded') {
        intent.amount_received = received ?? intent.amount;
        intent.next_action = null;
      }
      return intent;
    },
    event(type, object, options = {}) {
      const id = options.id ?? nextId('evt');
      const body = JSON.stringify({
        id,
        object: 'event',
        type,
        api_version: '2026-10-28.endive',
        created: options.at ?? now(),
        livemode: false,
        pending_webhooks: 1,
        data: { object },
      });
      const signature = stripe.webhooks.generateTestHeaderString({
        payload: body,
        secret: options.secret ?? webhookSecret,
        ...(options.at ? { timestamp: options.at } : {}),
      });
      return { body, signature, id };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return endpoint;
}
