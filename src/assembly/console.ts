/**
 * The operations console (console/ in the repository): a single-page app served at /console from
 * its built bundle, console/dist, which `npm ci` builds (the `prepare` script) and the container
 * image builds in its own stage. Assets carry content hashes and are cached for good; the page
 * itself is never cached, so a release shows at the next load. A missing bundle is a clear 503.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import { AppError } from '../platform/errors.ts';
import { securityHeaders } from '../http/security-headers.ts';

export const CONSOLE_DIR = fileURLToPath(new URL('../../console/dist/', import.meta.url));

export interface ConsoleOptions {
  /** The built bundle (CONSOLE_DIR unless a test points elsewhere). */
  dir: string;
  /** Origins besides the console's own that it loads images from (the app's public URL, a CDN). */
  imageOrigins: string[];
  /** Origins it sends requests to besides its own (the object store's presigned uploads). */
  connectOrigins: string[];
}

/** The headers of the console's pages: helmet's set with a policy that lets the app run, and nothing else. */
export function consoleHeaders(o: Pick<ConsoleOptions, 'imageOrigins' | 'connectOrigins'>) {
  return securityHeaders({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        // React sets style attributes (bar heights): those, and no inline <style> element.
        styleSrc: ["'self'"],
        styleSrcAttr: ["'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'blob:', ...o.imageOrigins],
        connectSrc: ["'self'", ...o.connectOrigins],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
        upgradeInsecureRequests: null,
      },
    },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    referrerPolicy: { policy: 'no-referrer' },
  });
}

/** Serves the bundle under /console (its headers are set with the server's, from {@link consoleHeaders}). */
export async function registerConsole(app: FastifyInstance, o: Pick<ConsoleOptions, 'dir'>): Promise<void> {
  const built = existsSync(`${o.dir}/index.html`);
  await app.register(async (scope) => {
    if (!built) {
      const notBuilt = () => {
        throw new AppError(
          'unavailable',
          'console_not_built',
          'The console is not built: run `npm run build:console` (npm ci builds it)',
        );
      };
      scope.get('/console', { schema: { hide: true } }, notBuilt);
      scope.get('/console/*', { schema: { hide: true } }, notBuilt);
      return;
    }
    await scope.register(fastifyStatic, {
      root: o.dir,
      prefix: '/console/',
      index: false,
      wildcard: false,
      decorateReply: true,
      cacheControl: false, // set below: immutable assets, a page never cached
      setHeaders: (res, file) => {
        res.setHeader(
          'cache-control',
          file.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
      },
    });
    // Every other path under /console is a page of the app (its router draws it); a missing asset is a 404.
    const page = (request: FastifyRequest, reply: FastifyReply) => {
      if (request.url.startsWith('/console/assets/')) throw AppError.notFound('Asset');
      return reply.header('cache-control', 'no-cache').sendFile('index.html');
    };
    scope.get('/console', { schema: { hide: true } }, page);
    scope.get('/console/*', { schema: { hide: true } }, page);
  });
}
