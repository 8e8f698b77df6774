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

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * A request's logger, made when first used: a pino child per request (its bindings serialised,
 * redaction set up) is measurable on the hottest routes, and most requests log nothing. Logs
 * still carry the request's bindings (its id); a level below the threshold is a no-op.
 */
export class LazyChildLogger {
  private made: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: pino.Bindings,
    private readonly options: pino.ChildLoggerOptions,
  ) {}

  private get logger(): Logger {
    return (this.made ??= this.parent.child(this.bindings, this.options));
  }

  get level(): string {
    return this.made?.level ?? this.options.level ?? this.parent.level;
  }
  set level(level: string) {
    this.logger.level = level;
  }

  isLevelEnabled(level: string): boolean {
    return this.made ? this.made.isLevelEnabled(level) : this.parent.isLevelEnabled(level);
  }

  child(bindings: pino.Bindings, options?: pino.ChildLoggerOptions): Logger {
    return this.logger.child(bindings, options);
  }

  private log(level: Level, args: unknown[]): void {
    if (!this.isLevelEnabled(level)) return;
    const logger = this.logger;
    logger[level](...(args as Parameters<Logger[Level]>));
  }

  fatal(...args: unknown[]): void {
    this.log('fatal', args);
  }
  error(...args: unknown[]): void {
    this.log('error', args);
  }
  warn(...args: unknown[]): void {
    this.log('warn', args);
  }
  info(...args: unknown[]): void {
    this.log('info', args);
  }
  debug(...args: unknown[]): void {
    this.log('debug', args);
  }
  trace(...args: unknown[]): void {
    this.log('trace', args);
  }
  silent(): void {}
}
