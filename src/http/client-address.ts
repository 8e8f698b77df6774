/**
 * The client address that budgets and throttles are keyed by. Behind a proxy Fastify resolves
 * `request.ip` from X-Forwarded-For only for the hops TRUST_PROXY trusts. IPv6 clients are keyed
 * by their /64: one subscriber usually holds a whole /64, and keying by the full address would
 * give them 2^64 budgets.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import ipaddr from 'ipaddr.js';

export function addressKey(ip: string): string {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(ip);
  } catch {
    return ip;
  }
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const v6 = parsed as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().toString();
  const p = v6.parts;
  return `${p
    .slice(0, 4)
    .map((h) => h.toString(16))
    .join(':')}::/64`;
}

/** The viewer's address of a request that came through the CDN (set by {@link viewerAddressHook}). */
const VIEWER = Symbol('viewerAddress');
type WithViewer = FastifyRequest & { [VIEWER]?: string };

export const clientAddress = (request: FastifyRequest): string =>
  addressKey((request as WithViewer)[VIEWER] ?? request.ip);

/** The CDN's origin secret and the headers that carry it and the viewer's address. */
export interface CdnViewer {
  secret: string;
  secretHeader: string;
  viewerHeader: string;
}

const digest = (v: string) => createHash('sha256').update(v).digest();

/**
 * The address in a viewer-address header (`CloudFront-Viewer-Address`: `ip:port`, IPv6 included,
 * the port after the last colon), or undefined when it is not one.
 */
export function viewerIp(header: string): string | undefined {
  const cut = header.lastIndexOf(':');
  const ip = cut > 0 ? header.slice(0, cut) : '';
  return ipaddr.isValid(ip) ? ipaddr.parse(ip).toString() : undefined;
}

/**
 * An onRequest hook: a request whose origin-secret header equals the CDN's secret (compared in
 * constant time, over digests of equal length) is attributed to the address in the viewer header,
 * so that shoppers behind one edge do not share one budget. Without the secret the header is
 * ignored (anyone can send it) and the address is the socket's, or TRUST_PROXY's, as before.
 */
export function viewerAddressHook(
  cdn: CdnViewer,
): (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void {
  const expected = digest(cdn.secret);
  return (request, _reply, done) => {
    const given = request.headers[cdn.secretHeader];
    const viewer = request.headers[cdn.viewerHeader];
    if (typeof given === 'string' && typeof viewer === 'string' && timingSafeEqual(digest(given), expected)) {
      const ip = viewerIp(viewer);
      if (ip) (request as WithViewer)[VIEWER] = ip;
    }
    done();
  };
}
