/**
 * A TCP proxy the tests control, in front of a real service (PostgreSQL, Redis, RabbitMQ):
 *
 * - `cut()`: every open connection is reset and new ones are refused (a crashed server, a lost
 *   link that the operating system reports at once);
 * - `freeze()`: connections stay open and new ones are accepted, but nothing goes through in
 *   either direction (packets dropped by a broken network: nobody is told anything);
 * - `restore()`: traffic flows again (bytes held during a freeze are delivered, as TCP would).
 */
import net from 'node:net';

interface Link {
  client: net.Socket;
  upstream: net.Socket;
  /** Bytes held during a freeze, per direction. */
  held: { toUpstream: Buffer[]; toClient: Buffer[] };
}

export class TcpProxy {
  private server: net.Server | undefined;
  private readonly links = new Set<Link>();
  private frozen = false;
  /** Connections accepted so far (a test can see that clients reconnected). */
  accepted = 0;

  private constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  static async start(target: { host: string; port: number }, port = 0): Promise<TcpProxy> {
    const proxy = new TcpProxy(port, target);
    await proxy.listen();
    return proxy;
  }

  /** `url` with its host and port replaced by this proxy's. */
  via(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((client) => this.accept(client));
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        (this as { port: number }).port = (server.address() as net.AddressInfo).port;
        this.server = server;
        resolve();
      });
    });
  }

  private accept(client: net.Socket): void {
    this.accepted++;
    const upstream = net.connect(this.target.port, this.target.host);
    const link: Link = { client, upstream, held: { toUpstream: [], toClient: [] } };
    this.links.add(link);
    const end = () => {
      this.links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      s.on('error', end);
      s.on('close', end);
    }
    client.on('data', (d) => (this.frozen ? link.held.toUpstream.push(d) : upstream.write(d)));
    upstream.on('data', (d) => (this.frozen ? link.held.toClient.push(d) : client.write(d)));
  }

  /** Resets every connection and refuses new ones until {@link restore}. */
  async cut(): Promise<void> {
    this.frozen = false;
    const server = this.server;
    this.server = undefined;
    const closed = server ? new Promise((r) => server.close(r)) : Promise.resolve();
    for (const l of this.links) {
      l.client.resetAndDestroy();
      l.upstream.destroy();
    }
    this.links.clear();
    await closed;
  }

  /** Lets nothing through, and tells nobody, until {@link restore}. */
  freeze(): void {
    this.frozen = true;
  }

  /** Accepts connections again and delivers what a freeze held back. */
  async restore(): Promise<void> {
    if (this.frozen) {
      this.frozen = false;
      for (const l of this.links) {
        for (const d of l.held.toUpstream.splice(0)) l.upstream.write(d);
        for (const d of l.held.toClient.splice(0)) l.client.write(d);
      }
    }
    if (!this.server) await this.listen();
  }

  async close(): Promise<void> {
    await this.cut();
  }
}
