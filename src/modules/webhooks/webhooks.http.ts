/**
 * The HTTP client of the deliveries: undici with a connector that refuses internal addresses at
 * connection time. The host name is resolved by our own lookup, and every address it resolves to
 * must be public (not private, loopback, link-local, CGNAT, unique-local, multicast, reserved):
 * one internal address and the connection is refused, so a name re-pointed after it was checked
 * (DNS rebinding) gets nowhere. The socket's remote address is checked again once connected (an IP
 * literal never goes through a lookup). Redirects are never followed (a 3xx is a failed attempt),
 * the whole exchange has a deadline, and only the first bytes of the answer are read.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress } from 'node:dns';
import ipaddr from 'ipaddr.js';
import { Agent, buildConnector, request } from 'undici';

/** Resolves a host name to every address it has (injectable: tests point names at chosen addresses). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

export class BlockedAddressError extends Error {
  readonly code = 'webhook_address_blocked';
  constructor(what: string) {
    super(`${what} is not a public address`);
    this.name = 'BlockedAddressError';
  }
}

/** Whether `address` is a public unicast address (an IPv4-mapped IPv6 address is judged as IPv4). */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
}

/** The host of a URL as an IP literal (brackets of IPv6 removed), or undefined for a name. */
export function ipLiteralOf(hostname: string): string | undefined {
  const h = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return ipaddr.isValid(h) && (h.includes(':') || ipaddr.IPv4.isValidFourPartDecimal(h)) ? h : undefined;
}

export interface SendResult {
  status: number | null;
  durationMs: number;
  /** The first bytes of the answer (at most `responseMaxBytes`), as text. */
  response: string | null;
  error: string | null;
}

type LookupCallback = (err: Error | null, address: string | LookupAddress[], family?: number) => void;

export class WebhookHttpClient {
  private readonly agent: Agent;

  constructor(
    private readonly options: {
      timeoutMs: number;
      responseMaxBytes: number;
      /** `true`: private and loopback addresses are allowed (development and tests only). */
      allowPrivate: boolean;
      connectionsPerOrigin: number;
      resolve?: Resolver;
    },
  ) {
    const resolve = options.resolve ?? systemResolver;
    const allowPrivate = options.allowPrivate;
    const lookup = (hostname: string, opts: { all?: boolean }, cb: LookupCallback) => {
      resolve(hostname).then(
        (addresses) => {
          if (addresses.length === 0) return cb(new Error(`${hostname} has no address`), []);
          const blocked = addresses.find((a) => !allowPrivate && !isPublicAddress(a.address));
          if (blocked) return cb(new BlockedAddressError(`${hostname} (${blocked.address})`), []);
          if (opts.all) return cb(null, addresses);
          const first = addresses[0]!;
          cb(null, first.address, first.family);
        },
        (err: unknown) => cb(err instanceof Error ? err : new Error(String(err)), []),
      );
    };
    const base = buildConnector({ timeout: options.timeoutMs, lookup });
    const connect: buildConnector.connector = (opts, callback) => {
      base(opts, (err, socket) => {
        if (err) return callback(err, null);
        const remote = socket.remoteAddress;
        if (!allowPrivate && (!remote || !isPublicAddress(remote))) {
          socket.destroy();
          return callback(new BlockedAddressError(remote ?? opts.hostname), null);
        }
        callback(null, socket);
      });
    };
    this.agent = new Agent({
      connect,
      connections: options.connectionsPerOrigin,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      keepAliveTimeout: 4_000,
    });
  }

  /** POSTs `body` to `url` with `headers`; never throws (the outcome says what happened). */
  async post(url: string, headers: Record<string, string>, body: string): Promise<SendResult> {
    const started = performance.now();
    const took = () => Math.round(performance.now() - started);
    try {
      const literal = ipLiteralOf(new URL(url).hostname);
      if (literal && !this.options.allowPrivate && !isPublicAddress(literal))
        throw new BlockedAddressError(literal);
      const res = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'ShopFlow-Webhooks/1', ...headers },
        body,
        dispatcher: this.agent,
        signal: AbortSignal.timeout(this.options.timeoutMs),
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
      });
      const response = await this.firstBytes(res.body);
      return { status: res.statusCode, durationMs: took(), response, error: null };
    } catch (err) {
      const e = err as Error & { code?: string };
      const message =
        e.name === 'TimeoutError' ||
        e.code === 'UND_ERR_HEADERS_TIMEOUT' ||
        e.code === 'UND_ERR_CONNECT_TIMEOUT'
          ? `timed out after ${this.options.timeoutMs} ms`
          : (e.message || String(err)).slice(0, 300);
      return { status: null, durationMs: took(), response: null, error: message };
    }
  }

  /** Reads at most `responseMaxBytes` of the answer, then drops the rest (the connection with it). */
  private async firstBytes(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string | null> {
    const max = this.options.responseMaxBytes;
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of body) {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= max) break;
      }
    } catch {
      // a broken or slow body after the status line: the status is what counts
    } finally {
      body.destroy();
    }
    if (max === 0) return null;
    return Buffer.concat(chunks).subarray(0, max).toString('utf8');
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
