/**
 * The client address that budgets and throttles are keyed by. Behind a proxy Fastify resolves
 * `request.ip` from X-Forwarded-For only for the hops TRUST_PROXY trusts. IPv6 clients are keyed
 * by their /64: one subscriber usually holds a whole /64, and keying by the full address would
 * give them 2^64 budgets.
 */
import type { FastifyRequest } from 'fastify';
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

export const clientAddress = (request: FastifyRequest): string => addressKey(request.ip);
