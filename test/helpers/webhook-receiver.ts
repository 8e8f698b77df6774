/**
 * A local webhook receiver: an HTTP server that records every request and verifies its signature
 * with the `standardwebhooks` package, as an integrator would. What it answers is scripted: a
 * status, a hang (never answers), a redirect, or an oversized body.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  at: number;
  headers: Record<string, string>;
  raw: string;
  body: { type: string; timestamp: string; data: Record<string, unknown> };
  /** For each secret given to {@link WebhookReceiver.verifyWith}, whether it verified this request. */
  verified: boolean[];
}

export type Answer =
  { status: number; body?: string } | { hang: true } | { redirect: string } | { bigBodyBytes: number };

export interface WebhookReceiver {
  url: string;
  port: number;
  received: Received[];
  /** Secrets to verify with (in order); each request records the outcome of each. */
  verifyWith(secrets: string[]): void;
  /** Answers for the next requests, in order; then `fallback` (200 by default). */
  script(answers: Answer[], fallback?: Answer): void;
  /** Decides the answer to each request first (undefined: the script's); e.g. fail one order's events. */
  decide(fn: ((r: Received) => Answer | undefined) | undefined): void;
  close(): Promise<void>;
}

export async function startReceiver(path = '/hook'): Promise<WebhookReceiver> {
  const received: Received[] = [];
  let secrets: string[] = [];
  let queue: Answer[] = [];
  let fallback: Answer = { status: 200 };
  let decider: ((r: Received) => Answer | undefined) | undefined;
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]),
      );
      const verified = secrets.map((s) => {
        try {
          new Webhook(s).verify(raw, headers);
          return true;
        } catch {
          return false;
        }
      });
      let body: Received['body'];
      try {
        body = JSON.parse(raw) as Received['body'];
      } catch {
        body = { type: '', timestamp: '', data: {} };
      }
      const got = { at: Date.now(), headers, raw, body, verified };
      received.push(got);
      const answer = decider?.(got) ?? queue.shift() ?? fallback;
      if ('hang' in answer) {
        hanging.add(res);
        return;
      }
      if ('redirect' in answer) {
        res.writeHead(302, { location: answer.redirect }).end();
        return;
      }
      if ('bigBodyBytes' in answer) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        const block = Buffer.alloc(64 * 1024, 'x');
        let left = answer.bigBodyBytes;
        const write = () => {
          while (left > 0) {
            left -= block.length;
            if (!res.write(block)) return void res.once('drain', write);
          }
          res.end();
        };
        res.on('error', () => undefined);
        write();
        return;
      }
      res
        .writeHead(answer.status, { 'content-type': 'text/plain' })
        .end(answer.body ?? `status ${answer.status}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    port,
    received,
    verifyWith(s) {
      secrets = s;
    },
    script(answers, fb = { status: 200 }) {
      queue = [...answers];
      fallback = fb;
    },
    decide(fn) {
      decider = fn;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** What the harness needs of test/helpers/api.ts's `call`. */
type Call = <T>(method: string, url: string, body?: unknown) => Promise<{ status: number; body: T }>;

/**
 * The receivers of a webhook suite (all closed by `close`) and endpoints pointing at them: an
 * endpoint subscribed to `events`, created through the admin API, its receiver verifying with its
 * secret.
 */
export function webhookHarness(call: Call) {
  const receivers: WebhookReceiver[] = [];
  const receiver = async () => {
    const r = await startReceiver();
    receivers.push(r);
    return r;
  };
  return {
    receiver,
    async endpoint<E extends { secret: string }>(events: string[], r?: WebhookReceiver) {
      const to = r ?? (await receiver());
      const res = await call<E>('POST', '/admin/webhooks', { url: to.url, events });
      if (res.status !== 201) throw new Error(`endpoint not created: ${res.status}`);
      to.verifyWith([res.body.secret]);
      return { r: to, e: res.body };
    },
    close: () => Promise.all(receivers.map((r) => r.close())),
  };
}
