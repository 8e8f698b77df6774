/**
 * GETs a file at a URL someone typed (an image URL of a catalog import), safely: public addresses
 * only, checked at connection time (public-address.ts), `http`/`https` only and no credentials in
 * the URL, at most a few redirects (each one checked the same way), a deadline for the whole
 * exchange, a content type the caller accepts (judged from the header, before the body is read)
 * and a byte limit (the body is dropped as soon as it passes it).
 */
import type { Readable } from 'node:stream';
import { request, type Agent } from 'undici';
import { publicOnlyAgent, refuseInternalLiteral, type Resolver } from './public-address.ts';

/** Why a fetch failed, in words an operator can act on (no internal detail). */
export class FetchFailure extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'FetchFailure';
  }
}

export interface FetchedFile {
  body: Buffer;
  /** The media type of the answer (without parameters, lower case). */
  contentType: string;
}

/** Whether `text` is an absolute `http`/`https` URL without credentials (what {@link PublicFetcher} takes). */
export function isFetchableUrl(text: string): boolean {
  if (text.length > 2048) return false;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && !url.username && !url.password;
}

export class PublicFetcher {
  private readonly agent: Agent;

  constructor(
    private readonly options: {
      /** The whole exchange, redirects included. */
      timeoutMs: number;
      /** Redirects followed (each target checked like the first URL). */
      maxRedirects: number;
      /** `true`: private and loopback addresses are allowed (development and tests only). */
      allowPrivate: boolean;
      userAgent: string;
      resolve?: Resolver;
    },
  ) {
    this.agent = publicOnlyAgent({
      timeoutMs: options.timeoutMs,
      allowPrivate: options.allowPrivate,
      connections: 4,
      resolve: options.resolve,
    });
  }

  /** The file at `url`; a {@link FetchFailure} saying why not. */
  async get(
    url: string,
    limits: { maxBytes: number; accept: (contentType: string) => boolean },
  ): Promise<FetchedFile> {
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    try {
      return await this.follow(url, limits, signal);
    } catch (err) {
      if (err instanceof FetchFailure) throw err;
      const e = err as Error & { code?: string };
      if (
        e.name === 'TimeoutError' ||
        e.code === 'UND_ERR_HEADERS_TIMEOUT' ||
        e.code === 'UND_ERR_BODY_TIMEOUT' ||
        e.code === 'UND_ERR_CONNECT_TIMEOUT'
      )
        throw new FetchFailure(`timed out after ${this.options.timeoutMs} ms`);
      if (e.name === 'BlockedAddressError') throw new FetchFailure(e.message);
      throw new FetchFailure(`could not be fetched (${(e.code ?? e.message).slice(0, 100)})`);
    }
  }

  private async follow(
    first: string,
    limits: { maxBytes: number; accept: (contentType: string) => boolean },
    signal: AbortSignal,
  ): Promise<FetchedFile> {
    let url = first;
    for (let hop = 0; ; hop++) {
      if (!isFetchableUrl(url)) throw new FetchFailure('not an http(s) URL without credentials');
      refuseInternalLiteral(url, this.options.allowPrivate);
      const res = await request(url, {
        method: 'GET',
        headers: { 'user-agent': this.options.userAgent, accept: 'image/*' },
        dispatcher: this.agent,
        signal,
      });
      const location = res.headers.location;
      if (res.statusCode >= 300 && res.statusCode < 400 && typeof location === 'string') {
        discard(res.body);
        if (hop >= this.options.maxRedirects)
          throw new FetchFailure(`more than ${this.options.maxRedirects} redirects`);
        url = new URL(location, url).toString();
        continue;
      }
      if (res.statusCode !== 200) {
        discard(res.body);
        throw new FetchFailure(`answered HTTP ${res.statusCode}`);
      }
      const header = res.headers['content-type'];
      const contentType = (typeof header === 'string' ? header : '').split(';')[0]!.trim().toLowerCase();
      if (!limits.accept(contentType)) {
        discard(res.body);
        throw new FetchFailure(`content type ${contentType.slice(0, 100) || '(none)'} is not accepted`);
      }
      const declared = Number(res.headers['content-length']);
      if (declared > limits.maxBytes) {
        discard(res.body);
        throw new FetchFailure(`larger than ${limits.maxBytes} bytes`);
      }
      return { body: await readAtMost(res.body, limits.maxBytes), contentType };
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

async function readAtMost(body: Readable, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > max) throw new FetchFailure(`larger than ${max} bytes`);
      chunks.push(chunk);
    }
  } finally {
    discard(body);
  }
  return Buffer.concat(chunks);
}

/** Drops an answer's body (and its connection): the abort this raises on the stream is expected. */
function discard(body: { on(event: 'error', f: () => void): unknown; destroy(): unknown }): void {
  body.on('error', () => {});
  body.destroy();
}
