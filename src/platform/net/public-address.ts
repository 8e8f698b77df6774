/**
 * Outgoing requests to addresses a customer or an operator typed (webhook endpoints, image URLs of
 * a catalog import) must not reach the inside of our network. These helpers judge an address, and
 * {@link publicOnlyConnector} checks it when the connection is made: the host name is resolved by
 * our own lookup and every address it resolves to must be public (not private, loopback,
 * link-local, CGNAT, unique-local, multicast, reserved), so a name re-pointed after it was checked
 * (DNS rebinding) gets nowhere; the socket's remote address is checked again once connected (an IP
 * literal never goes through a lookup).
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress } from 'node:dns';
import ipaddr from 'ipaddr.js';
import { Agent, buildConnector } from 'undici';

/** Resolves a host name to every address it has (injectable: tests point names at chosen addresses). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

export class BlockedAddressError extends Error {
  readonly code = 'address_blocked';
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

/** Throws when `url`'s host is an IP literal that is not public (before any connection is tried). */
export function refuseInternalLiteral(url: string, allowPrivate: boolean): void {
  const literal = ipLiteralOf(new URL(url).hostname);
  if (literal && !allowPrivate && !isPublicAddress(literal)) throw new BlockedAddressError(literal);
}

type LookupCallback = (err: Error | null, address: string | LookupAddress[], family?: number) => void;

/**
 * An undici connector that connects to public addresses only (`allowPrivate`: any address, for
 * development and tests), for an `Agent`'s `connect` option.
 */
export function publicOnlyConnector(options: {
  timeoutMs: number;
  allowPrivate: boolean;
  resolve?: Resolver;
}): buildConnector.connector {
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
  return (opts, callback) => {
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
}

/**
 * An undici Agent on {@link publicOnlyConnector}: connect, header and body deadlines of
 * `timeoutMs`, at most `connections` per origin.
 */
export function publicOnlyAgent(options: {
  timeoutMs: number;
  allowPrivate: boolean;
  connections: number;
  resolve?: Resolver | undefined;
}): Agent {
  return new Agent({
    connect: publicOnlyConnector({
      timeoutMs: options.timeoutMs,
      allowPrivate: options.allowPrivate,
      ...(options.resolve ? { resolve: options.resolve } : {}),
    }),
    connections: options.connections,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    keepAliveTimeout: 4_000,
  });
}
