/**
 * Security headers (helmet's: CSP, HSTS, frame, sniffing and referrer protection), computed once.
 * Our policy does not depend on the request (no CSP nonces), so helmet runs a single time at start
 * and every answer gets the same prepared headers: the per-request cost of running helmet on each
 * response measured about a third of a cached product read.
 */
import helmet, { type HelmetOptions } from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * What API answers (JSON, files) get: OWASP's set for REST services — nothing may be framed or
 * sniffed, nothing loaded, HTTPS only, no referrer. Short, because it goes on every answer.
 */
export const API_HEADER_POLICY: Readonly<HelmetOptions> = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  },
  xFrameOptions: { action: 'deny' },
  // Storefronts on other origins (and a CDN) load product images and call the API.
  crossOriginResourcePolicy: { policy: 'cross-origin' },
  crossOriginOpenerPolicy: false,
  originAgentCluster: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
};

/** What the OpenAPI UI's pages get: helmet's full set, with a policy that lets the UI run. */
export const SECURITY_HEADER_POLICY: Readonly<HelmetOptions> = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      frameAncestors: ["'none'"],
      // Local development serves plain HTTP: the docs' own assets must not be upgraded.
      upgradeInsecureRequests: null,
    },
  },
  // Storefronts on other origins (and a CDN) load product images and call the API.
  crossOriginResourcePolicy: { policy: 'cross-origin' },
};

/** The headers helmet sets for `policy`, captured from one run against a stand-in response. */
export function securityHeaders(policy: HelmetOptions = SECURITY_HEADER_POLICY): Record<string, string> {
  const headers: Record<string, string> = {};
  const res = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  } as unknown as ServerResponse;
  let failed: unknown;
  helmet(policy)({ headers: {} } as IncomingMessage, res, (err?: unknown) => {
    failed = err;
  });
  if (failed) throw failed instanceof Error ? failed : new Error('helmet refused the policy');
  return headers;
}
