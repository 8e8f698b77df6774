import pino, { type Logger } from 'pino';

/** Paths whose rest names a user's file (its key carries the file name they chose). */
const PRIVATE_PATHS = /^(\/storage\/[^/?]+|\/store\/uploads)\/[^?]*/;

/**
 * A URL as logs may show it: query values dropped (signed links carry signatures, searches carry
 * what people typed), and the keys of user files cut off.
 */
export function loggableUrl(url: string): string {
  const q = url.indexOf('?');
  let path = q === -1 ? url : url.slice(0, q);
  path = path.replace(PRIVATE_PATHS, '$1/[redacted]');
  if (q === -1) return path;
  const names = url
    .slice(q + 1)
    .split('&')
    .filter(Boolean)
    .map((p) => p.split('=')[0]);
  return `${path}?${names.join('&')}`;
}

/**
 * JSON logs (pino). Credentials, cookies and idempotency keys are redacted; requests are logged
 * by method and a URL without query values or file names, and without the client's address:
 * personal data is never logged.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'shopflow' },
      serializers: {
        req: (req: { method?: string; url?: string }) => ({
          method: req.method,
          url: typeof req.url === 'string' ? loggableUrl(req.url) : undefined,
        }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
        err: pino.stdSerializers.err,
      },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'req.headers["idempotency-key"]',
          'res.headers["set-cookie"]',
          '*.password',
          '*.email',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
