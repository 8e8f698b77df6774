/**
 * The HTTP client of the deliveries: undici with a connector that refuses internal addresses at
 * connection time (src/platform/net/public-address.ts: every address a name resolves to must be
 * public, and the socket's remote address is checked again once connected). Redirects are never followed (a 3xx is a failed attempt),
 * the whole exchange has a deadline, and only the first bytes of the answer are read.
 */
import { request, type Agent } from 'undici';
import { publicOnlyAgent, refuseInternalLiteral, type Resolver } from '../../platform/net/public-address.ts';

export interface SendResult {
  status: number | null;
  durationMs: number;
  /** The first bytes of the answer (at most `responseMaxBytes`), as text. */
  response: string | null;
  error: string | null;
}

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
    this.agent = publicOnlyAgent({
      timeoutMs: options.timeoutMs,
      allowPrivate: options.allowPrivate,
      connections: options.connectionsPerOrigin,
      resolve: options.resolve,
    });
  }

  /** POSTs `body` to `url` with `headers`; never throws (the outcome says what happened). */
  async post(url: string, headers: Record<string, string>, body: string): Promise<SendResult> {
    const started = performance.now();
    const took = () => Math.round(performance.now() - started);
    try {
      refuseInternalLiteral(url, this.options.allowPrivate);
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
