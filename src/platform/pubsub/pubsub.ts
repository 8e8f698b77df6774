/** Publish/subscribe between API processes (real-time updates). */
import { EventEmitter } from 'node:events';
import { closeRedis, type RedisClient } from '../redis/client.ts';

export type MessageHandler = (message: string) => void;

export interface PubSub {
  publish(channel: string, message: string): Promise<void>;
  /** Returns an unsubscribe function. */
  subscribe(channel: string, handler: MessageHandler): Promise<() => Promise<void>>;
  /** True while subscriptions receive every message published. */
  available(): boolean;
  /**
   * Called with false when subscriptions may be missing messages (connection lost) and with true
   * once they receive everything again.
   */
  onAvailability(listener: (up: boolean) => void): void;
  close(): Promise<void>;
}

/** In-process pub/sub: the embedded default (one process sees its own messages only). */
export class LocalPubSub implements PubSub {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  publish(channel: string, message: string): Promise<void> {
    this.emitter.emit(channel, message);
    return Promise.resolve();
  }

  subscribe(channel: string, handler: MessageHandler): Promise<() => Promise<void>> {
    this.emitter.on(channel, handler);
    return Promise.resolve(() => {
      this.emitter.off(channel, handler);
      return Promise.resolve();
    });
  }

  available(): boolean {
    return true;
  }

  onAvailability(): void {
    // In-process delivery is never interrupted.
  }

  close(): Promise<void> {
    this.emitter.removeAllListeners();
    return Promise.resolve();
  }
}

/**
 * Redis pub/sub: every API process subscribes, so a change published through any instance reaches
 * the WebSocket clients of all. In cluster mode PUBLISH is broadcast across the cluster.
 * ioredis re-subscribes by itself after a reconnect.
 */
export class RedisPubSub implements PubSub {
  private readonly handlers = new Map<string, Set<MessageHandler>>();

  constructor(
    private readonly publisher: RedisClient,
    private readonly subscriber: RedisClient,
    /** Put before every channel name (ioredis's keyPrefix covers keys, not channels). */
    private readonly channelPrefix = '',
  ) {
    subscriber.on('message', (channel: string, message: string) => {
      for (const h of this.handlers.get(channel) ?? []) h(message);
    });
    subscriber.on('close', () => this.setAvailable(false));
    // ioredis resubscribes on 'ready'; a PING answered after that proves the subscriptions are back.
    subscriber.on('ready', () => {
      subscriber.ping().then(
        () => this.setAvailable(subscriber.status === 'ready'),
        () => undefined,
      );
    });
  }

  private up = false;
  private readonly availabilityListeners: ((up: boolean) => void)[] = [];

  available(): boolean {
    return this.up && this.subscriber.status === 'ready';
  }

  onAvailability(listener: (up: boolean) => void): void {
    this.availabilityListeners.push(listener);
  }

  private setAvailable(up: boolean): void {
    if (up === this.up) return;
    this.up = up;
    for (const l of this.availabilityListeners) l(up);
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.publisher.publish(this.channelPrefix + channel, message);
  }

  async subscribe(name: string, handler: MessageHandler): Promise<() => Promise<void>> {
    const channel = this.channelPrefix + name;
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      await this.subscriber.subscribe(channel);
    }
    set.add(handler);
    return async () => {
      set.delete(handler);
      if (set.size === 0 && this.handlers.get(channel) === set) {
        this.handlers.delete(channel);
        await this.subscriber.unsubscribe(channel).catch(() => undefined);
      }
    };
  }

  async close(): Promise<void> {
    this.handlers.clear();
    await closeRedis(this.subscriber);
  }
}
