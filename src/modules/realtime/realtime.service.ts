/**
 * Real-time stock: every committed stock movement is published on `inventory:updates` (the
 * document's channel and payload); every API process subscribes and forwards each update to its
 * WebSocket clients subscribed to `inventory:<productId>`.
 */
import type { Logger } from 'pino';
import type { PubSub } from '../../platform/pubsub/pubsub.ts';
import type { StockLevel } from '../inventory/inventory.service.ts';

export const INVENTORY_CHANNEL = 'inventory:updates';

export interface InventoryUpdate {
  productId: string;
  /** The product's free units over all its variants. */
  availableQuantity: number;
  /** The variants whose stock changed, with their free units. */
  variants: { variantId: string; availableQuantity: number }[];
}

/** What the service needs of a client connection (a WebSocket, or a test double of one). */
export interface Client {
  send(data: string): void;
  /** Bytes queued and not yet written; too many means the client is not keeping up. */
  readonly bufferedAmount: number;
  close(code: number, reason: string): void;
}

export const MAX_SUBSCRIPTIONS_PER_CLIENT = 100;
/** A client further behind than this is dropped rather than allowed to grow memory. */
export const MAX_BUFFERED_BYTES = 1024 * 1024;

export class RealtimeService {
  private readonly subscribers = new Map<string, Set<Client>>(); // channel -> clients
  private readonly channelsOf = new Map<Client, Set<string>>();
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(private readonly deps: { pubsub: PubSub; logger: Logger }) {}

  async start(): Promise<void> {
    this.unsubscribe = await this.deps.pubsub.subscribe(INVENTORY_CHANNEL, (message) =>
      this.dispatch(message),
    );
  }

  /** After commit: tells every instance about the new levels. Publishing failures are logged only. */
  publishStock(levels: StockLevel[]): void {
    for (const l of levels) {
      const update: InventoryUpdate = {
        productId: l.productId,
        availableQuantity: l.availableQuantity,
        variants: l.variants.map((v) => ({ variantId: v.variantId, availableQuantity: v.availableQuantity })),
      };
      this.deps.pubsub.publish(INVENTORY_CHANNEL, JSON.stringify(update)).catch((err: unknown) => {
        this.deps.logger.warn({ err }, 'could not publish an inventory update');
      });
    }
  }

  /** Subscribes a client to `inventory:<uuid>` channels; returns the ones refused and why. */
  subscribe(
    client: Client,
    channels: string[],
  ): { accepted: string[]; rejected: { channel: string; reason: string }[] } {
    const mine = this.channelsOf.get(client) ?? new Set<string>();
    this.channelsOf.set(client, mine);
    const accepted: string[] = [];
    const rejected: { channel: string; reason: string }[] = [];
    for (const channel of channels) {
      if (!/^inventory:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(channel)) {
        rejected.push({ channel, reason: 'unknown_channel' });
      } else if (!mine.has(channel) && mine.size >= MAX_SUBSCRIPTIONS_PER_CLIENT) {
        rejected.push({ channel, reason: 'too_many_subscriptions' });
      } else {
        mine.add(channel);
        let set = this.subscribers.get(channel);
        if (!set) this.subscribers.set(channel, (set = new Set()));
        set.add(client);
        accepted.push(channel);
      }
    }
    return { accepted, rejected };
  }

  unsubscribeChannels(client: Client, channels: string[]): void {
    for (const channel of channels) {
      this.channelsOf.get(client)?.delete(channel);
      const set = this.subscribers.get(channel);
      set?.delete(client);
      if (set?.size === 0) this.subscribers.delete(channel);
    }
  }

  disconnect(client: Client): void {
    this.unsubscribeChannels(client, [...(this.channelsOf.get(client) ?? [])]);
    this.channelsOf.delete(client);
  }

  get clientCount(): number {
    return this.channelsOf.size;
  }

  private dispatch(message: string): void {
    let update: InventoryUpdate;
    try {
      update = JSON.parse(message) as InventoryUpdate;
    } catch {
      return;
    }
    const channel = `inventory:${update.productId}`;
    const payload = JSON.stringify({
      channel,
      productId: update.productId,
      availableQuantity: update.availableQuantity,
      variants: update.variants ?? [],
    });
    for (const client of this.subscribers.get(channel) ?? []) {
      if (client.bufferedAmount > MAX_BUFFERED_BYTES) {
        this.disconnect(client);
        client.close(1013, 'too slow: reconnect and resubscribe');
        continue;
      }
      client.send(payload);
    }
  }

  async stop(): Promise<void> {
    await this.unsubscribe?.();
    for (const client of [...this.channelsOf.keys()]) client.close(1001, 'server shutting down');
    this.channelsOf.clear();
    this.subscribers.clear();
  }
}
