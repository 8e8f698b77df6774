import pino, { type Logger } from 'pino';

/** JSON logs (pino). Credentials and cookies are redacted; personal data is never logged. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'shopflow' },
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
